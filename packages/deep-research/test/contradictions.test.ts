import { describe, expect, it } from 'vitest';
import { findContradictions, subQueries } from '../src/index.js';

describe('findContradictions', () => {
  it('flags a negated statement against its positive form from another source', () => {
    const c = findContradictions([
      { source: 0, text: 'The fsmonitor daemon is enabled by default on networked filesystems.' },
      { source: 1, text: 'The fsmonitor daemon is not enabled by default on networked filesystems.' },
    ]);
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ kind: 'negation', a: { source: 0 }, b: { source: 1 } });
    expect(c[0]!.shared).toEqual(expect.arrayContaining(['fsmonitor', 'daemon', 'enabled']));
  });

  it('flags different numbers for the same unit, and antonyms', () => {
    const numbers = findContradictions([
      { source: 0, text: 'MinHash signatures in this setup use 128 permutations over word shingles.' },
      { source: 1, text: 'MinHash signatures in this setup use 256 permutations over word shingles.' },
    ]);
    expect(numbers[0]).toMatchObject({ kind: 'number', detail: '128 permutations vs 256 permutations' });
    const antonyms = findContradictions([
      { source: 0, text: 'Cruft packs are enabled for repositories that opt into experimental features.' },
      { source: 2, text: 'Cruft packs are disabled for repositories that opt into experimental features.' },
    ]);
    expect(antonyms[0]).toMatchObject({ kind: 'antonym', detail: '"enabled" vs "disabled"' });
  });

  it('ignores agreement, unrelated sentences and sentences of the same source', () => {
    expect(
      findContradictions([
        { source: 0, text: 'The fsmonitor daemon is enabled by default on networked filesystems.' },
        { source: 1, text: 'By default the fsmonitor daemon is enabled on networked filesystems.' },
        { source: 2, text: 'The weather is not nice today in the mountains.' },
      ]),
    ).toEqual([]);
    expect(
      findContradictions([
        { source: 0, text: 'The daemon is enabled by default on networked filesystems.' },
        { source: 0, text: 'The daemon is not enabled by default on networked filesystems.' },
      ]),
    ).toEqual([]);
  });
});

describe('subQueries', () => {
  it('question, content words, clauses, then 3-word windows; at most depth, no duplicates', () => {
    const q = 'How does git handle sparse checkouts and fsmonitor on networked filesystems?';
    expect(subQueries(q, 1)).toEqual([q]);
    expect(subQueries(q, 10)).toEqual([
      q,
      'git handle sparse checkouts fsmonitor networked filesystems',
      'git handle sparse checkouts',
      'fsmonitor networked filesystems',
      'git handle sparse',
      'handle sparse checkouts',
      'sparse checkouts fsmonitor',
      'checkouts fsmonitor networked',
    ]);
  });
});
