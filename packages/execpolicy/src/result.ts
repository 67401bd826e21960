import type { SecurityProfile } from '@codex/security-profile';
import type { Finding } from './context.js';
import type { Word } from './shell.js';
import {
  type Decision,
  type Evaluation,
  type FindingCause,
  type MatchedRule,
  rank,
  type SegmentEvaluation,
  stricter,
} from './types.js';

/** Building segment evaluations from findings, and summarising segments into one evaluation. */

export function shown(w: Word): string {
  return w.literal ? w.value : w.source;
}

export function controlSegment(text: string, depth = 0): SegmentEvaluation {
  return problemSegment(
    text.slice(0, 80),
    depth,
    'prompt',
    'contains control or invisible characters, which the shell and a reader may see differently',
  );
}

export function problemSegment(
  text: string,
  depth: number,
  decision: Decision,
  reason: string,
): SegmentEvaluation {
  return { argv: [], text, depth, decision, reasons: [reason], causes: ['other'], rules: [], writes: [] };
}

export function makeSegment(
  argv: readonly string[],
  text: string,
  depth: number,
  findings: readonly Finding[],
  rules: readonly MatchedRule[],
  writes: readonly string[],
): SegmentEvaluation {
  let decision: Decision = 'allow';
  for (const f of findings) decision = stricter(decision, f.decision);
  if (findings.length === 0) decision = 'prompt';
  const deciding = findings.filter((f) => f.decision === decision);
  const reasons = deciding.map((f) => f.reason);
  return {
    argv,
    text,
    depth,
    decision,
    reasons: reasons.length > 0 ? reasons : ['no rule decided this command'],
    causes: deciding.length > 0 ? deciding.map((f) => f.cause ?? 'other') : ['other'],
    rules,
    writes,
  };
}

export function summarise(segments: readonly SegmentEvaluation[], profile: SecurityProfile): Evaluation {
  if (segments.length === 1) {
    const s = segments[0]!;
    const reasons =
      s.text && s.decision !== 'allow' ? s.reasons.map((r) => `${r} [${clip(s.text)}]`) : s.reasons;
    return {
      decision: s.decision,
      reasons,
      causes: [...new Set(s.causes)],
      matchedRules: s.rules,
      segments,
      profile,
    };
  }
  let decision: Decision = segments.length === 0 ? 'prompt' : 'allow';
  for (const s of segments) decision = stricter(decision, s.decision);
  const reasons: string[] = [];
  const causes = new Set<FindingCause>();
  const seen = new Set<string>();
  for (const s of segments) {
    if (s.decision !== decision) continue;
    for (const c of s.causes) causes.add(c);
    for (const r of s.reasons) {
      const line = s.text && decision !== 'allow' ? `${r} [${clip(s.text)}]` : r;
      if (!seen.has(line)) {
        seen.add(line);
        reasons.push(line);
      }
    }
  }
  // Matched-rule views are shared objects (one per rule and profile), so identity dedupes them.
  const rules: MatchedRule[] = [];
  const ruleSeen = new Set<MatchedRule>();
  for (const s of segments) {
    for (const r of s.rules) {
      if (!ruleSeen.has(r)) {
        ruleSeen.add(r);
        rules.push(r);
      }
    }
  }
  rules.sort((a, b) => rank(b.decision) - rank(a.decision));
  return { decision, reasons, causes: [...causes], matchedRules: rules, segments, profile };
}

function clip(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 60)}…` : one;
}
