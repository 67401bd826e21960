import * as z from '@codex/security-profile/zod';
import { ResearchConfigError } from './errors.js';
import { parseOptions } from './options.js';
import { fmix32, mulberry32, tokenHashes, tokenize } from './text.js';

/**
 * Hybrid near-duplicate detection: candidates from MinHash LSH banding (sub-quadratic), a 64-bit
 * SimHash Hamming check as a cheap coarse filter on each candidate, and the MinHash Jaccard estimate
 * as the precise check. Every default is explained in docs/deep-research.md.
 */
export const dedupOptionsSchema = z
  .object({
    /** Words per shingle. Default 5: the plan's value; word 5-grams keep 1-word edits local (≤5 shingles). */
    shingleSize: z.number().int().min(1).max(32).default(5),
    /** MinHash permutations. Default 128 (the plan's value): standard error of the estimate 1/√128 ≈ 0.088. */
    numPerm: z.number().int().min(8).max(1024).default(128),
    /** LSH bands; rows per band = numPerm / bands. Default 32×4: S-curve threshold (1/32)^(1/4) ≈ 0.42. */
    bands: z.number().int().min(1).default(32),
    /** Estimated Jaccard at or above which two documents are near-duplicates. Default 0.5. */
    jaccardThreshold: z.number().min(0).max(1).default(0.5),
    /** Largest SimHash Hamming distance (of 64 bits) that passes the coarse filter. Default 16. */
    simhashMaxHamming: z.number().int().min(0).max(64).default(16),
    /** Most earlier members of one LSH bucket a document is compared with (bounds work on huge buckets). */
    maxBucketComparisons: z.number().int().min(1).default(16),
    /** Seed of the MinHash permutations (fixed so runs are reproducible). */
    seed: z.number().int().default(1),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.numPerm % o.bands !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['bands'],
        message: `must divide numPerm (${o.numPerm}) evenly; got ${o.bands}`,
      });
    }
  });

export type DedupOptions = z.output<typeof dedupOptionsSchema>;
export type DedupOptionsInput = z.input<typeof dedupOptionsSchema>;

export function resolveDedupOptions(input?: DedupOptionsInput): DedupOptions {
  return parseOptions(dedupOptionsSchema, input, 'dedup options');
}

/** Fingerprints of a batch of documents, in flat typed arrays. */
export interface Fingerprints {
  readonly count: number;
  readonly numPerm: number;
  /**
   * `count * numPerm` MinHash values (as signed 32-bit: the minimum is taken in signed order, which
   * is just another fixed ordering and keeps V8 on small-integer arithmetic); document i's
   * signature is `[i*numPerm, (i+1)*numPerm)`.
   */
  readonly signatures: Int32Array;
  /** `2 * count` words: SimHash of document i is (hi, lo) = (simhash[2i], simhash[2i+1]). */
  readonly simhash: Int32Array;
  /** Token count of each document (0 means empty: never a duplicate). */
  readonly tokens: Uint32Array;
}

interface Permutations {
  a: Int32Array;
  b: Int32Array;
}

const permCache = new Map<string, Permutations>();
function permutations(numPerm: number, seed: number): Permutations {
  const key = `${numPerm}:${seed}`;
  let p = permCache.get(key);
  if (!p) {
    const rnd = mulberry32(seed);
    const a = new Int32Array(numPerm);
    const b = new Int32Array(numPerm);
    for (let i = 0; i < numPerm; i++) {
      a[i] = Math.floor(rnd() * 4294967296) | 1; // odd multiplier: a bijection mod 2^32
      b[i] = Math.floor(rnd() * 4294967296) | 0;
    }
    p = { a, b };
    permCache.set(key, p);
  }
  return p;
}

/** 64-bit SimHash of one document over word unigrams weighted by frequency. */
function simhashInto(hashes: Int32Array, n: number, out: Int32Array, at: number, acc: Int32Array): void {
  acc.fill(0);
  for (let t = 0; t < n; t++) {
    const lo = fmix32(hashes[t]!) | 0;
    const hi = fmix32(hashes[t]! ^ 0x5bd1e995) | 0;
    // branchless: +1 for a set bit, -1 for a clear one
    for (let bit = 0; bit < 32; bit++) {
      acc[bit] = acc[bit]! + (((hi >>> bit) & 1) << 1) - 1;
      acc[32 + bit] = acc[32 + bit]! + (((lo >>> bit) & 1) << 1) - 1;
    }
  }
  let hi = 0;
  let lo = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (acc[bit]! > 0) hi |= 1 << bit;
    if (acc[32 + bit]! > 0) lo |= 1 << bit;
  }
  out[at] = hi;
  out[at + 1] = lo;
}

/** Computes SimHash and MinHash fingerprints for every text. Linear in total text length. */
export function fingerprint(texts: readonly string[], input?: DedupOptionsInput): Fingerprints {
  const o = resolveDedupOptions(input);
  const n = texts.length;
  const { numPerm, shingleSize: k } = o;
  const { a, b } = permutations(numPerm, o.seed);
  const signatures = new Int32Array(n * numPerm).fill(0x7fffffff);
  const simhash = new Int32Array(2 * n);
  const tokenCounts = new Uint32Array(n);
  const acc = new Int32Array(64);
  let hashes: Int32Array = new Int32Array(1024);
  let shingleHashes = new Int32Array(1024);
  const sig = new Int32Array(numPerm);
  for (let d = 0; d < n; d++) {
    const tokens = tokenHashes(texts[d]!, hashes);
    hashes = tokens.hashes;
    const len = tokens.count;
    tokenCounts[d] = len;
    if (len === 0) continue;
    simhashInto(hashes, len, simhash, 2 * d, acc);
    const shingles = Math.max(1, len - k + 1);
    const width = Math.min(k, len);
    if (shingleHashes.length < shingles) shingleHashes = new Int32Array(shingles * 2);
    for (let s = 0; s < shingles; s++) {
      let h = hashes[s]!;
      for (let j = 1; j < width; j++) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ hashes[s + j]!;
      shingleHashes[s] = fmix32(h) | 0;
    }
    // permutation-major: a_i, b_i and the running minimum stay in registers
    for (let i = 0; i < numPerm; i++) {
      const ai = a[i]!;
      const bi = b[i]!;
      let min = 0x7fffffff;
      for (let s = 0; s < shingles; s++) {
        const v = (Math.imul(ai, shingleHashes[s]!) + bi) | 0;
        if (v < min) min = v;
      }
      sig[i] = min;
    }
    signatures.set(sig, d * numPerm);
  }
  return { count: n, numPerm, signatures, simhash, tokens: tokenCounts };
}

function popcount32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Hamming distance of the 64-bit SimHashes of documents i and j. */
export function simhashDistance(f: Fingerprints, i: number, j: number): number {
  return (
    popcount32(f.simhash[2 * i]! ^ f.simhash[2 * j]!) +
    popcount32(f.simhash[2 * i + 1]! ^ f.simhash[2 * j + 1]!)
  );
}

/** MinHash estimate of the Jaccard similarity of the shingle sets of documents i and j. */
export function estimateJaccard(f: Fingerprints, i: number, j: number): number {
  const m = f.numPerm;
  const s = f.signatures;
  let equal = 0;
  const oi = i * m;
  const oj = j * m;
  for (let p = 0; p < m; p++) if (s[oi + p] === s[oj + p]) equal++;
  return equal / m;
}

/** The exact Jaccard similarity of two texts' word-shingle sets (quadratic-free, for evaluation). */
export function exactJaccard(x: string, y: string, shingleSize = 5): number {
  const sx = shingleSet(x, shingleSize);
  const sy = shingleSet(y, shingleSize);
  if (sx.size === 0 && sy.size === 0) return 1;
  let inter = 0;
  for (const s of sx) if (sy.has(s)) inter++;
  return inter / (sx.size + sy.size - inter);
}

function shingleSet(text: string, k: number): Set<string> {
  const w = tokenize(text);
  const out = new Set<string>();
  if (w.length === 0) return out;
  for (let i = 0; i + k <= Math.max(w.length, k); i++) out.add(w.slice(i, i + k).join(' '));
  return out;
}

/** One accepted near-duplicate pair. */
export interface DuplicatePair {
  readonly a: number;
  readonly b: number;
  readonly jaccard: number;
  readonly hamming: number;
}

export interface DedupStats {
  /** Pairs examined (LSH candidates, or every pair for the naive method). */
  candidatePairs: number;
  /** Candidates rejected by the SimHash coarse filter. */
  simhashRejected: number;
  /** Candidates that reached the MinHash Jaccard check. */
  jaccardChecked: number;
  /** Pairs accepted as near-duplicates. */
  accepted: number;
}

export interface DedupResult {
  /** For each input document, the index of the document kept for its cluster (itself if kept). */
  readonly representative: Int32Array;
  /** Indices of kept documents, in input order. */
  readonly kept: number[];
  /** Accepted pairs (the edges that merged clusters). */
  readonly pairs: DuplicatePair[];
  readonly stats: DedupStats;
  readonly method: 'lsh' | 'naive';
}

class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    let r = x;
    while (p[r] !== r) r = p[r]!;
    let c = x;
    while (p[c] !== r) {
      const next = p[c]!;
      p[c] = r;
      c = next;
    }
    return r;
  }
  /** Joins the sets; the smaller index (earlier document) becomes the root. */
  union(x: number, y: number): void {
    const rx = this.find(x);
    const ry = this.find(y);
    if (rx === ry) return;
    if (rx < ry) this.parent[ry] = rx;
    else this.parent[rx] = ry;
  }
}

function check(
  f: Fingerprints,
  o: DedupOptions,
  uf: UnionFind,
  stats: DedupStats,
  pairs: DuplicatePair[],
  i: number,
  j: number,
): void {
  stats.candidatePairs++;
  if (f.tokens[i] === 0 || f.tokens[j] === 0) return;
  if (uf.find(i) === uf.find(j)) return;
  const hamming = simhashDistance(f, i, j);
  if (hamming > o.simhashMaxHamming) {
    stats.simhashRejected++;
    return;
  }
  stats.jaccardChecked++;
  const jaccard = estimateJaccard(f, i, j);
  if (jaccard >= o.jaccardThreshold) {
    stats.accepted++;
    pairs.push({ a: Math.min(i, j), b: Math.max(i, j), jaccard, hamming });
    uf.union(i, j);
  }
}

function finish(
  uf: UnionFind,
  n: number,
  pairs: DuplicatePair[],
  stats: DedupStats,
  method: 'lsh' | 'naive',
) {
  const representative = new Int32Array(n);
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    representative[i] = uf.find(i);
    if (representative[i] === i) kept.push(i);
  }
  return { representative, kept, pairs, stats, method };
}

/** Most documents one {@link dedupeFingerprints} call handles (32-bit band key + index in a double). */
export const MAX_DEDUP_DOCUMENTS = 2 ** 21 - 1;

/**
 * Near-duplicate clustering over precomputed fingerprints, with candidates from LSH banding.
 * Per band, documents are sorted by band key; each document is compared with at most
 * `maxBucketComparisons` earlier documents sharing its key. Work is O(n · bands · log n) plus the
 * candidate checks, never all pairs.
 */
export function dedupeFingerprints(f: Fingerprints, input?: DedupOptionsInput): DedupResult {
  const o = resolveDedupOptions(input);
  if (o.numPerm !== f.numPerm) {
    throw new ResearchConfigError('dedup options', [
      { path: 'numPerm', message: `fingerprints have ${f.numPerm} permutations, options say ${o.numPerm}` },
    ]);
  }
  const n = f.count;
  if (n > MAX_DEDUP_DOCUMENTS) {
    throw new ResearchConfigError('dedup input', [
      { path: '', message: `at most ${MAX_DEDUP_DOCUMENTS} documents per call; got ${n}` },
    ]);
  }
  const uf = new UnionFind(n);
  const stats: DedupStats = { candidatePairs: 0, simhashRejected: 0, jaccardChecked: 0, accepted: 0 };
  const pairs: DuplicatePair[] = [];
  const rows = o.numPerm / o.bands;
  const scale = 2 ** Math.max(1, Math.ceil(Math.log2(n + 1)));
  const keys = new Float64Array(n);
  const sigs = f.signatures;
  const m = f.numPerm;
  for (let band = 0; band < o.bands; band++) {
    let live = 0;
    for (let d = 0; d < n; d++) {
      if (f.tokens[d] === 0) continue;
      let h = 0x9747b28c ^ band;
      const base = d * m + band * rows;
      for (let r = 0; r < rows; r++) h = Math.imul(h ^ sigs[base + r]!, 0x5bd1e995) ^ (h >>> 13);
      keys[live++] = fmix32(h) * scale + d;
    }
    const sorted = keys.subarray(0, live).sort();
    let runStart = 0;
    for (let p = 1; p <= live; p++) {
      const same = p < live && Math.floor(sorted[p]! / scale) === Math.floor(sorted[runStart]! / scale);
      if (same) continue;
      // [runStart, p) share this band's key
      for (let x = runStart + 1; x < p; x++) {
        const dx = sorted[x]! % scale;
        const lo = Math.max(runStart, x - o.maxBucketComparisons);
        for (let y = x - 1; y >= lo; y--) check(f, o, uf, stats, pairs, sorted[y]! % scale, dx);
      }
      runStart = p;
    }
  }
  return finish(uf, n, pairs, stats, 'lsh');
}

/**
 * The same SimHash + MinHash decision applied to every pair: O(n²). Kept as the baseline the
 * benchmark measures against, and as the reference the LSH result is tested against.
 */
export function dedupeNaive(f: Fingerprints, input?: DedupOptionsInput): DedupResult {
  const o = resolveDedupOptions(input);
  const n = f.count;
  const uf = new UnionFind(n);
  const stats: DedupStats = { candidatePairs: 0, simhashRejected: 0, jaccardChecked: 0, accepted: 0 };
  const pairs: DuplicatePair[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) check(f, o, uf, stats, pairs, i, j);
  return finish(uf, n, pairs, stats, 'naive');
}

/** Fingerprints `texts` and clusters near-duplicates with LSH candidates. */
export function dedupe(texts: readonly string[], options?: DedupOptionsInput): DedupResult {
  return dedupeFingerprints(fingerprint(texts, options), options);
}
