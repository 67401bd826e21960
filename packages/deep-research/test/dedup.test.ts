import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// Internals, reached by path: the package exports the dedup API, not these measures.
import { estimateJaccard, exactJaccard, simhashDistance } from '../src/dedup.js';
import {
  dedupe,
  dedupeFingerprints,
  dedupeNaive,
  evaluateDedup,
  fingerprint,
  makeNearDuplicateSet,
  ResearchConfigError,
} from '../src/index.js';

const corpusDir = new URL('../fixtures/corpus/', import.meta.url);
const texts = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => readFileSync(new URL(f, corpusDir), 'utf8'));
const set = makeNearDuplicateSet(texts);

// Thresholds the default parameters must meet on the real-text near-duplicate set (docs/deep-research.md).
const MIN_PRECISION = 0.95;
const MIN_RECALL = 0.95;

describe('near-duplicate set from real Debian text', () => {
  it('is big enough to mean something and has every kind of document', () => {
    expect(set.length).toBeGreaterThan(500);
    const kinds = new Set(set.map((d) => d.kind));
    expect([...kinds].sort()).toEqual(['heavy-edit', 'light-edit', 'original', 'splice']);
    // splices really are hard negatives: exact Jaccard well below the 0.5 threshold, but not zero
    const byFamily = new Map(set.filter((d) => d.kind === 'original').map((d) => [d.family, d.text]));
    const splice = set.find((d) => d.kind === 'splice')!;
    const overlaps = [...byFamily.values()].map((t) => exactJaccard(t, splice.text));
    expect(Math.max(...overlaps)).toBeGreaterThan(0.15);
    expect(Math.max(...overlaps)).toBeLessThan(0.5);
  });

  it(`default parameters reach precision ≥ ${MIN_PRECISION} and recall ≥ ${MIN_RECALL}`, () => {
    const e = evaluateDedup(set);
    expect(e.truePairs).toBeGreaterThan(300);
    expect(e.precision).toBeGreaterThanOrEqual(MIN_PRECISION);
    expect(e.recall).toBeGreaterThanOrEqual(MIN_RECALL);
  });

  it('the evaluation can fail: a too-strict threshold loses recall, a too-loose one loses precision', () => {
    expect(evaluateDedup(set, { jaccardThreshold: 0.95 }).recall).toBeLessThan(MIN_RECALL);
    expect(evaluateDedup(set, { jaccardThreshold: 0.1, simhashMaxHamming: 64 }).precision).toBeLessThan(
      MIN_PRECISION,
    );
    expect(evaluateDedup(set, { simhashMaxHamming: 0 }).recall).toBeLessThan(0.5);
  });

  it('LSH candidates are a small fraction of all pairs, yet find the same clusters as all-pairs', () => {
    const f = fingerprint(set.map((d) => d.text));
    const lsh = dedupeFingerprints(f);
    const naive = dedupeNaive(f);
    const allPairs = (set.length * (set.length - 1)) / 2;
    expect(naive.stats.candidatePairs).toBe(allPairs);
    expect(lsh.stats.candidatePairs).toBeLessThan(allPairs / 20);
    let agree = 0;
    for (let i = 0; i < set.length; i++) if (lsh.representative[i] === naive.representative[i]) agree++;
    expect(agree / set.length).toBeGreaterThanOrEqual(0.99);
  });

  it('MinHash estimates track the exact Jaccard within 4 standard errors', () => {
    const docs = set.slice(0, 60);
    const f = fingerprint(docs.map((d) => d.text));
    const se = 1 / Math.sqrt(128);
    let checked = 0;
    for (let i = 0; i < docs.length; i++) {
      for (let j = i + 1; j < docs.length; j++) {
        if (docs[i]!.family !== docs[j]!.family && (i + j) % 7 !== 0) continue;
        const exact = exactJaccard(docs[i]!.text, docs[j]!.text);
        expect(Math.abs(estimateJaccard(f, i, j) - exact)).toBeLessThan(4 * se);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});

describe('dedupe', () => {
  const a = texts[0]!.slice(0, 3000);
  const b = texts[3]!.slice(0, 3000);

  it('merges exact and near copies into the earliest document and keeps distinct ones', () => {
    const near = a.replace(/\bgit\b/, 'Git').replace(/the /, 'a ');
    const r = dedupe([b, a, near, a, '']);
    expect([...r.representative]).toEqual([0, 1, 1, 1, 4]);
    expect(r.kept).toEqual([0, 1, 4]);
    expect(r.pairs.every((p) => p.jaccard >= 0.5 && p.hamming <= 16)).toBe(true);
  });

  it('SimHash distance is small for near copies and large for unrelated text', () => {
    const f = fingerprint([a, `${a} one more sentence at the end.`, b]);
    expect(simhashDistance(f, 0, 1)).toBeLessThanOrEqual(4);
    expect(simhashDistance(f, 0, 2)).toBeGreaterThan(12);
  });

  it('documents shorter than a shingle still compare', () => {
    expect([...dedupe(['hello world', 'hello world', 'goodbye moon']).representative]).toEqual([0, 0, 2]);
  });

  it('rejects bad options with a typed error naming the key', () => {
    expect(() => dedupe(['x'], { bands: 30 })).toThrow(ResearchConfigError);
    expect(() => dedupe(['x'], { bands: 30 })).toThrow(/dedup options: bands: must divide numPerm \(128\)/);
    expect(() => dedupe(['x'], { jaccardThreshold: 2 } as never)).toThrow(/jaccardThreshold/);
    expect(() => dedupe(['x'], { shingle: 3 } as never)).toThrow(/unknown key shingle/);
    try {
      dedupe(['x'], { numPerm: 0 });
    } catch (error) {
      expect((error as ResearchConfigError).code).toBe('RESEARCH_INVALID_CONFIG');
    }
  });

  it('every parameter changes the result or the work done', () => {
    const docs = set.slice(0, 200).map((d) => d.text);
    const base = dedupe(docs);
    expect(dedupe(docs, { shingleSize: 2 }).stats).not.toEqual(base.stats);
    expect(dedupe(docs, { numPerm: 64, bands: 16 }).stats).not.toEqual(base.stats);
    expect(dedupe(docs, { bands: 64 }).stats.candidatePairs).toBeGreaterThan(base.stats.candidatePairs);
    expect(dedupe(docs, { seed: 99 }).stats).not.toEqual(base.stats);
    expect(dedupe(docs, { maxBucketComparisons: 1 }).stats.candidatePairs).toBeLessThanOrEqual(
      base.stats.candidatePairs,
    );
  });
});

describe('tokenHashes (the allocation-free tokenizer used by fingerprint)', () => {
  it('yields exactly the FNV-1a hashes of tokenize() on real and tricky text', async () => {
    const { fnv1a32, tokenHashes, tokenize } = await import('../src/text.js');
    const samples = [
      ...texts,
      "Don't stop — user’s naïve café 𝒜lpha ǅemo İstanbul ΣΊΣΥΦΟΣ 42x ''quote' it's' 'tis ﬁle 日本語テキスト x'y'z a’",
    ];
    let checked = 0;
    for (const t of samples) {
      const expected = tokenize(t).map((w) => fnv1a32(w) | 0);
      const { hashes, count } = tokenHashes(t, new Int32Array(2));
      expect(count).toBe(expected.length);
      expect([...hashes.subarray(0, count)]).toEqual(expected);
      checked += count;
    }
    expect(checked).toBeGreaterThan(15_000);
  });
});
