import MiniSearch from 'minisearch';
import { keywords, passages, processSearchTerm } from './text.js';

export interface RankedPassage {
  /** Index of the source in the list handed to {@link rankPassages}. */
  readonly source: number;
  readonly text: string;
  /** BM25+ score against the question (MiniSearch). */
  readonly score: number;
  /** Question terms found in the passage. */
  readonly matched: string[];
}

export interface RankOptions {
  /** Most passages returned. Default 8. */
  readonly maxPassages?: number;
  /** Most passages from one source. Default 2. */
  readonly perSource?: number;
  /** Target passage length in characters. Default 400 (a few sentences, or a few list items). */
  readonly passageChars?: number;
  /** Passages scoring below this fraction of the best passage's score are dropped. Default 0.15 (single-word matches next to a passage matching the whole question are noise). */
  readonly minRelativeScore?: number;
}

/**
 * Splits sources into passages and ranks them against the question with BM25+ (MiniSearch), keeping
 * at most `perSource` per source so one long document cannot fill the report.
 */
export function rankPassages(
  question: string,
  texts: readonly string[],
  options: RankOptions = {},
): RankedPassage[] {
  const maxPassages = options.maxPassages ?? 8;
  const perSource = options.perSource ?? 2;
  const all: { id: number; source: number; text: string }[] = [];
  texts.forEach((t, source) => {
    for (const p of passages(t, options.passageChars ?? 400)) all.push({ id: all.length, source, text: p });
  });
  const terms = keywords(question);
  if (terms.length === 0 || all.length === 0) return [];
  const index = new MiniSearch<{ id: number; source: number; text: string }>({
    fields: ['text'],
    processTerm: processSearchTerm,
  });
  index.addAll(all);
  const results = index.search(terms.join(' '), { combineWith: 'OR' });
  const floor = (results[0]?.score ?? 0) * (options.minRelativeScore ?? 0.15);
  const taken = new Map<number, number>();
  const out: RankedPassage[] = [];
  for (const r of results) {
    if (r.score < floor) break;
    const p = all[r.id as number]!;
    const n = taken.get(p.source) ?? 0;
    if (n >= perSource) continue;
    taken.set(p.source, n + 1);
    out.push({ source: p.source, text: p.text, score: r.score, matched: [...new Set(r.terms)] });
    if (out.length >= maxPassages) break;
  }
  return out;
}
