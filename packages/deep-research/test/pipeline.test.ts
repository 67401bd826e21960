import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CorpusError,
  DEFAULT_IGNORED_DIRS,
  editWords,
  LocalProvider,
  NoSourcesError,
  type ResearchStage,
  renderMarkdown,
  research,
} from '../src/index.js';
import { mulberry32 } from '../src/text.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
let corpus: string;

beforeAll(() => {
  // A corpus of real files in three folders, plus a lightly edited copy of one page (a near-duplicate).
  corpus = mkdtempSync(join(tmpdir(), 'dr-corpus-'));
  cpSync(join(fixtures, 'pages'), join(corpus, 'libffi'), { recursive: true });
  cpSync(join(fixtures, 'corpus'), join(corpus, 'git'), { recursive: true });
  mkdirSync(join(corpus, 'mirror'));
  const original = readFileSync(join(fixtures, 'pages', 'libffi-Memory-Usage.html'), 'utf8');
  const body = original.slice(original.indexOf('<body'));
  const rnd = mulberry32(3);
  const edited = body.replace(
    /<p>([^<]{200,})<\/p>/g,
    (_m, t: string) => `<p>${editWords(t, 0.02, rnd, ['also'])}</p>`,
  );
  writeFileSync(
    join(corpus, 'mirror', 'memory-usage-copy.html'),
    `<title>Memory usage (mirror)</title>${edited}`,
  );
  writeFileSync(join(corpus, 'mirror', 'notes.md'), '# Notes\n\nShort.\n');
  writeFileSync(join(corpus, 'mirror', 'ignored.pdf'), 'binary');
});
afterAll(() => rmSync(corpus, { recursive: true, force: true }));

describe('local provider', () => {
  it('indexes text, Markdown and HTML files and ranks with BM25', async () => {
    const p = await LocalProvider.open({ dir: corpus });
    expect(p.files).toBe(7 + 7 + 2);
    const hits = await p.search('closure memory allocation', { limit: 3 });
    expect(hits[0]!.url).toMatch(/[Mm]emory/);
    expect(hits[0]!.score).toBeGreaterThan(hits[2]!.score!);
    const doc = await p.fetch(hits[0]!);
    expect(doc.text).toMatch(/ffi_closure_alloc/);
    expect(doc.domain).toMatch(/^local:(libffi|mirror)$/);
  });

  it('reports a missing or empty corpus with a typed error', async () => {
    await expect(LocalProvider.open({ dir: join(corpus, 'nope') })).rejects.toThrow(CorpusError);
    const empty = mkdtempSync(join(tmpdir(), 'dr-empty-'));
    await expect(LocalProvider.open({ dir: empty })).rejects.toMatchObject({ code: 'RESEARCH_CORPUS' });
    rmSync(empty, { recursive: true });
    await expect(LocalProvider.open({ dir: corpus, extensions: ['txt'] })).rejects.toThrow(
      /local provider options: extensions\.0/,
    );
  });
});

describe('local provider: what a working directory holds besides documents', () => {
  it('skips VCS, dependency and build folders, binary files and strace dumps; all of them on request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dr-cwd-'));
    try {
      const doc = '# Closures\n\nlibffi allocates closure memory with ffi_closure_alloc.\n';
      writeFileSync(join(dir, 'README.md'), doc);
      for (const d of [
        '.git',
        'node_modules/pkg',
        'dist',
        'build',
        'target/debug',
        'venv/lib',
        '__pycache__',
      ]) {
        mkdirSync(join(dir, d), { recursive: true });
        writeFileSync(join(dir, d, 'closure-notes.md'), doc);
      }
      const trace = [
        'execve("/usr/bin/ls", ["ls"], 0x7ffd /* 20 vars */) = 0',
        'brk(NULL)                               = 0x55d4c000',
        'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
        '[pid  4242] write(1, "closure memory ffi_closure_alloc", 32) = 32',
        'close(3)                                = 0',
        '+++ exited with 0 +++',
      ].join('\n');
      writeFileSync(join(dir, 'strace.txt'), trace);
      writeFileSync(join(dir, 'blob.txt'), `closure memory\u0000\u0001\u0002 ffi_closure_alloc`);
      const p = await LocalProvider.open({ dir });
      expect(p.files).toBe(1);
      const hits = await p.search('closure memory ffi_closure_alloc', { limit: 10 });
      expect(hits.map((h) => h.url)).toEqual([expect.stringMatching(/\/README\.md$/)]);
      expect(p.skipped).toEqual(
        expect.arrayContaining([
          { path: join(dir, 'strace.txt'), reason: 'a system-call trace (strace output)' },
          { path: join(dir, 'blob.txt'), reason: 'binary (NUL bytes)' },
        ]),
      );
      // Every default can be turned off: the folders (but .git, hidden) and the machine output come back.
      const all = await LocalProvider.open({ dir, ignoreDirs: [], skipMachineOutput: false });
      expect(all.files).toBe(1 + 6 + 2);
      expect(DEFAULT_IGNORED_DIRS).toEqual(
        expect.arrayContaining(['node_modules', 'dist', 'target', 'venv']),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a local corpus gets its domain shares but no bias warnings; the same shares from the web warn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dr-one-'));
    try {
      cpSync(join(fixtures, 'pages'), join(dir, 'libffi'), { recursive: true });
      const provider = await LocalProvider.open({ dir });
      const report = await research('How does libffi allocate memory for closures?', {
        providers: [provider],
        maxSources: 4,
      });
      expect(report.bias.domains.map((d) => d.domain)).toEqual(['local:libffi']);
      expect(report.bias.warnings).toEqual([]);
      // the check itself still warns for one web domain holding every source
      const { assessBias } = await import('../src/index.js');
      expect(
        assessBias(['a.example', 'a.example', 'a.example', 'a.example']).warnings.length,
      ).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('research pipeline (local provider, offline)', () => {
  it('runs every stage in order and produces a cited report', async () => {
    const stages: ResearchStage[] = [];
    const provider = await LocalProvider.open({ dir: corpus });
    const report = await research('How does libffi allocate memory for closures?', {
      providers: [provider],
      maxSources: 6,
      onProgress: (s) => stages.push(s),
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
    expect([...new Set(stages)]).toEqual([
      'sub-queries',
      'search',
      'fetch',
      'dedup',
      'bias',
      'rank',
      'contradictions',
      'report',
    ]);
    // the edited mirror copy and the original are one source; the other is listed as a duplicate
    expect(report.stats.duplicatesRemoved).toBeGreaterThanOrEqual(1);
    const dup = report.duplicates.find((d) => /memory-usage-copy|Memory-Usage/.test(d.url))!;
    expect(dup).toBeDefined();
    const kept = report.sources[dup.duplicateOf - 1]!;
    expect(kept.url).toMatch(/memory-usage-copy|Memory-Usage/);
    expect(kept.url).not.toBe(dup.url);
    expect(dup.jaccard).toBeGreaterThanOrEqual(0.5);

    const md = renderMarkdown(report);
    expect(md.startsWith('# How does libffi allocate memory for closures?\n')).toBe(true);
    // every citation in the findings resolves to a numbered source line
    const cites = [...md.matchAll(/\[(\d+)\]$/gm)].map((m) => Number(m[1]));
    expect(cites.length).toBe(report.findings.length);
    for (const n of cites) expect(md).toMatch(new RegExp(`^${n}\\. \\[`, 'm'));
    expect(report.findings[0]!.text).toMatch(/closure/i);
    expect(md).toMatch(/## Source diversity/);
    expect(md).toMatch(/## Left out\n\n- .*near-duplicate of \[\d+\]/);
    // the JSON form round-trips
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(report.generatedAt).toBe('2026-01-02T03:04:05.000Z');
  });

  it('domain block list keeps a folder out, and the bias check sees what is left', async () => {
    const provider = await LocalProvider.open({ dir: corpus });
    const report = await research('libffi closures', {
      providers: [provider],
      maxSources: 5,
      domains: { block: ['local:mirror'] },
    });
    expect(report.sources.every((s) => s.domain !== 'local:mirror')).toBe(true);
    expect(report.skipped.some((s) => s.code === 'RESEARCH_DOMAIN_BLOCKED')).toBe(true);
    expect(report.bias.domains.map((d) => d.domain)).not.toContain('local:mirror');
  });

  it('no matching text is a typed error, not an empty report', async () => {
    const provider = await LocalProvider.open({ dir: corpus });
    await expect(research('zzqx qqvv', { providers: [provider] })).rejects.toThrow(NoSourcesError);
  });
});

describe('rankPassages', () => {
  const texts = [
    'The fsmonitor daemon is disabled on networked filesystems by default; macOS users can enable it.',
    'A long unrelated note that happens to mention filesystems once, among many other words about packing.',
    'Another source: the fsmonitor daemon refuses networked filesystems unless configured.\n\nUnrelated paragraph.',
  ];

  it('ranks by BM25 over the question words, at most perSource per source, dropping weak matches', async () => {
    const { rankPassages } = await import('../src/index.js');
    const ranked = rankPassages('fsmonitor on networked filesystems', texts);
    expect(ranked.map((r) => r.source).sort()).toEqual([0, 2]);
    for (const r of ranked)
      expect(r.matched).toEqual(expect.arrayContaining(['fsmonitor', 'network', 'filesystem']));
    expect(
      rankPassages('fsmonitor on networked filesystems', texts, { minRelativeScore: 0 }).map((r) => r.source),
    ).toContain(1);
    expect(rankPassages('fsmonitor', texts, { perSource: 1, maxPassages: 1 })).toHaveLength(1);
    expect(rankPassages('the of and', texts)).toEqual([]);
  });
});
