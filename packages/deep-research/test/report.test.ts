import { describe, expect, it } from 'vitest';
import { assessBias, type ResearchReport, renderMarkdown } from '../src/index.js';

const base: ResearchReport = {
  question: 'Is <b>x</b> [safe]?',
  generatedAt: '2026-01-01T00:00:00.000Z',
  providers: ['searxng'],
  subQueries: ['Is x safe'],
  sources: [
    {
      n: 1,
      url: 'https://a.example/p q',
      title: 'A [page] <img src=x>',
      domain: 'a.example',
      provider: 'searxng',
      fromCache: false,
    },
    { n: 2, url: 'https://b.example/', title: '', domain: 'b.example', provider: 'searxng', fromCache: true },
  ],
  findings: [
    {
      cite: 2,
      text: 'Second source says <script>alert(1)</script> and [a](javascript:x).',
      score: 2,
      matched: ['x'],
    },
    { cite: 1, text: 'x is safe.', score: 1, matched: ['x'] },
  ],
  duplicates: [{ url: 'https://c.example/copy', duplicateOf: 1, jaccard: 0.81 }],
  bias: assessBias(['a.example', 'b.example']),
  contradictions: [
    {
      kind: 'negation',
      detail: 'one statement is negated, the other is not',
      a: { cite: 1, sentence: 'x is safe.' },
      b: { cite: 2, sentence: 'x is not safe.' },
    },
  ],
  skipped: [{ url: 'https://d.example/', code: 'RESEARCH_FETCH_TIMEOUT', message: 'timed out' }],
  stats: {
    hits: 4,
    fetched: 3,
    duplicatesRemoved: 1,
    dedup: { candidatePairs: 1, simhashRejected: 0, jaccardChecked: 1, accepted: 1 },
    cacheHits: 1,
  },
};

describe('renderMarkdown', () => {
  const md = renderMarkdown(base);

  it('numbers sources and cites them, in the order of the findings', () => {
    expect(md).toMatch(/^- Second source says .* \[2\]$/m);
    expect(md).toMatch(/^- x is safe\. \[1\]$/m);
    expect(md).toMatch(
      /^1\. \[A \\\[page\\\] &lt;img src=x&gt;\]\(<https:\/\/a\.example\/p%20q>\) \(a\.example\)$/m,
    );
    expect(md).toMatch(/^2\. \[https:\/\/b\.example\/\]\(<https:\/\/b\.example\/>\) \(b\.example\)$/m);
  });

  it('source text cannot inject HTML or links', () => {
    expect(md).not.toMatch(/<script>|<b>|<img/);
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).toContain('\\[a\\](javascript:x)');
    expect(md.startsWith('# Is &lt;b&gt;x&lt;/b&gt; \\[safe\\]?\n')).toBe(true);
  });

  it('shows contradictions, duplicates and skipped sources', () => {
    expect(md).toMatch(
      /- \*\*negation\*\* \(one statement is negated, the other is not\):\n {2}- "x is safe\." \[1\]\n {2}- "x is not safe\." \[2\]/,
    );
    expect(md).toMatch(/- https:\/\/c\.example\/copy: near-duplicate of \[1\] \(Jaccard ≈ 0\.81\)/);
    expect(md).toMatch(/- https:\/\/d\.example\/: RESEARCH_FETCH_TIMEOUT/);
    expect(md).toMatch(/Diversity score 1\.00/);
  });
});
