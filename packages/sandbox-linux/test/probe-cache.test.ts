import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invalidateProbeCache, type LinuxProbe, probeLinux } from '../src/index.js';
import { cachedProbe, probeCacheKey, probeCachePath } from '../src/probe-cache.js';

let cache: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'codex-probe-cache-'));
  env = { ...process.env, XDG_CACHE_HOME: cache };
  delete env.CODEX_SANDBOX_RUNG;
  delete env.CODEX_SANDBOX_PROBE_CACHE;
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

/** The host's real probe, behind a function that counts how often the cache had to call it. */
async function countingProbe() {
  const real = await probeLinux({ env, refresh: true });
  let count = 0;
  const probe = (): LinuxProbe => {
    count++;
    return real;
  };
  return { real, probe, probes: () => count };
}

describe.skipIf(process.platform !== 'linux')('probe cache', () => {
  it('the second probe is served from the cache, without probing again', async () => {
    const { probe, probes } = await countingProbe();
    rmSync(probeCachePath(env), { force: true });
    const first = cachedProbe(env, probe);
    const second = cachedProbe(env, probe);
    expect(probes()).toBe(1);
    expect(second.status).toEqual(first.status);
    cachedProbe(env, probe, true); // refresh always probes
    expect(probes()).toBe(2);
  });

  it('the key changes with the bwrap binary, the helper binary and the environment that picks them', () => {
    // The binaries are identified by stat (device, inode, size, mtime and ctime in ns), not
    // read: an install or build replaces a file (new inode) and an in-place write changes its
    // size or times. Only an in-place rewrite to the same size within one kernel clock tick of
    // the key's computation would go unseen; a launch failure re-probes regardless.
    const dir = mkdtempSync(join(tmpdir(), 'codex-probe-bin-'));
    try {
      const fake = join(dir, 'bwrap');
      writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const a = probeCacheKey({ ...env, CODEX_BWRAP: fake });
      expect(probeCacheKey({ ...env, CODEX_BWRAP: fake })).toBe(a); // stable while unchanged
      writeFileSync(`${fake}.new`, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      renameSync(`${fake}.new`, fake); // same path, same size, new content: replaced
      const b = probeCacheKey({ ...env, CODEX_BWRAP: fake });
      expect(a).not.toBe(b);
      writeFileSync(fake, '#!/bin/sh\nexit 10\n', { mode: 0o755 }); // rewritten in place
      expect(probeCacheKey({ ...env, CODEX_BWRAP: fake })).not.toBe(b);
      expect(probeCacheKey(env)).not.toBe(a);
      const helper = join(dir, 'helper');
      writeFileSync(helper, 'x', { mode: 0o755 });
      const h1 = probeCacheKey({ ...env, CODEX_SANDBOX_HELPER: helper });
      writeFileSync(`${helper}.new`, 'y', { mode: 0o755 });
      renameSync(`${helper}.new`, helper);
      expect(probeCacheKey({ ...env, CODEX_SANDBOX_HELPER: helper })).not.toBe(h1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a refused CODEX_BWRAP and no bwrap at all are different probes (both find no trusted bwrap)', async () => {
    // Found on a machine without bubblewrap: the key held only the trusted path (null in both
    // cases), so a probe "bwrap not found" was served for a planted CODEX_BWRAP, with the wrong
    // reason.
    const dir = mkdtempSync(join(tmpdir(), 'codex-probe-planted-'));
    try {
      chmodSync(dir, 0o777);
      const planted = join(dir, 'bwrap');
      writeFileSync(planted, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const missing = join(dir, 'absent', 'bwrap');
      expect(probeCacheKey({ ...env, CODEX_BWRAP: planted })).not.toBe(
        probeCacheKey({ ...env, CODEX_BWRAP: missing }),
      );
      await probeLinux({ env: { ...env, CODEX_BWRAP: missing } }); // cached
      const s = (await probeLinux({ env: { ...env, CODEX_BWRAP: planted } })).status;
      expect(s.mechanisms.find((m) => m.id === 'bwrap')?.reason).toMatch(
        /refused.*writable by group or others/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a probe taken in another user namespace (user namespaces disabled there) never serves the host', async (t) => {
    // Found in CI: a test probed inside `unshare --user` with max_user_namespaces=0; uid 0 there
    // shares the host root's cache file, and the degraded probe was served to every later run.
    if (process.getuid?.() !== 0) return t.skip('needs root to write the limit in a child user namespace');
    const dist = join(import.meta.dirname, '..', 'dist', 'index.js');
    const script = `import { probeLinux } from ${JSON.stringify(dist)}; const p = await probeLinux({ refresh: true }); console.log(p.status.best);`;
    const r = spawnSync(
      'unshare',
      [
        '--user',
        '--map-root-user',
        'sh',
        '-c',
        `echo 0 > /proc/sys/user/max_user_namespaces && exec "${process.execPath}" --input-type=module -e '${script}'`,
      ],
      { encoding: 'utf8', env, timeout: 60_000 },
    );
    if (r.status !== 0 && /unshare failed|Operation not permitted/.test(r.stderr))
      return t.skip(`cannot create a user namespace here: ${r.stderr}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).not.toBe('full');
    expect(readFileSync(probeCachePath(env), 'utf8')).toContain('"key"'); // the child did write it
    const real = await probeLinux({ env: { ...env, CODEX_SANDBOX_PROBE_CACHE: '0' }, refresh: true });
    let probes = 0;
    const got = cachedProbe(env, () => {
      probes++;
      return real;
    });
    expect(probes).toBe(1); // the child's entry did not match this namespace's key
    expect(got.status.best).toBe(real.status.best);
  });

  it('a stale or tampered key re-probes; the forced rung comes from the environment, not the cache', async () => {
    const { real, probe, probes } = await countingProbe();
    const path = probeCachePath(env);
    rmSync(path, { force: true });
    cachedProbe(env, probe);
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...entry, key: 'other' }));
    cachedProbe(env, probe);
    expect(probes()).toBe(2);
    writeFileSync(path, JSON.stringify({ ...entry, at: Date.now() - 25 * 3600 * 1000 }));
    cachedProbe(env, probe);
    expect(probes()).toBe(3);
    const forced = cachedProbe({ ...env, CODEX_SANDBOX_RUNG: 'seccomp' }, probe);
    expect(forced.status).toMatchObject({ forced: 'seccomp', selected: 'seccomp' });
    expect(() => cachedProbe({ ...env, CODEX_SANDBOX_RUNG: 'bogus' }, probe)).toThrow(
      /CODEX_SANDBOX_RUNG="bogus" is not a Linux rung; use one of full, /,
    );
    invalidateProbeCache(env);
    cachedProbe(env, probe);
    expect(probes()).toBe(4);
    expect(cachedProbe({ ...env, CODEX_SANDBOX_PROBE_CACHE: '0' }, probe)).toBe(real);
    expect(probes()).toBe(5);
  });

  it('an entry others could have written, or a symlink in its place, is never used', async () => {
    const { probe, probes } = await countingProbe();
    const path = probeCachePath(env);
    rmSync(path, { force: true });
    cachedProbe(env, probe);
    cachedProbe(env, probe);
    expect(probes()).toBe(1); // a good entry is used
    chmodSync(path, 0o666);
    cachedProbe(env, probe);
    expect(probes()).toBe(2); // refused and rewritten, private again
    expect(statSync(path).mode & 0o777).toBe(0o600);
    cachedProbe(env, probe);
    expect(probes()).toBe(2);
    const elsewhere = join(cache, 'elsewhere.json');
    renameSync(path, elsewhere);
    symlinkSync(elsewhere, path);
    cachedProbe(env, probe);
    expect(probes()).toBe(3);
  });
});
