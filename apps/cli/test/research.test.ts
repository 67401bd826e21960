import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, codex, loadMain } from './helpers.js';

const fixtures = fileURLToPath(new URL('../../../packages/deep-research/fixtures/', import.meta.url));
const pages = join(fixtures, 'pages');
// The real MCP filesystem server, a dev dependency of @codex/deep-research.
const fsServer = createRequire(join(fixtures, '..', 'package.json')).resolve(
  '@modelcontextprotocol/server-filesystem/dist/index.js',
);

function auditEntries(home: string): { operation: string; decision: string; target: string }[] {
  const path = join(home, 'audit', 'audit.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Runs the built CLI without blocking this process, so the loopback server below can answer. */
function codexAsync(
  args: readonly string[],
  home: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('codex research --provider local (offline default)', () => {
  it('prints a Markdown report with numbered citations; stderr stays quiet when not a TTY', () => {
    const r = codex([
      'research',
      'libffi closure memory allocation',
      '--corpus',
      pages,
      '--max-sources',
      '4',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# libffi closure memory allocation\n/);
    expect(r.stdout).toMatch(/ffi_closure_alloc.*\[\d\]$/m);
    expect(r.stdout).toMatch(/^1\. \[.+\]\(<file:\/\/.+\.html>\) \(local:\.\)$/m);
    expect(r.stdout).toMatch(/## Source diversity/);
  });

  it('--json prints the JSON form; -o writes the report to a file', () => {
    const r = codex(['research', 'libffi thread safety', '--corpus', pages, '--json', '--depth', '1']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.question).toBe('libffi thread safety');
    expect(report.subQueries).toEqual(['libffi thread safety']);
    expect(report.sources[0].url).toMatch(/Thread-Safety\.html$/);
    const dir = mkdtempSync(join(tmpdir(), 'codex-research-'));
    try {
      const out = join(dir, 'report.md');
      const w = codex(['research', 'libffi thread safety', '--corpus', pages, '-o', out]);
      expect(w.status).toBe(0);
      expect(w.stdout).toBe(
        `wrote ${out} (${readFileSync(out, 'utf8').match(/^\d+\. \[/gm)?.length} sources)\n`,
      );
      expect(readFileSync(out, 'utf8')).toMatch(/^# libffi thread safety/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('usage errors exit 2 with one line', () => {
    for (const [args, pattern] of [
      [['research'], /missing <question> for "codex research"/],
      [['research', '  '], /missing the question/],
      [['research', 'q', '--provider', 'bing'], /unknown provider "bing"/],
      [['research', 'q', '--provider', 'searxng'], /needs --endpoint/],
      [['research', 'q', '--max-sources', '0'], /--max-sources must be a positive integer/],
      [['research', 'q', '--bogus'], /unknown option '--bogus'/],
    ] as const) {
      const r = codex(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it('a corpus without matches exits 1 with a typed error', () => {
    const r = codex(['research', 'zzqx qqvv', '--corpus', pages, '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('RESEARCH_NO_SOURCES');
  });
});

describe('codex research --provider searxng (loopback server)', () => {
  let server: Server;
  let origin = '';
  const paths: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      paths.push(url.pathname);
      if (url.pathname === '/robots.txt') return res.writeHead(200).end('User-agent: *\nAllow: /\n');
      if (url.pathname === '/search') {
        const results = ['libffi-Introduction.html', 'libffi-Thread-Safety.html'].map((p) => ({
          url: `${origin}/doc/${p}`,
          title: p,
          content: '',
        }));
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
      }
      if (url.pathname.startsWith('/doc/')) {
        const body = readFileSync(join(pages, url.pathname.slice(5)), 'utf8');
        return res.writeHead(200, { 'content-type': 'text/html' }).end(body);
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses under the default offline profile before any request', async () => {
    const home = mkdtempSync(join(tmpdir(), 'codex-home-'));
    try {
      const r = await codexAsync(['research', 'libffi', '--provider', 'searxng', '--endpoint', origin], home);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^codex: error: profile "offline" does not allow network access/);
      expect(paths).toEqual([]);
      expect(auditEntries(home)).toEqual([
        expect.objectContaining({ operation: 'network_access', decision: 'denied', target: `${origin}/` }),
      ]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('works under net-read-only; the second run is served from the cache; --no-cache fetches again', async () => {
    const home = mkdtempSync(join(tmpdir(), 'codex-home-'));
    const args = [
      '--profile',
      'net-read-only',
      'research',
      'libffi thread safety',
      '--provider',
      'searxng',
      '--min-interval-ms',
      '1',
    ];
    try {
      const first = await codexAsync([...args, '--endpoint', origin, '--json', '--depth', '1'], home);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      const report = JSON.parse(first.stdout);
      expect(report.sources.map((s: { url: string }) => s.url)).toContain(
        `${origin}/doc/libffi-Thread-Safety.html`,
      );
      expect(report.stats.cacheHits).toBe(0);
      expect(existsSync(join(home, 'cache', 'research', 'index.json'))).toBe(true);
      const pagesFetched = paths.filter((p) => p.startsWith('/doc/')).length;
      expect(pagesFetched).toBe(2);
      // every request of the first run is in the audit log, before it was made
      const allowed = auditEntries(home).filter(
        (e) => e.operation === 'network_access' && e.decision === 'allowed',
      );
      expect(allowed.map((e) => new URL(e.target).pathname).sort()).toEqual(
        ['/doc/libffi-Introduction.html', '/doc/libffi-Thread-Safety.html', '/robots.txt', '/search'].sort(),
      );

      const second = await codexAsync([...args, '--endpoint', origin, '--json', '--depth', '1'], home);
      expect(JSON.parse(second.stdout).stats.cacheHits).toBe(2);
      expect(paths.filter((p) => p.startsWith('/doc/')).length).toBe(pagesFetched);

      const third = await codexAsync(
        [...args, '--endpoint', origin, '--json', '--depth', '1', '--no-cache'],
        home,
      );
      expect(JSON.parse(third.stdout).stats.cacheHits).toBe(0);
      expect(paths.filter((p) => p.startsWith('/doc/')).length).toBe(pagesFetched + 2);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('codex research --provider mcp (real MCP filesystem server behind the permission proxy)', () => {
  it('works offline; tool calls are risk-checked and written to the audit log', async () => {
    const home = mkdtempSync(join(tmpdir(), 'codex-home-'));
    try {
      const r = await codexAsync(
        [
          'research',
          'libffi thread safety',
          '--provider',
          'mcp',
          '--mcp-adapter',
          'filesystem',
          '--corpus',
          pages,
          '--depth',
          '1',
          '--json',
          '--',
          process.execPath,
          fsServer,
          pages,
        ],
        home,
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.providers).toEqual(['mcp:filesystem']);
      expect(decodeURIComponent(report.sources[0].url)).toBe(
        `mcp://filesystem/${join(pages, 'libffi-Thread-Safety.html')}`,
      );
      const calls = auditEntries(home).filter((e) => e.operation === 'mcp_tool_call');
      expect(calls.map((e) => e.target)).toEqual(
        expect.arrayContaining(['filesystem/search_files', 'filesystem/read_text_file']),
      );
      expect(calls.every((e) => e.decision === 'allowed')).toBe(true);
      // The tools are pinned in the same persisted store as codex mcp proxy uses.
      const pins = JSON.parse(readFileSync(join(home, 'mcp-pins.json'), 'utf8'));
      expect(Object.keys(pins.servers.filesystem)).toEqual(
        expect.arrayContaining(['search_files', 'read_text_file']),
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('usage: needs an adapter and a server command', () => {
    expect(codex(['research', 'q', '--provider', 'mcp', '--', 'x']).stderr).toMatch(
      /needs --mcp-adapter filesystem or memory/,
    );
    expect(codex(['research', 'q', '--provider', 'mcp', '--mcp-adapter', 'memory']).stderr).toMatch(
      /needs the server command after "--"/,
    );
    expect(codex(['research', 'q', '--mcp-adapter', 'memory']).status).toBe(2);
  });
});

describe('codex research progress', () => {
  it('shows every stage on stderr when stderr is a TTY', async () => {
    const { PassThrough } = await import('node:stream');
    const main = loadMain();
    const home = mkdtempSync(join(tmpdir(), 'codex-home-'));
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    let out = '';
    let err = '';
    stdout.on('data', (d) => {
      out += d;
    });
    stderr.on('data', (d) => {
      err += d;
    });
    try {
      const code = await main(['research', 'libffi thread safety', '--corpus', pages], '0.0.0', {
        stdout,
        stderr,
        env: { CODEX_HOME: home, PATH: process.env.PATH },
        cwd: home,
      });
      expect(code).toBe(0);
      expect(out).toMatch(/^# libffi thread safety/);
      const stages = [...err.matchAll(/^research: ([a-z-]+): /gm)].map((m) => m[1]);
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
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
