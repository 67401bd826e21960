// `codex mcp serve` as a library: serving until the signal, then everything closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { serveGuardedShell } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-core-serve-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('serveGuardedShell serves HTTP on loopback until the signal aborts, then stops listening', async () => {
  const ac = new AbortController();
  let listening: (url: string) => void = () => {};
  const url = new Promise<string>((r) => {
    listening = r;
  });
  const served = serveGuardedShell({
    ...{ config: defaultConfig(), codexHome: dir, cwd: dir, env: {}, profile: 'offline' },
    ...{ explicitProfile: false, version: '0.0.0-test', http: { port: 0 }, signal: ac.signal },
    onListening: (u) => listening(u),
  });
  const at = await url;
  expect(at).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  // an MCP endpoint: a GET without a session is answered (refused), not left hanging
  expect((await fetch(at)).status).toBeGreaterThanOrEqual(400);
  ac.abort();
  await served;
  await expect(fetch(at)).rejects.toThrow();
});

it('serveGuardedShell refuses a host that is not loopback, and closes the shell', async () => {
  const served = serveGuardedShell({
    ...{ config: defaultConfig(), codexHome: dir, cwd: dir, env: {}, profile: 'offline' },
    ...{ explicitProfile: false, version: '0.0.0-test', http: { host: '0.0.0.0', port: 0 } },
    signal: new AbortController().signal,
  });
  await expect(served).rejects.toThrow(/loopback/);
});
