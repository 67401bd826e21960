import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger } from '@codex/audit';
import type { AuditSink } from '@codex/security-profile';
import { SocksClient } from 'socks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, type EgressProxy, type EgressProxyOptions, startEgressProxy } from '../src/index.js';
import {
  connectTunnel,
  rawExchange,
  roundTrip,
  startEcho,
  startScripted,
  startUpstream,
  type Upstream,
  viaProxy,
} from './helpers.js';

// Test servers: A on 127.0.0.2 (the only address exempted from the private-address refusal) and
// B on 127.0.0.3, which must never be reached: names pointing at B prove the refusal/pinning.
let A: Upstream;
let B: Upstream;
let echoA: Awaited<ReturnType<typeof startEcho>>;
let echoB: Awaited<ReturnType<typeof startEcho>>;
const proxies: EgressProxy[] = [];
let rebindCalls = 0;

const hosts = () => ({
  'registry.test': '127.0.0.2',
  'x.allowed.test': '127.0.0.2',
  'bad.allowed.test': '127.0.0.2',
  'unlisted.test': '127.0.0.2',
  'internal.test': '10.1.2.3',
  'meta.test': '169.254.169.254',
  'loop.test': '127.0.0.3',
  'v6loop.test': '::1',
  'mapped.test': '::ffff:127.0.0.3',
  'mixed.test': ['127.0.0.2', '192.168.1.1'],
  // DNS rebinding: the first answer is acceptable, every later one points at B.
  'rebind.test': () => (rebindCalls++ === 0 ? '127.0.0.2' : '127.0.0.3'),
});

async function proxy(extra: Partial<EgressProxyOptions> = {}): Promise<EgressProxy> {
  const p = await startEgressProxy({
    profile: 'workspace-net',
    allow: [
      'registry.test',
      '*.allowed.test',
      'rebind.test',
      'internal.test',
      'meta.test',
      'loop.test',
      'v6loop.test',
      'mapped.test',
      'mixed.test',
      'nowhere.test',
      '169.254.169.254',
      '127.0.0.3',
    ],
    deny: ['bad.allowed.test'],
    allowAddresses: ['127.0.0.2/32'],
    resolver: createResolver({ hosts: hosts(), system: false }),
    ...extra,
  });
  proxies.push(p);
  return p;
}
const portOf = (p: EgressProxy) => (p.http as { port: number }).port;
const socksPortOf = (p: EgressProxy) => (p.socks as { port: number }).port;

beforeAll(async () => {
  A = await startUpstream('127.0.0.2', 'A');
  B = await startUpstream('127.0.0.3', 'B');
  echoA = await startEcho('127.0.0.2');
  echoB = await startEcho('127.0.0.3');
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await Promise.all([A.close(), B.close(), echoA.close(), echoB.close()]);
  // Nothing in this file may ever reach B.
  expect(B.seen).toEqual([]);
  expect(echoB.connections).toBe(0);
});

describe('plain HTTP (absolute form)', () => {
  it('forwards an allowed request to the pinned address with the original Host', async () => {
    const p = await proxy();
    const r = await viaProxy(portOf(p), `http://registry.test:${A.port}/pkg?x=1`, {
      headers: { 'proxy-authorization': 'Basic c2VjcmV0', connection: 'x-secret', 'x-secret': 'drop-me' },
    });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({ servedBy: 'A', url: '/pkg?x=1', host: `registry.test:${A.port}` });
    const last = A.seen.at(-1)!;
    expect(last.url).toBe('/pkg?x=1');
    const d = p.decisions().at(-1)!;
    expect(d).toMatchObject({
      decision: 'allowed',
      rule: 'allow:registry.test',
      address: '127.0.0.2',
      method: 'GET',
      port: A.port,
    });
  });

  it('does not forward hop-by-hop headers, proxy credentials or a client-chosen Host', async () => {
    const p = await proxy();
    // A raw TCP server records exactly what the proxy sent upstream.
    const raw = await startEcho('127.0.0.2');
    const t = await rawExchange(
      portOf(p),
      `GET http://registry.test:${raw.port}/ HTTP/1.1\r\nHost: evil.example\r\nProxy-Authorization: Basic c2VjcmV0\r\nConnection: close, X-Secret\r\nX-Secret: 1\r\nX-Keep: 2\r\n\r\n`,
      1500,
    );
    const got = Buffer.concat(raw.received).toString();
    expect(got).toContain(`Host: registry.test:${raw.port}`);
    expect(got).toContain('X-Keep: 2');
    expect(got).not.toMatch(/evil\.example|Proxy-Authorization|X-Secret/i);
    // The echo is not an HTTP response: the client gets a 502, not the raw bytes.
    expect(t.text).toMatch(/^HTTP\/1\.1 502 /);
    await raw.close();
  });

  it('refuses a host that is not listed, says it can be granted, and grantOnce lets it through', async () => {
    const p = await proxy();
    const r = await viaProxy(portOf(p), `http://unlisted.test:${A.port}/`);
    expect(r.status).toBe(403);
    expect(r.headers['x-codex-egress']).toBe('refused');
    expect(r.body).toContain('not-allowed');
    expect(p.refused()).toEqual([
      {
        host: 'unlisted.test',
        port: A.port,
        count: 1,
        rule: 'not-allowed',
        reason: 'host is not on the allow list',
        grantable: true,
      },
    ]);
    p.grantOnce('Unlisted.Test.');
    const ok = await viaProxy(portOf(p), `http://unlisted.test:${A.port}/`);
    expect(ok.status).toBe(200);
    expect(p.decisions().at(-1)!.rule).toBe('grant:unlisted.test');
  });

  it('deny wins over a matching allow glob and over a grant', async () => {
    const p = await proxy({ grants: ['bad.allowed.test'] });
    const ok = await viaProxy(portOf(p), `http://x.allowed.test:${A.port}/`);
    expect(ok.status).toBe(200);
    const r = await viaProxy(portOf(p), `http://bad.allowed.test:${A.port}/`);
    expect(r.status).toBe(403);
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'deny:bad.allowed.test', grantable: false });
  });

  it('an allow glob *.domain does not match the apex or look-alike names', async () => {
    const p = await proxy({
      resolver: createResolver({
        hosts: { 'allowed.test': '127.0.0.2', 'evilallowed.test': '127.0.0.2' },
        system: false,
      }),
    });
    expect((await viaProxy(portOf(p), `http://allowed.test:${A.port}/`)).status).toBe(403);
    expect((await viaProxy(portOf(p), `http://evilallowed.test:${A.port}/`)).status).toBe(403);
  });

  it.each([
    ['internal.test', 'private address 10.1.2.3'],
    ['meta.test', 'cloud metadata address 169.254.169.254'],
    ['loop.test', 'loopback address 127.0.0.3'],
    ['v6loop.test', 'loopback address ::1'],
    ['mapped.test', 'loopback address 127.0.0.3'],
    ['mixed.test', 'private address 192.168.1.1'],
    ['169.254.169.254', 'cloud metadata address'],
    ['127.0.0.3', 'loopback address'],
  ])('refuses %s after resolution (%s), even though it is allowed by name', async (host, why) => {
    const p = await proxy();
    const r = await viaProxy(portOf(p), `http://${host}:${B.port}/`);
    expect(r.status).toBe(403);
    expect(p.decisions().at(-1)).toMatchObject({ decision: 'denied', rule: 'private-address' });
    expect(p.decisions().at(-1)!.reason).toContain(why);
  });

  it('refuses legacy IPv4 spellings and IPv6 literals of private addresses', async () => {
    const p = await proxy({ allow: ['*'] });
    for (const host of ['127.1', '0x7f.0.0.3', '2130706435', '0177.0.0.3']) {
      const r = await viaProxy(portOf(p), `http://${host}:${B.port}/`);
      expect(r.status, host).toBeGreaterThanOrEqual(400);
    }
    const v6 = await viaProxy(portOf(p), `http://[::ffff:7f00:3]:${B.port}/`);
    expect(v6.status).toBe(403);
  });

  it('pins the resolved address: a name whose answer changes (DNS rebinding) never reaches the new address', async () => {
    rebindCalls = 0;
    const p = await proxy();
    const first = await viaProxy(portOf(p), `http://rebind.test:${A.port}/one`);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).servedBy).toBe('A');
    const second = await viaProxy(portOf(p), `http://rebind.test:${A.port}/two`);
    expect(second.status).toBe(403);
    expect(p.decisions().at(-1)!.reason).toContain('loopback address 127.0.0.3');
    // Exactly one resolution per request: the check and the connection use the same answer.
    expect(rebindCalls).toBe(2);
  });

  it('refuses hosts that do not resolve, then keeps serving', async () => {
    const p = await proxy();
    const r = await viaProxy(portOf(p), `http://nowhere.test:${A.port}/`);
    expect(r.status).toBe(502);
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'unresolvable' });
    expect((await viaProxy(portOf(p), `http://registry.test:${A.port}/`)).status).toBe(200);
  });

  it('answers 502 when the allowed upstream is down, without crashing', async () => {
    const dead = await startUpstream('127.0.0.2');
    const port = dead.port;
    await dead.close();
    const p = await proxy();
    const r = await viaProxy(portOf(p), `http://registry.test:${port}/`);
    expect(r.status).toBe(502);
    expect((await viaProxy(portOf(p), `http://registry.test:${A.port}/`)).status).toBe(200);
  });
});

describe('plain HTTP: the response, read by the proxy', () => {
  const ok = (body: string, extra = '') =>
    `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

  it('a chunked response arrives whole and re-framed, its extensions and trailers dropped', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () => (s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n');
      // Written in small pieces: chunk heads and data split across reads.
      const parts = ['5;ext=1\r\nhel', 'lo\r\n', '7\r', '\n, world', '\r\n0\r\nX-Sum: 9\r\n', '\r\n'];
      for (const [i, part] of parts.entries()) setTimeout(() => s.write(part), 5 * i);
    });
    const r = await viaProxy(portOf(p), `http://registry.test:${up.port}/`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello, world');
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers.trailer).toBeUndefined();
    await up.close();
  });

  it('a response that ends when the server closes arrives whole, to HTTP/1.1 and HTTP/1.0 clients', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () => (s) => s.end('HTTP/1.0 200 OK\r\n\r\nuntil the end'));
    const r = await viaProxy(portOf(p), `http://registry.test:${up.port}/`);
    expect(r).toMatchObject({ status: 200, body: 'until the end' });
    const old = await rawExchange(
      portOf(p),
      `GET http://registry.test:${up.port}/ HTTP/1.0\r\nHost: registry.test\r\n\r\n`,
    );
    expect(old.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(old.text).not.toMatch(/transfer-encoding/i);
    expect(old.text.endsWith('\r\n\r\nuntil the end')).toBe(true);
    expect(old.closed).toBe(true);
    await up.close();
  });

  it.each([
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok', 'bare LF'],
    ['two framings', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n', 'both'],
    ['a folded field', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 2\r\n\r\nok', 'header line'],
    ['a length of +2', 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok', 'Content-Length'],
    ['an unasked upgrade', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n', 'switching'],
    [
      'a head over 64 KiB',
      `HTTP/1.1 200 OK\r\n${'X-Big: aaaaaaaaaaaaaaaa\r\n'.repeat(3000)}\r\n`,
      'larger than',
    ],
  ])('%s gets a 502 naming the fault, and the proxy keeps serving', async (_name, bytes, fault) => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () => bytes);
    const r = await viaProxy(portOf(p), `http://registry.test:${up.port}/`);
    expect(r.status).toBe(502);
    expect(r.headers['x-codex-egress']).toBe('refused');
    expect(r.body).toContain('malformed response');
    expect(r.body).toContain(fault);
    expect((await viaProxy(portOf(p), `http://registry.test:${A.port}/again`)).status).toBe(200);
    await up.close();
  });

  it('a response the server stops sending halfway reaches the client cut, never as complete', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () => (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789');
      setTimeout(() => s.destroy(), 20);
    });
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request(
        { host: '127.0.0.1', port: portOf(p), path: `http://registry.test:${up.port}/`, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.complete ? 'complete' : 'incomplete'));
          res.on('error', () => resolve('error'));
          res.on('aborted', () => resolve('aborted'));
        },
      );
      req.on('error', () => resolve('error'));
      req.end();
    });
    expect(outcome).not.toBe('complete');
    await up.close();
  });

  it('a body that ends with the connection, cut by a reset upstream, reaches an HTTP/1.0 client as a reset', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () => (s) => {
      s.write('HTTP/1.0 200 OK\r\n\r\nthe first part');
      setTimeout(() => s.resetAndDestroy(), 50);
    });
    const outcome = await new Promise<string>((resolve) => {
      const c = net.connect(portOf(p), '127.0.0.1', () =>
        c.write(`GET http://registry.test:${up.port}/ HTTP/1.0\r\nHost: registry.test\r\n\r\n`),
      );
      let text = '';
      c.on('data', (d: Buffer) => {
        text += d.toString();
      });
      c.on('end', () => resolve(`end after ${JSON.stringify(text.slice(-14))}`));
      c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(outcome).toBe('ECONNRESET');
    await up.close();
  });

  it('interim responses without end get a 502', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () =>
      'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n'.repeat(40),
    );
    const r = await viaProxy(portOf(p), `http://registry.test:${up.port}/`);
    expect(r.status).toBe(502);
    expect(r.body).toContain('more than 16 interim responses');
    await up.close();
  });

  it('opens at most limits.maxConnectionsPerUpstream connections to one upstream; other requests wait their turn', async () => {
    const p = await proxy({ limits: { maxConnectionsPerUpstream: 2 } });
    let now = 0;
    let most = 0;
    const up = await startScripted('127.0.0.2', () => (s) => {
      most = Math.max(most, ++now);
      setTimeout(() => {
        now--;
        s.write(ok('done'));
      }, 60);
    });
    const url = `http://registry.test:${up.port}/`;
    const all = await Promise.all(Array.from({ length: 6 }, () => viaProxy(portOf(p), url)));
    expect(all.map((r) => r.body)).toEqual(Array(6).fill('done'));
    expect(up.connections).toBe(2);
    expect(most).toBe(2);
    await expect(
      startEgressProxy({ profile: 'workspace-net', limits: { maxConnectionsPerUpstream: 0 } }),
    ).rejects.toThrow('limits.maxConnectionsPerUpstream must be a positive integer');
    await up.close();
  });

  it('keeps upstream connections for the next request, but not after Connection: close or extra bytes', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', (request) =>
      request.includes('/close')
        ? ok('bye', 'Connection: close\r\n')
        : request.includes('/extra')
          ? `${ok('ab')}junk`
          : request.startsWith('HEAD')
            ? 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'
            : ok('hi'),
    );
    const url = (path: string) => `http://registry.test:${up.port}${path}`;
    expect((await viaProxy(portOf(p), url('/1'))).body).toBe('hi');
    expect((await viaProxy(portOf(p), url('/2'))).body).toBe('hi');
    const h = await viaProxy(portOf(p), url('/3'), { method: 'HEAD' });
    expect(h).toMatchObject({ status: 200, body: '' });
    expect(h.headers['content-length']).toBe('5');
    expect((await viaProxy(portOf(p), url('/4'))).body).toBe('hi');
    expect(up.connections).toBe(1);
    expect((await viaProxy(portOf(p), url('/close'))).body).toBe('bye');
    expect((await viaProxy(portOf(p), url('/5'))).body).toBe('hi');
    expect(up.connections).toBe(2);
    expect((await viaProxy(portOf(p), url('/extra'))).body).toBe('ab');
    expect((await viaProxy(portOf(p), url('/6'))).body).toBe('hi');
    expect(up.connections).toBe(3);
    await up.close();
  });

  it('a kept connection the server drops as the next request arrives: sent again on a new one', async () => {
    const p = await proxy();
    // Every connection answers its first request and drops at the second, unanswered.
    const up = await startScripted('127.0.0.2', (_request, nth) => (nth === 1 ? ok('fine') : null));
    const url = `http://registry.test:${up.port}/`;
    expect((await viaProxy(portOf(p), url)).body).toBe('fine');
    expect((await viaProxy(portOf(p), url)).body).toBe('fine');
    expect(up.connections).toBe(2);
    expect(up.requests).toHaveLength(3);
    await up.close();
  });

  it('a request that is not idempotent is never sent twice, even without a body', async () => {
    const p = await proxy();
    // The server may have acted on a request and then closed without answering: a POST (or a
    // DELETE's cousin PATCH) is not repeated behind the client's back; the client gets a 502.
    const up = await startScripted('127.0.0.2', (_request, nth) => (nth === 1 ? ok('fine') : null));
    const url = `http://registry.test:${up.port}/`;
    expect((await viaProxy(portOf(p), url)).body).toBe('fine');
    const r = await viaProxy(portOf(p), url, { method: 'POST' });
    expect(r.status).toBe(502);
    expect(up.requests.map((q) => q.split(' ')[0])).toEqual(['GET', 'POST']);
    expect(up.connections).toBe(1);
    await up.close();
  });

  it('a response that comes before the request body is all sent: that connection is not used again', async () => {
    const p = await proxy();
    const up = await startScripted('127.0.0.2', () => ok('early'));
    const url = `http://registry.test:${up.port}/`;
    const early = await viaProxy(portOf(p), url, {
      method: 'POST',
      parts: ['part one,', 'part two'],
      gapMs: 50,
    });
    expect(early.body).toBe('early');
    await new Promise((r) => setTimeout(r, 100));
    expect((await viaProxy(portOf(p), url)).body).toBe('early');
    expect(up.connections).toBe(2);
    await up.close();
  });

  it('interim responses are not passed on; the final one is', async () => {
    const p = await proxy();
    const up = await startScripted(
      '127.0.0.2',
      () => `HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n${ok('final')}`,
    );
    const r = await viaProxy(portOf(p), `http://registry.test:${up.port}/`);
    expect(r).toMatchObject({ status: 200, body: 'final' });
    await up.close();
  });

  it('request bodies reach the server, with a length or chunked', async () => {
    const p = await proxy();
    const r = await viaProxy(portOf(p), `http://registry.test:${A.port}/post`, {
      method: 'POST',
      body: 'x=1&y=2',
    });
    expect(JSON.parse(r.body)).toMatchObject({ method: 'POST', body: 'x=1&y=2' });
    const chunked = await viaProxy(portOf(p), `http://registry.test:${A.port}/put`, {
      method: 'PUT',
      parts: ['first,', 'second'],
    });
    expect(JSON.parse(chunked.body)).toMatchObject({ method: 'PUT', body: 'first,second' });
  });

  it('a slow reader of a large download gets every byte, in order', async () => {
    const p = await proxy();
    const SIZE = 24 * 1024 * 1024;
    const body = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i++) body[i] = (i * 7 + (i >> 16)) & 0xff;
    const up = await startScripted('127.0.0.2', () => (s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`);
      s.write(body);
    });
    const got = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: portOf(p), path: `http://registry.test:${up.port}/big`, agent: false },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            parts.push(c);
            res.pause();
            setTimeout(() => res.resume(), 2);
          });
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(got.length).toBe(SIZE);
    expect(got.equals(body)).toBe(true);
    await up.close();
  });

  it('a client gone while its pipelined response waits behind another: both upstream connections close', async () => {
    const p = await proxy();
    const closed: number[] = [];
    const up = await startScripted('127.0.0.2', (request, _nth, connection) => (s) => {
      s.on('close', () => closed.push(connection));
      if (request.includes('/stall')) return;
      // A download that keeps coming: its response is queued behind /stall's and never written.
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${1 << 30}\r\n\r\n`);
      const more = setInterval(() => (s.destroyed ? clearInterval(more) : s.write(Buffer.alloc(65536))), 5);
    });
    const url = (path: string) => `http://registry.test:${up.port}${path}`;
    const client = net.connect(portOf(p), '127.0.0.1', () =>
      client.write(
        `GET ${url('/stall')} HTTP/1.1\r\nHost: registry.test\r\n\r\n` +
          `GET ${url('/big')} HTTP/1.1\r\nHost: registry.test\r\n\r\n`,
      ),
    );
    client.on('error', () => {});
    for (let i = 0; i < 100 && up.connections < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(up.connections).toBe(2);
    expect(closed).toEqual([]);
    client.destroy();
    for (let i = 0; i < 100 && closed.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed.sort()).toEqual([1, 2]);
    await up.close();
  });
});

describe('method limits (net-read-only)', () => {
  it('allows GET, HEAD and OPTIONS and refuses every other method before connecting', async () => {
    const p = await proxy({ methods: 'read-only', profile: 'net-read-only' });
    for (const m of ['GET', 'HEAD', 'OPTIONS']) {
      expect((await viaProxy(portOf(p), `http://registry.test:${A.port}/m`, { method: m })).status, m).toBe(
        200,
      );
    }
    const before = A.seen.length;
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'PROPFIND']) {
      const r = await viaProxy(portOf(p), `http://registry.test:${A.port}/m`, {
        method: m,
        body: 'secret=1',
      });
      expect(r.status, m).toBe(405);
      expect(p.decisions().at(-1)).toMatchObject({ rule: 'method', method: m });
    }
    expect(A.seen.length).toBe(before);
  });

  it('a request body cannot be passed off upstream as a second request (Connection naming Content-Length)', async () => {
    const p = await proxy({ methods: 'read-only', profile: 'net-read-only' });
    // The client's Connection field names Content-Length, a hop-by-hop name then: dropping it but
    // still sending the body would leave the server to read the body as a request of its own.
    const inner = 'DELETE /smuggled HTTP/1.1\r\nHost: registry.test\r\nContent-Length: 0\r\n\r\n';
    const before = A.seen.length;
    const r = await rawExchange(
      portOf(p),
      `GET http://registry.test:${A.port}/get HTTP/1.1\r\nHost: registry.test\r\nConnection: content-length\r\n` +
        `Content-Length: ${inner.length}\r\n\r\n${inner}`,
      500,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(A.seen.slice(before).map((s) => [s.method, s.url, s.body])).toEqual([['GET', '/get', inner]]);
  });

  it('lets any method through under workspace-net', async () => {
    const p = await proxy({ methods: 'any' });
    const r = await viaProxy(portOf(p), `http://registry.test:${A.port}/publish`, {
      method: 'PUT',
      body: 'tarball',
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ method: 'PUT', body: 'tarball' });
  });

  it('read-only tunnels must carry TLS: plain HTTP inside CONNECT is cut', async () => {
    const p = await proxy({ methods: 'read-only', profile: 'net-read-only' });
    const plain = await connectTunnel(portOf(p), `registry.test:${echoA.port}`);
    expect(plain.status).toBe(200);
    const echoed = await roundTrip(plain.socket, 'POST /upload HTTP/1.1\r\n\r\n', 5, 1500);
    expect(echoed).toBeNull();
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'tunnel-not-tls', decision: 'denied' });
    const tls = await connectTunnel(portOf(p), `registry.test:${echoA.port}`);
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    expect(await roundTrip(tls.socket, hello, hello.length)).toEqual(hello);
    tls.socket.destroy();
    plain.socket.destroy();
  });
});

/**
 * A server on 127.0.0.2 that sends `size` bytes and closes, and a client that reads them slowly
 * (paused for 2 ms after every chunk), so that the proxy still holds unsent data for the client
 * when the server's side closes.
 */
async function slowDownload(
  connect: (port: number) => Promise<{ socket: net.Socket; skip: number }>,
  size: number,
): Promise<number> {
  const body = Buffer.alloc(size, 0x62);
  const server = net.createServer((s) => s.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  try {
    // `skip`: bytes of proxy handshake that precede the tunnelled data on this socket.
    const { socket, skip } = await connect((server.address() as net.AddressInfo).port);
    return await new Promise<number>((resolve, reject) => {
      let n = 0;
      socket.on('data', (c: Buffer) => {
        n += c.length;
        socket.pause();
        setTimeout(() => socket.resume(), 2);
      });
      socket.on('end', () => resolve(n - skip));
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('a tunnel delivers everything the server sent before it closed', () => {
  const SIZE = 24 * 1024 * 1024;
  it('CONNECT, slow reader', async () => {
    const p = await proxy();
    const answer = 'HTTP/1.1 200 Connection Established\r\n\r\n';
    const n = await slowDownload(async (port) => {
      const socket = net.connect({ host: '127.0.0.1', port: portOf(p) });
      socket.write(`CONNECT registry.test:${port} HTTP/1.1\r\nHost: registry.test\r\n\r\n`);
      return { socket, skip: answer.length };
    }, SIZE);
    expect(n).toBe(SIZE);
  });
  it('SOCKS5, slow reader', async () => {
    const p = await proxy();
    const n = await slowDownload(async (port) => {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: socksPortOf(p), type: 5 },
        command: 'connect',
        destination: { host: 'registry.test', port },
      });
      return { socket, skip: 0 };
    }, SIZE);
    expect(n).toBe(SIZE);
  });
});

describe('a server that speaks first', () => {
  it.each(['CONNECT', 'SOCKS5'])('%s: its greeting reaches the client', async (kind) => {
    const server = net.createServer((s) => s.write('220 hello from the server\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    try {
      const p = await proxy();
      const port = (server.address() as net.AddressInfo).port;
      let socket: net.Socket;
      let prefix = '';
      if (kind === 'CONNECT') {
        // Raw: the greeting may come in the same read as the proxy's answer.
        socket = net.connect({ host: '127.0.0.1', port: portOf(p) });
        socket.write(`CONNECT registry.test:${port} HTTP/1.1\r\nHost: registry.test\r\n\r\n`);
        prefix = 'HTTP/1.1 200 Connection Established\r\n\r\n';
      } else {
        ({ socket } = await SocksClient.createConnection({
          proxy: { host: '127.0.0.1', port: socksPortOf(p), type: 5 },
          command: 'connect',
          destination: { host: 'registry.test', port },
        }));
      }
      const greeting = await new Promise<string>((resolve) => {
        let text = '';
        const take = (c: Buffer) => {
          text += c.toString();
          if (text.endsWith('server\r\n')) resolve(text);
        };
        socket.on('data', take);
        setTimeout(() => resolve(text), 3000);
      });
      socket.destroy();
      expect(greeting).toBe(`${prefix}220 hello from the server\r\n`);
    } finally {
      server.close();
    }
  });
});

describe('a tunnel whose client goes away', () => {
  it('closes the upstream connection at once, not after the idle timeout', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((r) => {
      closed = r;
    });
    const server = net.createServer((s) => {
      s.on('data', () => {});
      s.on('close', () => closed());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
    try {
      const p = await proxy();
      const port = (server.address() as net.AddressInfo).port;
      const t = await connectTunnel(portOf(p), `registry.test:${port}`);
      expect(t.status).toBe(200);
      t.socket.end('bye');
      const outcome = await Promise.race([
        upstreamClosed.then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('still open after 3 s'), 3000)),
      ]);
      expect(outcome).toBe('closed');
    } finally {
      server.close();
    }
  });
});

describe('tunnel limit', () => {
  it('refuses a tunnel past limits.maxTunnels (503, tunnel-limit, audited), and opens one again when another closes', async () => {
    const p = await proxy({ limits: { maxTunnels: 2 } });
    const target = `registry.test:${echoA.port}`;
    const one = await connectTunnel(portOf(p), target);
    const two = await connectTunnel(portOf(p), target);
    expect([one.status, two.status]).toEqual([200, 200]);
    const third = await connectTunnel(portOf(p), target);
    expect(third.status).toBe(503);
    expect(third.head).toContain('X-Codex-Egress: refused');
    await expect(
      SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: socksPortOf(p), type: 5 },
        command: 'connect',
        destination: { host: 'registry.test', port: echoA.port },
      }),
    ).rejects.toThrow();
    expect(
      p
        .decisions()
        .filter((d) => d.rule === 'tunnel-limit')
        .map((d) => d.protocol),
    ).toEqual(['connect', 'socks5']);
    // The open ones still carry data; closing one makes room.
    expect((await roundTrip(one.socket, 'ping', 4))?.toString()).toBe('ping');
    one.socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await connectTunnel(portOf(p), target);
    expect(again.status).toBe(200);
    for (const t of [two, third, again]) t.socket.destroy();
    await expect(startEgressProxy({ profile: 'workspace-net', limits: { maxTunnels: -1 } })).rejects.toThrow(
      'limits.maxTunnels must be a positive integer',
    );
  });
});

describe('CONNECT', () => {
  it('tunnels to an allowed host at the pinned address', async () => {
    rebindCalls = 0;
    const p = await proxy();
    const t = await connectTunnel(portOf(p), `rebind.test:${echoA.port}`);
    expect(t.status).toBe(200);
    expect(await roundTrip(t.socket, 'ping', 4)).toEqual(Buffer.from('ping'));
    t.socket.destroy();
    expect(p.decisions().at(-1)).toMatchObject({
      protocol: 'connect',
      method: 'CONNECT',
      address: '127.0.0.2',
    });
  });

  it.each([
    ['unlisted.test', 403, 'not-allowed'],
    ['bad.allowed.test', 403, 'deny:bad.allowed.test'],
    ['loop.test', 403, 'private-address'],
    ['meta.test', 403, 'private-address'],
    ['nowhere.test', 502, 'unresolvable'],
  ])('refuses CONNECT to %s (%i, %s) and opens nothing', async (host, status, rule) => {
    const before = echoA.connections;
    const p = await proxy();
    const t = await connectTunnel(portOf(p), `${host}:${echoB.port}`);
    expect(t.status).toBe(status);
    expect(t.head).toContain('X-Codex-Egress: refused');
    expect(p.decisions().at(-1)).toMatchObject({ rule, decision: 'denied', protocol: 'connect' });
    expect(echoA.connections).toBe(before);
  });

  it.each([
    'registry.test',
    'registry.test:0',
    'registry.test:99999',
    'a b:443',
    '[zz::1]:443',
    'user@registry.test:443',
  ])('refuses the malformed target %j', async (target) => {
    const p = await proxy();
    const r = await rawExchange(portOf(p), `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 2000);
    expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.closed).toBe(true);
  });
});

describe('SOCKS5', () => {
  const socks = (p: EgressProxy, host: string, port: number, command: 'connect' | 'associate' = 'connect') =>
    SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port: socksPortOf(p), type: 5 },
      command,
      destination: { host, port },
      timeout: 3000,
    });

  it('connects an allowed name (socks5h) to the pinned address', async () => {
    const p = await proxy();
    const { socket } = await socks(p, 'registry.test', echoA.port);
    expect(await roundTrip(socket, 'hello', 5)).toEqual(Buffer.from('hello'));
    socket.destroy();
    expect(p.decisions().at(-1)).toMatchObject({
      protocol: 'socks5',
      decision: 'allowed',
      method: null,
      address: '127.0.0.2',
    });
  });

  it.each([
    ['unlisted.test', 'not-allowed'],
    ['bad.allowed.test', 'deny:bad.allowed.test'],
    ['loop.test', 'private-address'],
    ['127.0.0.3', 'private-address'],
    ['::1', 'not-allowed'],
    ['nowhere.test', 'unresolvable'],
  ])('refuses %s (%s)', async (host, rule) => {
    const p = await proxy();
    await expect(socks(p, host, echoB.port)).rejects.toThrow();
    expect(p.decisions().at(-1)).toMatchObject({ rule, decision: 'denied', protocol: 'socks5' });
  });

  it('does not support UDP ASSOCIATE (no UDP, so no QUIC, through the proxy)', async () => {
    const p = await proxy();
    await expect(socks(p, 'registry.test', 443, 'associate')).rejects.toThrow();
  });

  it('drops a client that stalls in the handshake (slowloris)', async () => {
    const p = await proxy({ limits: { headersTimeoutMs: 300 } });
    const r = await rawExchange(socksPortOf(p), Buffer.from([5, 1]), 5000);
    expect(r.closed).toBe(true);
    expect(r.elapsedMs).toBeLessThan(4000);
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'timeout', protocol: 'socks5' });
  });

  it('drops garbage', async () => {
    const p = await proxy();
    const r = await rawExchange(socksPortOf(p), Buffer.from('GET / HTTP/1.1\r\n\r\n'), 3000);
    expect(r.closed).toBe(true);
    const { socket } = await socks(p, 'registry.test', echoA.port);
    socket.destroy();
  });
});

describe('bad input fails closed', () => {
  it.each([
    ['garbage', 'HELLO\x00\x01\x02\r\n\r\n', 400],
    ['origin-form request', 'GET /etc/passwd HTTP/1.1\r\nHost: registry.test\r\n\r\n', 400],
    ['https absolute form', 'GET https://registry.test/ HTTP/1.1\r\nHost: registry.test\r\n\r\n', 400],
    ['bad host in URL', 'GET http://reg%00istry.test/ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    [
      'conflicting lengths',
      'POST http://registry.test/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    [
      'websocket upgrade',
      'GET http://registry.test/ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      501,
    ],
  ])('%s gets a clean refusal', async (_name, data, status) => {
    const p = await proxy();
    const before = A.seen.length;
    const r = await rawExchange(portOf(p), data, 3000);
    expect(r.text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(A.seen.length).toBe(before);
    expect((await viaProxy(portOf(p), `http://registry.test:${A.port}/`)).status).toBe(200);
  });

  it('oversized headers get 431', async () => {
    const p = await proxy({ limits: { maxHeaderBytes: 4096 } });
    const r = await rawExchange(
      portOf(p),
      `GET http://registry.test:${A.port}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`,
      3000,
    );
    expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'header-limit' });
  });

  it('a slowloris client that never finishes its head is cut off', async () => {
    const p = await proxy({ limits: { headersTimeoutMs: 300 } });
    let timer: NodeJS.Timeout | undefined;
    const r = await rawExchange(portOf(p), `GET http://registry.test:${A.port}/ HTTP/1.1\r\n`, 6000, (s) => {
      timer = setInterval(() => s.writable && s.write('X-a: b\r\n'), 100);
    });
    clearInterval(timer);
    expect(r.closed).toBe(true);
    expect(r.elapsedMs).toBeLessThan(5000);
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'timeout' });
  });

  it('refuses everything once the audit log cannot be written', async () => {
    let fail = false;
    const sink: AuditSink = {
      log: async () => {
        if (fail) throw new Error('disk full');
      },
    };
    const p = await proxy({ audit: sink });
    expect((await viaProxy(portOf(p), `http://registry.test:${A.port}/`)).status).toBe(200);
    fail = true;
    await viaProxy(portOf(p), `http://registry.test:${A.port}/`);
    await new Promise((r) => setTimeout(r, 20));
    const r = await viaProxy(portOf(p), `http://registry.test:${A.port}/`);
    expect(r.status).toBe(503);
    expect(p.auditError).toBeInstanceOf(Error);
    expect(p.decisions().at(-1)).toMatchObject({ rule: 'audit-failed' });
  });

  it('rejects invalid options at start', async () => {
    await expect(startEgressProxy({ profile: 'workspace-net', allow: ['HTTP://x'] })).rejects.toThrow(
      'allow entry "HTTP://x": must be lower case',
    );
    await expect(
      startEgressProxy({ profile: 'workspace-net', allowAddresses: ['10.0.0.1'] }),
    ).rejects.toMatchObject({
      code: 'EGRESS_CONFIG_INVALID',
    });
    expect(() => createResolver({ hosts: { 'a.test': 'not-an-ip' } })).toThrow('not an IP address');
  });
});

describe('audit', () => {
  it('writes one entry per allowed and refused connection with host, port, method, rule and command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-audit-'));
    const logger = new AuditLogger({
      path: join(dir, 'audit.jsonl'),
      durability: 'none',
      flushIntervalMs: 1,
    });
    const p = await proxy({
      audit: logger,
      command: 'npm install',
      sessionId: 's-1',
      methods: 'read-only',
      profile: 'net-read-only',
    });
    await viaProxy(portOf(p), `http://registry.test:${A.port}/a`);
    await viaProxy(portOf(p), `http://registry.test:${A.port}/a`, { method: 'POST' });
    await viaProxy(portOf(p), `http://meta.test/latest/meta-data`);
    await connectTunnel(portOf(p), `unlisted.test:443`).then((t) => t.socket.destroy());
    await logger.close();
    const entries = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    rmSync(dir, { recursive: true, force: true });
    expect(entries.map((e) => [e.operation, e.target, e.decision, e.details.rule, e.details.method])).toEqual(
      [
        ['network_access', `registry.test:${A.port}`, 'allowed', 'allow:registry.test', 'GET'],
        ['network_access', `registry.test:${A.port}`, 'denied', 'method', 'POST'],
        ['network_access', 'meta.test:80', 'denied', 'private-address', 'GET'],
        ['network_access', 'unlisted.test:443', 'denied', 'not-allowed', 'CONNECT'],
      ],
    );
    for (const e of entries) {
      expect(e).toMatchObject({ profile: 'net-read-only', session_id: 's-1', agent_type: 'egress-proxy' });
      expect(e.details.command).toBe('npm install');
    }
  });
});
