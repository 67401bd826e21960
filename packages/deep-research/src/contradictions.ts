import { keywords, sentences, tokenize } from './text.js';

export type ContradictionKind = 'negation' | 'number' | 'antonym';

export interface Contradiction {
  readonly kind: ContradictionKind;
  readonly a: { readonly source: number; readonly sentence: string };
  readonly b: { readonly source: number; readonly sentence: string };
  /** Content words both sentences share (why they were compared). */
  readonly shared: string[];
  /** One line: what differs. */
  readonly detail: string;
}

export interface ContradictionOptions {
  /** Content words two sentences must share to be compared. Default 3. */
  readonly minShared?: number;
  /** Jaccard of the two sentences' content-word sets required to compare them. Default 0.3. */
  readonly minOverlap?: number;
  /** Most contradictions reported. Default 10. */
  readonly max?: number;
}

const NEGATIONS = new Set([
  'not',
  'no',
  'never',
  'cannot',
  'none',
  'neither',
  'nor',
  'without',
  'nothing',
  'nobody',
]);
const ANTONYMS: readonly (readonly [string, string])[] = [
  ['enabled', 'disabled'],
  ['enable', 'disable'],
  ['true', 'false'],
  ['allowed', 'denied'],
  ['allow', 'deny'],
  ['increase', 'decrease'],
  ['increases', 'decreases'],
  ['increased', 'decreased'],
  ['supported', 'unsupported'],
  ['safe', 'unsafe'],
  ['required', 'optional'],
  ['secure', 'insecure'],
  ['valid', 'invalid'],
  ['faster', 'slower'],
  ['more', 'less'],
  ['before', 'after'],
  ['deprecated', 'recommended'],
  ['success', 'failure'],
  ['succeeds', 'fails'],
  ['always', 'never'],
];

function negated(tokens: readonly string[]): boolean {
  let count = 0;
  for (const t of tokens) if (NEGATIONS.has(t) || t.endsWith("n't") || t.endsWith('n’t')) count++;
  return count % 2 === 1;
}

/** (number, following word) pairs, e.g. "128 permutations" → ["128", "permutations"]. */
function quantities(tokens: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (/^\d+(?:[.,]\d+)?$/.test(tokens[i]!) && !/^\d/.test(tokens[i + 1]!))
      out.set(tokens[i + 1]!, tokens[i]!);
  }
  return out;
}

/**
 * A lexical contradiction check between passages of different sources. Two sentences are compared
 * when they share enough content words; they are flagged when exactly one is negated, when they give
 * different numbers for the same unit word, or when one uses a word and the other its listed
 * antonym. It finds candidates for a reader to check, not proven contradictions (see the docs).
 */
export function findContradictions(
  items: readonly { source: number; text: string }[],
  options: ContradictionOptions = {},
): Contradiction[] {
  const minShared = options.minShared ?? 3;
  const minOverlap = options.minOverlap ?? 0.3;
  const max = options.max ?? 10;
  const sents = items.flatMap((item) =>
    sentences(item.text).map((s) => {
      const tokens = tokenize(s);
      return { source: item.source, sentence: s, tokens, words: new Set(keywords(s)) };
    }),
  );
  const out: Contradiction[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < sents.length && out.length < max; i++) {
    for (let j = i + 1; j < sents.length && out.length < max; j++) {
      const x = sents[i]!;
      const y = sents[j]!;
      if (x.source === y.source) continue;
      const shared = [...x.words].filter((w) => y.words.has(w));
      const union = x.words.size + y.words.size - shared.length;
      if (shared.length < minShared || union === 0 || shared.length / union < minOverlap) continue;
      const key = `${x.sentence}\u0000${y.sentence}`;
      if (seen.has(key)) continue;
      let kind: ContradictionKind | undefined;
      let detail = '';
      if (negated(x.tokens) !== negated(y.tokens)) {
        kind = 'negation';
        detail = `one statement is negated, the other is not`;
      } else {
        const qx = quantities(x.tokens);
        const qy = quantities(y.tokens);
        for (const [unit, value] of qx) {
          const other = qy.get(unit);
          if (other !== undefined && other !== value) {
            kind = 'number';
            detail = `${value} ${unit} vs ${other} ${unit}`;
            break;
          }
        }
        if (!kind) {
          const tx = new Set(x.tokens);
          const ty = new Set(y.tokens);
          for (const [p, q] of ANTONYMS) {
            if (
              (tx.has(p) && !tx.has(q) && ty.has(q) && !ty.has(p)) ||
              (tx.has(q) && !tx.has(p) && ty.has(p) && !ty.has(q))
            ) {
              kind = 'antonym';
              detail = `"${tx.has(p) ? p : q}" vs "${tx.has(p) ? q : p}"`;
              break;
            }
          }
        }
      }
      if (kind) {
        seen.add(key);
        out.push({
          kind,
          a: { source: x.source, sentence: x.sentence },
          b: { source: y.source, sentence: y.sentence },
          shared,
          detail,
        });
      }
    }
  }
  return out;
}
