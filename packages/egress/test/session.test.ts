import http from 'node:http';
import type net from 'node:net';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressConfigError, egressSessionFor, proxyEnvironment, summarizeRefused } from '../src/index.js';
import { viaProxy } from './helpers.js';

let server: http.Server;
let port: number;
beforeAll(async () => {
  server = http.createServer((_q, r) => r.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('EgressSession', () => {
  const policy = toSandboxPolicy('workspace-net', {
    egress: { allow: [], allowAddresses: ['127.0.0.2/32'] },
  });
  const hosts = { 'a.test': '127.0.0.2' };

  it('grantOnce allows a host for the next run only, and refused() reports the last run', async () => {
    const s = egressSessionFor(policy, { hosts });
    const get = async () => {
      const p = await s.startRun({ command: 'curl a.test' });
      const r = await viaProxy((p.http as { port: number }).port, `http://a.test:${port}/`);
      await p.close();
      return r.status;
    };
    expect(await get()).toBe(403);
    expect(summarizeRefused(s.refused())).toBe(
      `egress refused 1 host: a.test:${port} (not-allowed; grantable)`,
    );
    s.grantOnce('A.test');
    expect(s.pendingGrants()).toEqual(['a.test']);
    expect(await get()).toBe(200);
    expect(s.refused()).toEqual([]);
    expect(s.pendingGrants()).toEqual([]);
    expect(await get()).toBe(403);
    expect(s.refusedInSession()[0]).toMatchObject({ host: 'a.test', count: 2 });
    expect(() => s.grantOnce('not a host')).toThrow(EgressConfigError);
  });

  it('is only made for proxied policies', () => {
    expect(() => egressSessionFor(toSandboxPolicy('offline'))).toThrow('not "proxied"');
  });

  it('summarizes nothing as null and counts repeats', () => {
    expect(summarizeRefused([])).toBeNull();
    expect(
      summarizeRefused([
        { host: 'x.test', port: 443, count: 3, rule: 'deny:x.test', reason: '', grantable: false },
        { host: 'y.test', port: null, count: 1, rule: 'malformed', reason: '', grantable: false },
      ]),
    ).toBe('egress refused 2 hosts: x.test:443 (×3, deny:x.test), y.test (malformed)');
  });

  it('proxy environment covers the common clients', () => {
    const env = proxyEnvironment({ httpUrl: 'http://127.0.0.1:3128', socksUrl: 'socks5h://127.0.0.1:1080' });
    expect(env).toMatchObject({
      HTTP_PROXY: 'http://127.0.0.1:3128',
      https_proxy: 'http://127.0.0.1:3128',
      ALL_PROXY: 'socks5h://127.0.0.1:1080',
      npm_config_https_proxy: 'http://127.0.0.1:3128',
      PIP_PROXY: 'http://127.0.0.1:3128',
      CARGO_HTTP_PROXY: 'http://127.0.0.1:3128',
      GIT_CONFIG_KEY_0: 'http.proxy',
    });
  });
});
