import { CodexError } from '@codex/security-profile';
import { assessBias, type BiasOptionsInput, checkDomain, type DomainListsInput } from './bias.js';
import { type ContradictionOptions, findContradictions } from './contradictions.js';
import { type DedupOptionsInput, dedupe } from './dedup.js';
import { NoSourcesError } from './errors.js';
import type { SearchHit, SearchProvider, SourceDocument } from './providers/types.js';
import { type RankOptions, rankPassages } from './rank.js';
import type { ReportSkip, ResearchReport } from './report.js';
import { subQueries } from './subqueries.js';

export type ResearchStage =
  | 'sub-queries'
  | 'search'
  | 'fetch'
  | 'dedup'
  | 'bias'
  | 'rank'
  | 'contradictions'
  | 'report';

export interface ResearchOptions {
  readonly providers: readonly SearchProvider[];
  /** Most sub-queries. Default 3. */
  readonly depth?: number;
  /** Most sources kept after de-duplication. Default 10. */
  readonly maxSources?: number;
  /** Hits asked of each provider per sub-query. Default: 2 × maxSources. */
  readonly hitsPerQuery?: number;
  /** Fetches in flight at once (per-host politeness is the HTTP client's job). Default 4. */
  readonly concurrency?: number;
  readonly dedup?: DedupOptionsInput;
  readonly bias?: BiasOptionsInput;
  readonly domains?: DomainListsInput;
  readonly rank?: RankOptions;
  readonly contradictions?: ContradictionOptions;
  /** Documents with fewer characters of main text are skipped. Default 80. */
  readonly minTextChars?: number;
  /** Called at each stage; the CLI prints it on stderr when that is a TTY. */
  readonly onProgress?: (stage: ResearchStage, detail: string) => void;
  /** Clock for `generatedAt`. */
  readonly now?: () => Date;
}

function normaliseUrl(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    return u.href;
  } catch {
    return url;
  }
}

function skipOf(url: string, error: unknown): ReportSkip {
  if (error instanceof CodexError) return { url, code: error.code, message: error.message };
  return {
    url,
    code: 'RESEARCH_FETCH_FAILED',
    message: error instanceof Error ? error.message : String(error),
  };
}

/**
 * The research pipeline: question → sub-queries → search → fetch and extract → dedup → bias →
 * rank passages → contradictions → report (JSON form; render with `renderMarkdown`).
 */
export async function research(question: string, options: ResearchOptions): Promise<ResearchReport> {
  const progress = options.onProgress ?? (() => {});
  const maxSources = options.maxSources ?? 10;
  const minTextChars = options.minTextChars ?? 80;
  if (options.providers.length === 0) throw new NoSourcesError(question, 'no provider configured');

  const queries = subQueries(question, options.depth ?? 3);
  progress('sub-queries', queries.join(' | '));

  // Search: every provider, every sub-query; hits interleaved by rank so each query contributes.
  const perQuery: SearchHit[][] = [];
  const skipped: ReportSkip[] = [];
  for (const provider of options.providers) {
    for (const q of queries) {
      try {
        perQuery.push(await provider.search(q, { limit: options.hitsPerQuery ?? maxSources * 2 }));
      } catch (error) {
        if (!(error instanceof CodexError) || error.code === 'RESEARCH_NETWORK_DENIED') throw error;
        skipped.push(skipOf(`${provider.name}:${q}`, error));
      }
    }
  }
  const hits: SearchHit[] = [];
  const seen = new Set<string>();
  for (let rank = 0; perQuery.some((list) => rank < list.length); rank++) {
    for (const list of perQuery) {
      const hit = list[rank];
      if (!hit) continue;
      const key = normaliseUrl(hit.url);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        checkDomain(hit.url, options.domains);
        hits.push(hit);
      } catch (error) {
        skipped.push(skipOf(hit.url, error));
      }
    }
  }
  progress('search', `${hits.length} distinct hits`);

  // Fetch in rank order until 2 × maxSources usable documents (dedup may remove some).
  const byProvider = new Map(options.providers.map((p) => [p.name, p]));
  const docs: (SourceDocument | undefined)[] = new Array(hits.length);
  const want = maxSources * 2;
  let next = 0;
  let usable = 0;
  const worker = async () => {
    while (next < hits.length && usable < want) {
      const i = next++;
      const hit = hits[i]!;
      try {
        const doc = await byProvider.get(hit.provider)!.fetch(hit);
        if (doc.text.trim().length < minTextChars) {
          skipped.push({ url: hit.url, code: 'RESEARCH_NO_TEXT', message: 'too little main text' });
          continue;
        }
        docs[i] = doc;
        usable++;
        progress('fetch', `${usable} fetched (${hit.url})`);
      } catch (error) {
        if (error instanceof CodexError && error.code === 'RESEARCH_NETWORK_DENIED') throw error;
        skipped.push(skipOf(hit.url, error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  const fetched = docs.filter((d): d is SourceDocument => d !== undefined);
  if (fetched.length === 0) {
    const why =
      skipped.length > 0 ? `${skipped.length} failed (first: ${skipped[0]!.message})` : 'no search hits';
    throw new NoSourcesError(question, why);
  }

  const dd = dedupe(
    fetched.map((d) => d.text),
    options.dedup,
  );
  const keptIdx = dd.kept.slice(0, maxSources);
  const sources = keptIdx.map((i) => fetched[i]!);
  const citeOf = new Map(keptIdx.map((docIndex, k) => [docIndex, k + 1]));
  const duplicates = fetched
    .map((d, i) => ({ d, i, rep: dd.representative[i]! }))
    .filter((x) => x.rep !== x.i && citeOf.has(x.rep))
    .map((x) => ({
      url: x.d.url,
      duplicateOf: citeOf.get(x.rep)!,
      jaccard: dd.pairs.find((p) => p.a === x.i || p.b === x.i)?.jaccard ?? 0,
    }));
  progress('dedup', `${fetched.length - dd.kept.length} near-duplicates removed`);

  const assessed = assessBias(
    sources.map((s) => s.domain),
    options.bias,
  );
  // Domain bias is about the web: a local corpus is the user's own choice of documents, so its
  // shares are reported but never warned about.
  const localOnly = sources.length > 0 && sources.every((s) => s.domain.startsWith('local:'));
  const bias = localOnly ? { ...assessed, warnings: [] } : assessed;
  progress('bias', `diversity ${bias.diversity.toFixed(2)}, ${bias.warnings.length} warnings`);

  const ranked = rankPassages(
    question,
    sources.map((s) => s.text),
    options.rank,
  );
  progress('rank', `${ranked.length} passages`);

  const contradictions = findContradictions(ranked, options.contradictions);
  progress('contradictions', `${contradictions.length} candidates`);

  const report: ResearchReport = {
    question,
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    providers: options.providers.map((p) => p.name),
    subQueries: queries,
    sources: sources.map((s, k) => ({
      n: k + 1,
      url: s.url,
      title: s.title,
      domain: s.domain,
      provider: s.provider,
      fromCache: s.fromCache,
    })),
    findings: ranked.map((p) => ({ cite: p.source + 1, text: p.text, score: p.score, matched: p.matched })),
    duplicates,
    bias,
    contradictions: contradictions.map((c) => ({
      kind: c.kind,
      detail: c.detail,
      a: { cite: c.a.source + 1, sentence: c.a.sentence },
      b: { cite: c.b.source + 1, sentence: c.b.sentence },
    })),
    skipped,
    stats: {
      hits: hits.length,
      fetched: fetched.length,
      duplicatesRemoved: fetched.length - dd.kept.length,
      dedup: dd.stats,
      cacheHits: fetched.filter((d) => d.fromCache).length,
    },
  };
  progress('report', `${report.sources.length} sources cited`);
  return report;
}
