import type { BiasReport } from './bias.js';
import type { Contradiction } from './contradictions.js';
import type { DedupStats } from './dedup.js';

export interface ReportSource {
  /** Citation number, from 1. */
  readonly n: number;
  readonly url: string;
  readonly title: string;
  readonly domain: string;
  readonly provider: string;
  readonly fromCache: boolean;
}

export interface ReportFinding {
  /** Citation number of the source. */
  readonly cite: number;
  readonly text: string;
  readonly score: number;
  readonly matched: string[];
}

export interface ReportContradiction {
  readonly kind: Contradiction['kind'];
  readonly detail: string;
  readonly a: { readonly cite: number; readonly sentence: string };
  readonly b: { readonly cite: number; readonly sentence: string };
}

export interface ReportSkip {
  readonly url: string;
  readonly code: string;
  readonly message: string;
}

/** The JSON form of a research report (the Markdown form is rendered from it). */
export interface ResearchReport {
  readonly question: string;
  readonly generatedAt: string;
  readonly providers: string[];
  readonly subQueries: string[];
  readonly sources: ReportSource[];
  readonly findings: ReportFinding[];
  readonly duplicates: { readonly url: string; readonly duplicateOf: number; readonly jaccard: number }[];
  readonly bias: BiasReport;
  readonly contradictions: ReportContradiction[];
  readonly skipped: ReportSkip[];
  readonly stats: {
    readonly hits: number;
    readonly fetched: number;
    readonly duplicatesRemoved: number;
    readonly dedup: DedupStats;
    readonly cacheHits: number;
  };
}

function quote(text: string, max = 400): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= max ? t : `${t.slice(0, max - 1).replace(/\s+\S*$/, '')}…`;
}

/** Escapes what could turn source text into links or raw HTML in a Markdown viewer. */
function escapeMd(text: string): string {
  return text
    .replace(/([[\]])/g, '\\$1')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Renders a report as Markdown with numbered citations `[n]` resolving to the Sources list. */
export function renderMarkdown(r: ResearchReport): string {
  const lines: string[] = [];
  lines.push(`# ${escapeMd(r.question)}`, '');
  lines.push(
    `_${r.sources.length} source${r.sources.length === 1 ? '' : 's'} via ${r.providers.join(', ')}; ` +
      `${r.stats.duplicatesRemoved} near-duplicate${r.stats.duplicatesRemoved === 1 ? '' : 's'} removed; ` +
      `generated ${r.generatedAt}._`,
    '',
  );
  lines.push('## Findings', '');
  if (r.findings.length === 0) lines.push('No passage of the sources matched the question.', '');
  for (const f of r.findings) lines.push(`- ${escapeMd(quote(f.text))} [${f.cite}]`);
  if (r.findings.length > 0) lines.push('');
  lines.push('## Possible contradictions', '');
  if (r.contradictions.length === 0) {
    lines.push(
      'None found by the lexical check (negation, numbers, antonyms); that is not proof of agreement.',
      '',
    );
  } else {
    for (const c of r.contradictions) {
      lines.push(`- **${c.kind}** (${escapeMd(c.detail)}):`);
      lines.push(`  - "${escapeMd(quote(c.a.sentence, 240))}" [${c.a.cite}]`);
      lines.push(`  - "${escapeMd(quote(c.b.sentence, 240))}" [${c.b.cite}]`);
    }
    lines.push('');
  }
  lines.push('## Source diversity', '');
  lines.push(
    `Diversity score ${r.bias.diversity.toFixed(2)} (1 = every source from a different domain), ` +
      `${r.bias.domains.length} domain${r.bias.domains.length === 1 ? '' : 's'}, ` +
      `effective ${r.bias.effectiveDomains.toFixed(1)}.`,
    '',
  );
  for (const w of r.bias.warnings) lines.push(`> **Warning:** ${escapeMd(w)}`, '');
  lines.push('| Domain | Sources | Share |', '| --- | ---: | ---: |');
  for (const d of r.bias.domains)
    lines.push(`| ${d.domain} | ${d.count} | ${(d.share * 100).toFixed(1)} % |`);
  lines.push('');
  lines.push('## Sources', '');
  for (const s of r.sources) {
    lines.push(
      `${s.n}. [${escapeMd(s.title || s.url)}](<${s.url.replace(/[<>\s]/g, encodeURIComponent)}>) (${s.domain})`,
    );
  }
  lines.push('');
  if (r.duplicates.length > 0 || r.skipped.length > 0) {
    lines.push('## Left out', '');
    for (const d of r.duplicates) {
      lines.push(`- ${d.url}: near-duplicate of [${d.duplicateOf}] (Jaccard ≈ ${d.jaccard.toFixed(2)})`);
    }
    for (const s of r.skipped) lines.push(`- ${s.url}: ${s.code}`);
    lines.push('');
  }
  lines.push('## Method', '');
  lines.push(`Sub-queries: ${r.subQueries.map((q) => `"${escapeMd(q)}"`).join(', ')}.`, '');
  return `${lines.join('\n').trimEnd()}\n`;
}
