import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toGrantSet } from '../src/capabilities.js';
import { createHost, HostSignalError } from '../src/host.js';
import {
  CapabilityDeniedError,
  InvalidManifestError,
  LimitDeniedError,
  loadPlugin,
  parseCapability,
  parseManifest,
  parseManifestJson,
  runPlugin,
} from '../src/index.js';
import { freshCacheDir, MemoryAuditSink, NO_PLUGINS, plugin, text } from './helpers.js';

const cacheDir = freshCacheDir();
const hostEnv = {
  HOME: '/home/alice',
  PATH: '/usr/bin',
  AWS_SECRET_ACCESS_KEY: 'hunter2',
  CODEX_PROBE: 'visible',
};

function lines(out: Uint8Array): string[] {
  return text(out).trim().split('\n');
}

describe.skipIf(NO_PLUGINS)('filesystem: never linked', () => {
  it('every file open fails inside the guest and nothing is created on the host', async () => {
    const marker = '/tmp/codex-wasm-probe-was-here';
    rmSync(marker, { force: true });
    const r = await runPlugin(plugin('probe'), {
      input: 'fs',
      cacheDir,
      allow: ['clock', 'random', 'env:HOME'],
    });
    expect(r.exitCode).toBe(0);
    const out = lines(r.stdout);
    const fs = out.filter((l) => l.startsWith('fs.'));
    expect(fs).toHaveLength(8);
    expect(fs.filter((l) => l.includes('OPENED') || l.includes('PRESENT'))).toEqual([]);
    expect(out).toContain('fs.preopen fd3: none');
    expect(out.at(-1)).toBe('probe.done');
    expect(existsSync(marker)).toBe(false);
  });
});

describe.skipIf(NO_PLUGINS)('env: only listed variables', () => {
  it('sees no environment at all without an env grant', async () => {
    const r = await runPlugin(plugin('probe'), { input: 'env', cacheDir, env: hostEnv });
    expect(lines(r.stdout)).toEqual(['env.count 0', 'env.HOME (unset)', 'env.PATH (unset)', 'probe.done']);
  });

  it('sees exactly the granted names, never the rest of the host environment', async () => {
    const r = await runPlugin(plugin('probe'), {
      input: 'env',
      cacheDir,
      env: hostEnv,
      allow: ['env:CODEX_PROBE', 'env:NOT_SET_ANYWHERE'],
    });
    const out = text(r.stdout);
    expect(lines(r.stdout)).toEqual([
      'env.entry CODEX_PROBE=visible',
      'env.count 1',
      'env.HOME (unset)',
      'env.PATH (unset)',
      'probe.done',
    ]);
    expect(out).not.toContain('hunter2');
  });

  it('reads granted values from process.env by default', async () => {
    process.env.CODEX_WASM_TEST_VAR = 'from-process';
    try {
      const r = await runPlugin(plugin('probe'), {
        input: 'env',
        cacheDir,
        allow: ['env:CODEX_WASM_TEST_VAR'],
      });
      expect(lines(r.stdout)[0]).toBe('env.entry CODEX_WASM_TEST_VAR=from-process');
    } finally {
      delete process.env.CODEX_WASM_TEST_VAR;
    }
  });
});

describe.skipIf(NO_PLUGINS)('clock and random: on request only', () => {
  it('a clock read without the grant is a CAPABILITY_DENIED violation', async () => {
    const err = await runPlugin(plugin('probe'), { input: 'clock', cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CapabilityDeniedError);
    expect((err as CapabilityDeniedError).capability).toBe('clock');
  });

  it('a random read without the grant is a CAPABILITY_DENIED violation', async () => {
    const err = await runPlugin(plugin('probe'), { input: 'random', cacheDir, allow: ['clock'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CapabilityDeniedError);
    expect((err as CapabilityDeniedError).capability).toBe('random');
  });

  it('with the grants, the guest reads the real time and random bytes', async () => {
    const p = await loadPlugin(plugin('probe'), { cacheDir, allow: ['clock', 'random'] });
    const a = await p.run({ input: 'clock random' });
    const b = await p.run({ input: 'random' });
    const [clock, randomA] = lines(a.stdout);
    const seconds = Number(clock!.split(' ')[2]);
    expect(clock).toMatch(/^clock\.realtime ok \d+$/);
    expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(60);
    expect(randomA).toMatch(/^random ok [0-9a-f]{8}$/);
    expect(lines(b.stdout)[0]).not.toBe(randomA); // 32 random bits: equal with p = 2^-32
  });
});

describe.skipIf(NO_PLUGINS)('sockets: never linked', () => {
  it('a WASI 0.2 component asking for a TCP socket and a DNS lookup is refused inside the guest', async () => {
    // socket-probe exits 0 only if both calls returned err(access-denied) to the guest.
    const audit = new MemoryAuditSink();
    const r = await runPlugin(plugin('socket-probe'), { cacheDir, audit, allow: ['clock', 'random'] });
    expect(r.exitCode).toBe(0);
    expect(r.denials).toEqual([
      { capability: 'sockets', detail: 'wasi:sockets create-tcp-socket' },
      { capability: 'sockets', detail: 'wasi:sockets resolve-addresses' },
    ]);
    expect(
      audit.events.map((e) => [e.decision, e.details?.code ?? null, e.details?.capability ?? null]),
    ).toEqual([
      ['denied', 'CAPABILITY_DENIED', 'sockets'],
      ['denied', 'CAPABILITY_DENIED', 'sockets'],
      ['allowed', null, null],
    ]);
  });

  it('a preview1 socket call is refused inside the guest, recorded and audited', async () => {
    // preview1 cannot create sockets; the only socket calls act on inherited fds, and there are none.
    const audit = new MemoryAuditSink();
    const r = await runPlugin(plugin('probe'), { input: 'net', cacheDir, audit });
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout)).toEqual([
      'net.accept fd3: denied',
      'net.accept fd4: denied',
      'net.accept fd5: denied',
      'net.accept fd6: denied',
      'net.accept fd7: denied',
      'probe.done',
    ]);
    expect(r.denials).toEqual(
      Array(5).fill({ capability: 'sockets', detail: 'wasi_snapshot_preview1.sock_accept' }),
    );
    expect(audit.events.filter((e) => e.details?.capability === 'sockets')).toHaveLength(5);
  });

  it('the wasi:sockets host functions refuse with access-denied and record the attempt', () => {
    const host = createHost({ grant: toGrantSet([]), env: {}, stdin: new Uint8Array(), maxOutputBytes: 10 });
    const tcp = host.imports['wasi:sockets/tcp-create-socket']!.createTcpSocket as (f: string) => unknown;
    const udp = host.imports['wasi:sockets/udp-create-socket']!.createUdpSocket as (f: string) => unknown;
    const dns = host.imports['wasi:sockets/ip-name-lookup']!.resolveAddresses as (
      n: unknown,
      h: string,
    ) => unknown;
    for (const call of [() => tcp('ipv4'), () => udp('ipv6'), () => dns({}, 'example.com')]) {
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toMatchObject({ payload: 'access-denied' });
    }
    expect(host.denials.map((d) => d.capability)).toEqual(['sockets', 'sockets', 'sockets']);
    expect((host.imports['wasi:filesystem/preopens']!.getDirectories as () => unknown[])()).toEqual([]);
  });

  it('ungranted clock/random host functions throw a host signal rather than answer', () => {
    const host = createHost({ grant: toGrantSet([]), env: {}, stdin: new Uint8Array(), maxOutputBytes: 10 });
    expect(() => (host.imports['wasi:clocks/wall-clock']!.now as () => unknown)()).toThrow(HostSignalError);
    expect(() => (host.imports['wasi:random/random']!.getRandomBytes as (n: bigint) => unknown)(4n)).toThrow(
      HostSignalError,
    );
  });
});

describe.skipIf(NO_PLUGINS)('capability strings', () => {
  it('parses the allow-list syntax', () => {
    expect(['stdio', 'env:HOME', 'clock', 'random'].map(parseCapability)).toEqual([
      { kind: 'stdio' },
      { kind: 'env', name: 'HOME' },
      { kind: 'clock' },
      { kind: 'random' },
    ]);
  });

  it('explains why fs/net/process can never be granted', () => {
    expect(() => parseCapability('fs')).toThrow(/can never be granted to a WASM plugin/);
    expect(() => parseCapability('net')).toThrow(/use an MCP server/);
    expect(() => parseCapability('env')).toThrow(/env:NAME/);
    expect(() => parseCapability('env:1BAD')).toThrow(/not a valid env capability/);
    expect(() => parseCapability('gpu')).toThrow(/unknown capability "gpu"/);
  });
});

describe.skipIf(NO_PLUGINS)('manifest', () => {
  const good = {
    name: 'json-format',
    version: '1.0.0',
    capabilities: ['stdio', 'env:LANG'],
    limits: { fuel: 5000 },
  };

  it('validates with one-line messages naming the source and key', () => {
    expect(parseManifest(good).capabilities).toEqual([{ kind: 'stdio' }, { kind: 'env', name: 'LANG' }]);
    expect(() => parseManifest({ ...good, name: 'Bad Name' }, 'p.plugin.json')).toThrow(
      /^p\.plugin\.json: name: must be 1-64 lower-case/,
    );
    expect(() => parseManifest({ ...good, capabilities: ['stdio', 'fs'] }, 'm.json')).toThrow(
      /^m\.json: capabilities\.1: "fs" can never be granted/,
    );
    expect(() => parseManifest({ ...good, extra: 1 }, 'm.json')).toThrow(InvalidManifestError);
    expect(() => parseManifest({ ...good, limits: { fuel: -1 } }, 'm.json')).toThrow(/limits\.fuel/);
    expect(() => parseManifestJson('{"name":', 'm.json')).toThrow(/^m\.json: \(root\): not valid JSON/);
  });

  it('refuses a plugin asking for a capability the user did not grant', async () => {
    const manifest = parseManifest({ name: 'probe', version: '0.1.0', capabilities: ['clock'] });
    const audit = new MemoryAuditSink();
    const err = await loadPlugin(plugin('probe'), { cacheDir, manifest, audit }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CapabilityDeniedError);
    expect((err as Error).message).toBe(
      'plugin probe@0.1.0: capability "clock" denied: the manifest requests it but it was not granted (grant it with --allow clock)',
    );
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ decision: 'denied', details: { code: 'CAPABILITY_DENIED' } });
  });

  it('refuses larger limits than allowed, and runs with exactly what the manifest asked for', async () => {
    const greedy = parseManifest({ name: 'x', version: '1.0.0', limits: { fuel: 2_000_000 } });
    await expect(loadPlugin(plugin('probe'), { cacheDir, manifest: greedy })).rejects.toBeInstanceOf(
      LimitDeniedError,
    );
    const modest = parseManifest({ name: 'x', version: '1.0.0', capabilities: ['env:CODEX_PROBE'] });
    const p = await loadPlugin(plugin('probe'), {
      cacheDir,
      manifest: modest,
      allow: ['env:CODEX_PROBE', 'env:HOME', 'clock'],
    });
    // Granted more than it asked for: it gets only what it asked for.
    expect(p.grant).toEqual({ stdio: true, clock: false, random: false, env: ['CODEX_PROBE'] });
    const r = await p.run({ input: 'env', env: hostEnv });
    expect(lines(r.stdout)[0]).toBe('env.entry CODEX_PROBE=visible');
    expect(lines(r.stdout)).toContain('env.HOME (unset)');
  });
});
