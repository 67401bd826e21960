// An evaluation in words, for people: the decision and why, and with `explain` every parsed
// segment with its reasons and writes, then the rules that matched (what `codex policy check`
// and `codex policy explain` print). Markup goes through a `Styler`.
import { plainText, type Styler, type TextStyle } from '@codex/security-profile';
import type { Decision, Evaluation, SegmentEvaluation } from './types.js';

const MARK: Record<Decision, string> = { allow: '✓', prompt: '?', forbidden: '✗' };
const TONE: Record<Decision, TextStyle> = { allow: 'ok', prompt: 'warning', forbidden: 'error' };

/** A segment as a person would type it: plain words bare, anything else quoted. */
function shown(s: SegmentEvaluation): string {
  const text =
    s.argv.length > 0
      ? s.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')
      : s.text;
  return text.replace(/\s+/g, ' ');
}

function describeSegments(r: Evaluation, style: Styler): string[] {
  const lines = ['Segments:'];
  for (const s of r.segments) {
    const indent = '  '.repeat(s.depth + 1);
    lines.push(`${indent}${MARK[s.decision]} ${style(TONE[s.decision], s.decision.padEnd(9))} ${shown(s)}`);
    for (const reason of s.reasons) lines.push(`${indent}    ${style('dim', reason)}`);
    for (const w of s.writes) lines.push(`${indent}    writes ${w}`);
  }
  return lines;
}

/**
 * The decision (styled) with the profile, then each reason; with `explain`, also every segment
 * (indented by nesting depth) and every matched rule with its layer, source and justification.
 */
export function describeEvaluation(r: Evaluation, explain = false, style: Styler = plainText): string[] {
  const lines = [
    `${style(TONE[r.decision], r.decision)} (profile ${r.profile})`,
    ...r.reasons.map((x) => `  ${x}`),
  ];
  if (!explain) return lines;
  lines.push('', ...describeSegments(r, style), '');
  if (r.matchedRules.length === 0) return [...lines, 'Matched rules: none'];
  lines.push('Matched rules:');
  for (const m of r.matchedRules)
    lines.push(`  ${m.id} [${m.layer}: ${m.source}] → ${m.decision}`, `    ${m.justification}`);
  return lines;
}
