import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEventInput } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FetchError,
  HttpClient,
  type HttpDeps,
  NetworkDeniedError,
  ProviderResponseError,
  ResearchCache,
  renderMarkdown,
  research,
  SearxngProvider,
} from '../src/index.js';
import { html, json, LoopbackServer, page, text } from './loopback-server.js';

const PAGES = [
  'libffi-Introduction.html',
  'libffi-The-Basics.html',
  'libffi-Memory-Usage.html',
  'libffi-Thread-Safety.html',
  'libffi-Multiple-ABIs.html',
  'users-and-groups.html',
];

let server: LoopbackServer;
let dir: string;
let audit: AuditEventInput[];
let clock: number;
let waits: number[];

function deps(extra: Partial<HttpDeps> = {}): HttpDeps {
  return {
    audit: { log: async (e) => audit.push(e) },
    now: () => clock,
    // The rate limiter's waits are recorded and advance the fake clock instead of sleeping.
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
    ...extra,
  };
}

/** A SearXNG-style /search answering every query with the saved pages, in a fixed order. */
function searchRoute(origin: string) {
  return json({
    query: 'libffi',
    number_of_results: PAGES.length,
    results: PAGES.map((p, i) => ({
      url: `${origin}/doc/${p}`,
      title: p.replace(/\.html$/, ''),
      content: `snippet ${i}`,
      engine: 'fixture',
      score: PAGES.length - i,
    })),
    answers: [],
    suggestions: [],
  });
}

beforeEach(async () => {
  server = await LoopbackServer.start();
  dir = mkdtempSync(join(tmpdir(), 'dr-http-'));
  audit = [];
  clock = 1_000_000;
  waits = [];
  server.routes.set('/robots.txt', text('User-agent: *\nDisallow: /private/\n'));
  server.routes.set('/search', searchRoute(server.origin));
  for (const p of PAGES) server.routes.set(`/doc/${p}`, html(page(p)));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('profile gate', () => {
  it('under offline the provider refuses before any request, and the denial is audited', async () => {
    const http = new HttpClient({ profile: 'offline', minIntervalMs: 0 }, deps());
    const err = await SearxngProvider.create(server.origin, http).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkDeniedError);
    expect((err as NetworkDeniedError).code).toBe('RESEARCH_NETWORK_DENIED');
    expect((err as Error).message).toMatch(/profile "offline" does not allow network access/);
    await expect(http.get(`${server.origin}/doc/${PAGES[0]}`)).rejects.toThrow(NetworkDeniedError);
    expect(server.requests).toHaveLength(0);
    expect(audit[0]).toMatchObject({ operation: 'network_access', decision: 'denied', profile: 'offline' });
  });

  it('workspace-write (no network) refuses too; net-read-only is allowed', async () => {
    const denied = new HttpClient({ profile: 'workspace-write' }, deps());
    await expect(SearxngProvider.create(server.origin, denied)).rejects.toThrow(NetworkDeniedError);
    const allowed = new HttpClient({ profile: 'net-read-only' }, deps());
    await expect(SearxngProvider.create(server.origin, allowed)).resolves.toBeInstanceOf(SearxngProvider);
  });
});

describe('searxng provider against a loopback server', () => {
  it('end to end: search, fetch, extract, cite; every request carries the User-Agent and is audited', async () => {
    const http = new HttpClient({ profile: 'net-read-only', userAgent: 'dr-test/1.0' }, deps());
    const provider = await SearxngProvider.create(server.origin, http);
    const report = await research('libffi closures thread safety', { providers: [provider], maxSources: 6 });
    expect(report.sources.map((s) => s.url)).toEqual(
      expect.arrayContaining([`${server.origin}/doc/libffi-Thread-Safety.html`]),
    );
    expect(report.sources.every((s) => s.domain === '127.0.0.1')).toBe(true);
    const safety = report.sources.find((s) => s.url.endsWith('Thread-Safety.html'))!;
    expect(safety.title).toMatch(/^Thread Safety \(libffi/);
    const md = renderMarkdown(report);
    expect(md).toMatch(new RegExp(`libffi is not completely thread-safe.*\\[${safety.n}\\]`));
    // texinfo navigation ("Next: ... Up: ...") is not main text
    expect(report.findings.some((f) => /Next: /.test(f.text))).toBe(false);
    // one domain → bias warning in the report
    expect(report.bias.warnings[0]).toMatch(
      /127\.0\.0\.1 provides 6 of 6 sources \(100 %\), above the 30 % threshold/,
    );
    expect(md).toMatch(/> \*\*Warning:\*\* 127\.0\.0\.1 provides/);
    expect(server.requests.every((r) => r.userAgent === 'dr-test/1.0')).toBe(true);
    expect(server.count('/robots.txt')).toBe(1);
    const allowed = audit.filter((e) => e.decision === 'allowed');
    expect(allowed.length).toBe(server.requests.length);
    expect(allowed.every((e) => e.operation === 'network_access')).toBe(true);
  });

  it('robots.txt: disallowed paths are never requested; a 404 robots.txt allows all; a 5xx one disallows all', async () => {
    const http = new HttpClient({ profile: 'net-read-only', minIntervalMs: 0 }, deps());
    server.routes.set('/private/secret.html', html('<p>secret</p>'));
    await expect(http.get(`${server.origin}/private/secret.html`)).rejects.toMatchObject({
      code: 'RESEARCH_ROBOTS_DISALLOWED',
    });
    expect(server.count('/private/')).toBe(0);
    expect(audit.some((e) => e.decision === 'denied' && /robots/.test(e.reason))).toBe(true);

    server.routes.delete('/robots.txt');
    const open = new HttpClient({ profile: 'net-read-only', minIntervalMs: 0 }, deps());
    await expect(open.get(`${server.origin}/private/secret.html`)).resolves.toMatchObject({ status: 200 });

    server.routes.set('/robots.txt', text('oops', 503));
    const closed = new HttpClient({ profile: 'net-read-only', minIntervalMs: 0 }, deps());
    await expect(closed.get(`${server.origin}/doc/${PAGES[0]}`)).rejects.toMatchObject({
      code: 'RESEARCH_ROBOTS_DISALLOWED',
    });
  });

  it('respectRobots: false skips robots.txt', async () => {
    const http = new HttpClient({ profile: 'net-read-only', respectRobots: false, minIntervalMs: 0 }, deps());
    server.routes.set('/private/secret.html', html('<p>secret</p>'));
    await expect(http.get(`${server.origin}/private/secret.html`)).resolves.toMatchObject({ status: 200 });
    expect(server.count('/robots.txt')).toBe(0);
  });

  it('rate limit: requests to one host are spaced by minIntervalMs, and Crawl-delay raises it', async () => {
    const http = new HttpClient({ profile: 'net-read-only', minIntervalMs: 500 }, deps());
    for (const p of PAGES.slice(0, 3)) await http.get(`${server.origin}/doc/${p}`);
    // robots.txt at t0, then three pages: each waits for its 500 ms slot (the fake clock does not move otherwise)
    expect(waits).toEqual([500, 500, 500]);
    expect(http.stats.rateLimitWaitMs).toBe(1500);

    server.routes.set('/robots.txt', text('User-agent: *\nCrawl-delay: 2\n'));
    waits = [];
    const slow = new HttpClient({ profile: 'net-read-only', minIntervalMs: 500 }, deps());
    for (const p of PAGES.slice(0, 2)) await slow.get(`${server.origin}/doc/${p}`);
    expect(waits).toEqual([500, 2000]);
  });

  it('429 with Retry-After pushes the next slot back, and the failure is typed', async () => {
    server.routes.set('/busy', text('slow down', 429, { 'retry-after': '7' }));
    const http = new HttpClient(
      { profile: 'net-read-only', minIntervalMs: 100, respectRobots: false },
      deps(),
    );
    const err = await http.get(`${server.origin}/busy`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err).toMatchObject({ code: 'RESEARCH_HTTP_STATUS', status: 429 });
    await http.get(`${server.origin}/doc/${PAGES[0]}`);
    expect(waits).toEqual([7000]);
  });

  it('timeouts: a server that never answers fails with RESEARCH_FETCH_TIMEOUT', async () => {
    server.routes.set('/hang', () => 'hang');
    const http = new HttpClient({ profile: 'net-read-only', timeoutMs: 150, respectRobots: false }, deps());
    await expect(http.get(`${server.origin}/hang`)).rejects.toMatchObject({ code: 'RESEARCH_FETCH_TIMEOUT' });
  });

  it('bodies over maxBytes fail with RESEARCH_TOO_LARGE', async () => {
    server.routes.set('/big', text('x'.repeat(50_000)));
    const http = new HttpClient({ profile: 'net-read-only', maxBytes: 10_000, respectRobots: false }, deps());
    await expect(http.get(`${server.origin}/big`)).rejects.toMatchObject({ code: 'RESEARCH_TOO_LARGE' });
  });

  it('connection refused is a typed RESEARCH_FETCH_FAILED', async () => {
    const url = `${server.origin}/doc/x.html`;
    await server.close();
    const http = new HttpClient({ profile: 'net-read-only', respectRobots: false }, deps());
    await expect(http.get(url)).rejects.toMatchObject({ code: 'RESEARCH_FETCH_FAILED' });
    server = await LoopbackServer.start();
  });

  it('redirects are followed hop by hop, each checked like a new URL', async () => {
    const redirect = (to: string) => (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(302, { location: to }).end();
    };
    server.routes.set('/moved', redirect(`/doc/${PAGES[0]}`));
    server.routes.set('/to-private', redirect('/private/secret.html'));
    server.routes.set('/private/secret.html', html('<p>secret</p>'));
    server.routes.set('/loop', redirect('/loop'));
    const port = new URL(server.origin).port;
    server.routes.set('/to-blocked', redirect(`http://localhost:${port}/doc/${PAGES[1]}`));
    const http = new HttpClient(
      { profile: 'net-read-only', minIntervalMs: 0 },
      deps({ domains: { block: ['localhost'] } }),
    );
    const moved = await http.get(`${server.origin}/moved`);
    expect(moved).toMatchObject({ status: 200, url: `${server.origin}/doc/${PAGES[0]}` });
    expect(moved.body).toMatch(/libffi/);
    await expect(http.get(`${server.origin}/to-private`)).rejects.toMatchObject({
      code: 'RESEARCH_ROBOTS_DISALLOWED',
    });
    expect(server.count('/private/')).toBe(0);
    await expect(http.get(`${server.origin}/to-blocked`)).rejects.toMatchObject({
      code: 'RESEARCH_DOMAIN_BLOCKED',
    });
    expect(server.requests.some((r) => r.host.startsWith('localhost'))).toBe(false);
    await expect(http.get(`${server.origin}/loop`)).rejects.toThrow(/more than 5 redirects/);
    expect(server.count('/loop')).toBe(6);
    // every hop was audited before it was requested
    expect(audit.filter((e) => e.decision === 'allowed' && e.target.endsWith('/loop'))).toHaveLength(6);
  });

  it('malformed provider answers are rejected with a clear error (zod)', async () => {
    const http = new HttpClient({ profile: 'net-read-only', minIntervalMs: 0 }, deps());
    const provider = await SearxngProvider.create(server.origin, http);
    server.routes.set('/search', json({ results: [{ url: 'not a url', title: 'x' }] }));
    const err = await provider.search('q', { limit: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderResponseError);
    expect((err as Error).message).toMatch(/unexpected response at results\.0\.url/);
    server.routes.set('/search', html('<html>not json</html>'));
    await expect(provider.search('other', { limit: 5 })).rejects.toThrow(/did not return JSON/);
  });
});

describe('cache through the HTTP client', () => {
  it('a second run is served from disk: no page is requested again', async () => {
    const run = async () => {
      const cache = new ResearchCache({ dir }, { now: () => clock });
      const http = new HttpClient({ profile: 'net-read-only', minIntervalMs: 0 }, deps({ cache }));
      const provider = await SearxngProvider.create(server.origin, http);
      const report = await research('libffi memory usage', { providers: [provider], maxSources: 4 });
      await cache.flush();
      return report;
    };
    const first = await run();
    const requestsAfterFirst = server.requests.length;
    expect(first.stats.cacheHits).toBe(0);
    const second = await run();
    expect(server.requests.length).toBe(requestsAfterFirst);
    expect(second.stats.cacheHits).toBe(second.stats.fetched);
    expect(second.sources.map((s) => s.url)).toEqual(first.sources.map((s) => s.url));
    // after the 1 h TTL the pages are fetched again
    clock += 60 * 60 * 1000;
    await run();
    expect(server.requests.length).toBeGreaterThan(requestsAfterFirst);
  });

  it('failures are cached for 60 s, then retried', async () => {
    let calls = 0;
    server.routes.set('/flaky', (_req, res) => {
      calls++;
      res.writeHead(500).end('boom');
    });
    const cache = new ResearchCache({ dir }, { now: () => clock });
    const http = new HttpClient(
      { profile: 'net-read-only', respectRobots: false, minIntervalMs: 0 },
      deps({ cache }),
    );
    await expect(http.get(`${server.origin}/flaky`)).rejects.toMatchObject({ code: 'RESEARCH_HTTP_STATUS' });
    await expect(http.get(`${server.origin}/flaky`)).rejects.toThrow(/HTTP 500 \(cached failure\)/);
    expect(calls).toBe(1);
    clock += 59_999;
    await expect(http.get(`${server.origin}/flaky`)).rejects.toThrow(/cached failure/);
    expect(calls).toBe(1);
    clock += 1;
    await expect(http.get(`${server.origin}/flaky`)).rejects.toMatchObject({ code: 'RESEARCH_HTTP_STATUS' });
    expect(calls).toBe(2);
  });
});
