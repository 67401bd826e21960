// Precision and recall of near-duplicate detection on a labelled set built from real Debian text
// (fixtures/corpus: Git release notes from /usr/share/doc/git/RelNotes) with controlled edits.
// `pnpm --filter @codex/deep-research eval:dedup` (after build). Prints one JSON line per setting.
import { readdirSync, readFileSync } from 'node:fs';
import { evaluateDedup, makeNearDuplicateSet } from '../dist/index.js';

const dir = new URL('../fixtures/corpus/', import.meta.url);
const texts = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => readFileSync(new URL(f, dir), 'utf8'));

const sets = {
  'default set (light edits 1–5 %, the test set)': makeNearDuplicateSet(texts),
  'harder set (light edits 5–10 %)': makeNearDuplicateSet(texts, { lightEditRate: [0.05, 0.1], seed: 11 }),
  'hardest set (light edits 10–15 %)': makeNearDuplicateSet(texts, { lightEditRate: [0.1, 0.15], seed: 13 }),
};
const settings = {
  defaults: {},
  'no SimHash filter (simhashMaxHamming 64)': { simhashMaxHamming: 64 },
  'strict SimHash (simhashMaxHamming 3, Manku et al.)': { simhashMaxHamming: 3 },
  'jaccardThreshold 0.7': { jaccardThreshold: 0.7 },
  'bands 16 × rows 8': { bands: 16 },
};
for (const [setName, set] of Object.entries(sets)) {
  for (const [name, options] of Object.entries(settings)) {
    const e = evaluateDedup(set, options);
    console.log(
      JSON.stringify({
        set: setName,
        setting: name,
        documents: e.documents,
        truePairs: e.truePairs,
        predictedPairs: e.predictedPairs,
        precision: +e.precision.toFixed(4),
        recall: +e.recall.toFixed(4),
        f1: +e.f1.toFixed(4),
        candidatePairs: e.result.stats.candidatePairs,
        allPairs: (e.documents * (e.documents - 1)) / 2,
      }),
    );
  }
}
