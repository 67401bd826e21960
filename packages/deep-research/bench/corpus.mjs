// Synthetic ~1 KB documents for the dedup benchmark, drawn from the real Debian text in fixtures/corpus.
import { readdirSync, readFileSync } from 'node:fs';
import { editWords } from '../dist/index.js';

const dir = new URL('../fixtures/corpus/', import.meta.url);
const words = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split(/\s+/))
  .filter(Boolean);

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` documents of about `bytes` characters. Each is a run of words sampled from the corpus's word
 * stream (so word frequencies are real); `dupShare` of them are light edits (2 % of words) of an
 * earlier document, so the deduplicator has real clusters to find.
 */
export function makeDocs(n, { bytes = 1000, dupShare = 0.1, seed = 42 } = {}) {
  const rnd = mulberry32(seed);
  const docs = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && rnd() < dupShare) {
      docs.push(editWords(docs[Math.floor(rnd() * i)], 0.02, rnd, words));
      continue;
    }
    let text = '';
    while (text.length < bytes) text += `${words[Math.floor(rnd() * words.length)]} `;
    docs.push(text.trimEnd());
  }
  return docs;
}
