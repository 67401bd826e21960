import { type DedupOptionsInput, type DedupResult, dedupe, exactJaccard } from './dedup.js';
import { mulberry32, passages } from './text.js';

/** One document of a labelled near-duplicate set. Documents with the same `family` are duplicates. */
export interface LabelledDocument {
  readonly text: string;
  readonly family: number;
  /** How it was made: the original chunk, a light edit, or a hard negative. */
  readonly kind: 'original' | 'light-edit' | 'splice' | 'heavy-edit';
  /** Fraction of words touched by the edit (0 for originals and splices). */
  readonly editRate: number;
}

export interface NearDuplicateSetOptions {
  /** PRNG seed; the same texts and seed give the same set. Default 7. */
  seed?: number;
  /** Characters per base document when chunking the texts. Default 1000 (≈ 1 KB, as in the benchmark). */
  chunkSize?: number;
  /** Base chunks whose exact 5-shingle Jaccard with an earlier chunk is above this are dropped. Default 0.2. */
  maxBaseJaccard?: number;
  /** Light-edit variants per base chunk (labelled duplicates). Default 2. */
  lightVariants?: number;
  /** Range of the word edit rate of light edits. Default [0.01, 0.05]. */
  lightEditRate?: readonly [number, number];
  /** Range of the word edit rate of heavy edits (labelled distinct). Default [0.3, 0.5]. */
  heavyEditRate?: readonly [number, number];
  /** Cap on base chunks (after filtering). Default: no cap. */
  maxBase?: number;
}

type Rng = () => number;

/** Applies random word-level edits (substitute, delete, insert, swap) to `rate` of the words. */
export function editWords(text: string, rate: number, rnd: Rng, vocabulary: readonly string[]): string {
  const words = text.split(/\s+/).filter(Boolean);
  const edits = Math.max(1, Math.round(words.length * rate));
  for (let e = 0; e < edits && words.length > 2; e++) {
    const at = Math.floor(rnd() * words.length);
    const op = rnd();
    const pick = () => vocabulary[Math.floor(rnd() * vocabulary.length)] ?? 'word';
    if (op < 0.4) words[at] = pick();
    else if (op < 0.65) words.splice(at, 1);
    else if (op < 0.9) words.splice(at, 0, pick());
    else if (at + 1 < words.length) [words[at], words[at + 1]] = [words[at + 1]!, words[at]!];
  }
  return words.join(' ');
}

/**
 * Builds a labelled near-duplicate set from real text with controlled edits:
 * - each mutually distinct base chunk is an `original` (its own family);
 * - `lightVariants` copies with 1–5 % of words edited join the original's family (true duplicates);
 * - one `splice` per base (first half of it + second half of the next base; exact Jaccard ≈ 0.3
 *   with each) and one `heavy-edit` (30–50 % of words edited) are new families (hard negatives).
 */
export function makeNearDuplicateSet(
  texts: readonly string[],
  options: NearDuplicateSetOptions = {},
): LabelledDocument[] {
  const rnd = mulberry32(options.seed ?? 7);
  const chunkSize = options.chunkSize ?? 1000;
  const maxBaseJaccard = options.maxBaseJaccard ?? 0.2;
  const [lightLo, lightHi] = options.lightEditRate ?? [0.01, 0.05];
  const [heavyLo, heavyHi] = options.heavyEditRate ?? [0.3, 0.5];
  const lightVariants = options.lightVariants ?? 2;
  const chunks = texts.flatMap((t) => passages(t, chunkSize)).filter((c) => c.length >= chunkSize / 2);
  const base: string[] = [];
  for (const c of chunks) {
    if (options.maxBase !== undefined && base.length >= options.maxBase) break;
    if (base.every((b) => exactJaccard(b, c) <= maxBaseJaccard)) base.push(c);
  }
  const vocabulary = [...new Set(base.join(' ').split(/\s+/))];
  const out: LabelledDocument[] = [];
  let family = 0;
  base.forEach((text, i) => {
    const own = family++;
    out.push({ text, family: own, kind: 'original', editRate: 0 });
    for (let v = 0; v < lightVariants; v++) {
      const rate = lightLo + rnd() * (lightHi - lightLo);
      out.push({
        text: editWords(text, rate, rnd, vocabulary),
        family: own,
        kind: 'light-edit',
        editRate: rate,
      });
    }
    const next = base[(i + 1) % base.length]!;
    if (next !== text) {
      const a = text.split(/\s+/);
      const b = next.split(/\s+/);
      const spliced = [...a.slice(0, Math.floor(a.length / 2)), ...b.slice(Math.floor(b.length / 2))].join(
        ' ',
      );
      out.push({ text: spliced, family: family++, kind: 'splice', editRate: 0 });
    }
    const rate = heavyLo + rnd() * (heavyHi - heavyLo);
    out.push({
      text: editWords(text, rate, rnd, vocabulary),
      family: family++,
      kind: 'heavy-edit',
      editRate: rate,
    });
  });
  // Interleave deterministically so duplicates are not adjacent in input order.
  const order = out.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.map((i) => out[i]!);
}

export interface DedupEvaluation {
  readonly documents: number;
  readonly families: number;
  /** Pairs labelled duplicate (same family). */
  readonly truePairs: number;
  /** Pairs the deduplicator put in the same cluster. */
  readonly predictedPairs: number;
  readonly truePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly result: DedupResult;
}

/** Runs {@link dedupe} on a labelled set and scores its clusters pairwise against the families. */
export function evaluateDedup(
  set: readonly LabelledDocument[],
  options?: DedupOptionsInput,
): DedupEvaluation {
  const result = dedupe(
    set.map((d) => d.text),
    options,
  );
  let truePairs = 0;
  let predictedPairs = 0;
  let truePositives = 0;
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      const label = set[i]!.family === set[j]!.family;
      const predicted = result.representative[i] === result.representative[j];
      if (label) truePairs++;
      if (predicted) predictedPairs++;
      if (label && predicted) truePositives++;
    }
  }
  const precision = predictedPairs === 0 ? 1 : truePositives / predictedPairs;
  const recall = truePairs === 0 ? 1 : truePositives / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    documents: set.length,
    families: new Set(set.map((d) => d.family)).size,
    truePairs,
    predictedPairs,
    truePositives,
    precision,
    recall,
    f1,
    result,
  };
}
