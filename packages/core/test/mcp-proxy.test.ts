import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadMcpProxyConfig, openPinStore, StreamTransport } from '@codex/mcp-permission';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPermissionProxy } from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-mcp-proxy-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function options() {
  const input = new PassThrough();
  const output = new PassThrough();
  const upstream = new StreamTransport(new PassThrough(), new PassThrough());
  return {
    ...{ server: 'fake', profile: 'offline' as const, config: loadMcpProxyConfig(undefined), upstream },
    ...{ pins: openPinStore(home), codexConfig: defaultConfig(), codexHome: home, env: {}, input, output },
  };
}

describe('runPermissionProxy', () => {
  it('returns when the client ends the session', async () => {
    const o = options();
    const run = runPermissionProxy(o);
    setTimeout(() => o.input.end(), 20);
    expect(await run).toEqual({ interrupted: false, closeReason: 'client closed the connection' });
  });

  it('stops when its signal aborts', async () => {
    const ac = new AbortController();
    const run = runPermissionProxy({ ...options(), signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await run).toEqual({ interrupted: true, closeReason: 'interrupted' });
  });
});
