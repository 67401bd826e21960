import { keywords } from './text.js';

/**
 * Deterministic sub-queries for a question (no language model): the question itself, its content
 * words, each clause split on "and"/"or"/"vs"/commas/semicolons, then sliding windows of three
 * content words. Duplicates are dropped; at most `depth` queries are returned (depth ≥ 1).
 */
export function subQueries(question: string, depth = 3): string[] {
  const q = question.trim().replace(/\s+/g, ' ');
  const out: string[] = [];
  const add = (s: string) => {
    const t = s.trim();
    if (t.length > 0 && !out.some((o) => o.toLowerCase() === t.toLowerCase())) out.push(t);
  };
  add(q);
  const words = keywords(q);
  add(words.join(' '));
  const clauses = q.split(/\s+(?:and|or|vs\.?|versus)\s+|[,;]/i).map((c) => keywords(c));
  if (clauses.length > 1) for (const c of clauses) if (c.length >= 1) add(c.join(' '));
  for (let i = 0; i + 3 <= words.length; i++) add(words.slice(i, i + 3).join(' '));
  return out.slice(0, Math.max(1, depth));
}
