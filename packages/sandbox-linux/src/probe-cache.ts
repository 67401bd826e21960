// An on-disk cache of the Linux probe, so that a one-shot `codex exec` does not launch bwrap and
// the helper three times before running its command. The key covers everything the probe's
// answer depends on: the kernel release, the bwrap and helper binaries (path and content hash),
// the uid and our cgroup. Any change re-probes; so does a launch that fails (see backend.ts).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { forcedRung } from '@codex/sandbox-contract';
import { codexCacheDir, readPrivateFile, writePrivateFile } from '@codex/sandbox-contract/state';
import { findHelper, LINUX_RUNGS, type LinuxProbe } from './probe.js';
import { BWRAP_PATHS, findTrustedBwrap } from './trust.js';

/** Set to `0` to turn the cache off (always probe). */
export const PROBE_CACHE_ENV = 'CODEX_SANDBOX_PROBE_CACHE';
/** Entries older than this are re-probed even when nothing changed. */
export const PROBE_CACHE_TTL_MS = 24 * 60 * 60 * 1000;
const VERSION = 1;

/**
 * Which file is there: device, inode, size, and modification and change times in nanoseconds.
 * Any write to the file or its replacement changes the change time, which the kernel sets and
 * only root can wind back; so this identifies the binary as well as a content hash does, without
 * reading it on every start (the statically linked helper is about 0.9 MB).
 */
function fileIdentity(path: string | null): string {
  if (!path) return 'none';
  try {
    const s = statSync(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'unreadable';
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** The kernel settings that decide whether namespaces can be created (a change re-probes). */
const USERNS_SYSCTLS = [
  'user/max_user_namespaces',
  'kernel/unprivileged_userns_clone',
  'kernel/apparmor_restrict_unprivileged_userns',
];

function nsId(kind: string): string {
  try {
    return readlinkSync(`/proc/self/ns/${kind}`);
  } catch {
    return '';
  }
}

/**
 * The cache key: kernel release, bwrap and helper (path + file identity), uid, own cgroup, the user and
 * mount namespaces the process runs in, and the user-namespace sysctls. A process inside another
 * user namespace (uid 0 there is not root here) or after an admin changed a limit gets its own
 * probe instead of a result measured elsewhere.
 */
export function probeCacheKey(env: NodeJS.ProcessEnv): string {
  // The same fixed, trusted locations the probe uses (never PATH).
  const candidates = env.CODEX_BWRAP ? [env.CODEX_BWRAP] : [...BWRAP_PATHS];
  const bwrap = findTrustedBwrap(candidates).path;
  const helper = findHelper(env);
  const parts = [
    `v${VERSION}`,
    process.platform,
    process.arch,
    release(),
    `uid=${process.getuid?.() ?? -1}`,
    // The candidates too: with no trusted bwrap the path is null whether none exists or
    // CODEX_BWRAP names a refused file, and the two probes give different reasons.
    `bwrap=${candidates.join(',')}>${bwrap}:${fileIdentity(bwrap)}`,
    `helper=${helper}:${fileIdentity(helper)}`,
    `cgroup=${readOr('/proc/self/cgroup', '')}`,
    `userns=${nsId('user')}`,
    `mntns=${nsId('mnt')}`,
    ...USERNS_SYSCTLS.map((n) => `${n}=${readOr(`/proc/sys/${n}`, '-').trim()}`),
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** `$XDG_CACHE_HOME/codex/sandbox-probe.json` (default `~/.cache/…`). */
export function probeCachePath(env: NodeJS.ProcessEnv): string {
  return join(codexCacheDir(env), 'sandbox-probe.json');
}

interface Entry {
  readonly version: number;
  readonly key: string;
  readonly at: number;
  readonly probe: LinuxProbe;
}

/** The forced rung comes from the environment, not the cache: apply it to a cached probe. */
function withForcedRung(probe: LinuxProbe, env: NodeJS.ProcessEnv): LinuxProbe {
  const forced = forcedRung(env, LINUX_RUNGS, 'Linux');
  return { ...probe, status: { ...probe.status, forced, selected: forced ?? probe.status.best } };
}

/**
 * The cached probe, if the entry is one only this user can have written: a regular file (opened
 * without following a symlink) owned by the user, not writable by group or others. The sandboxes
 * also keep the cache directory read-only inside a writable workspace (`protectedPaths`).
 */
function load(path: string, key: string): LinuxProbe | undefined {
  const text = readPrivateFile(path);
  if (text === undefined) return undefined;
  try {
    const entry = JSON.parse(text.toString('utf8')) as Entry;
    if (entry.version !== VERSION || entry.key !== key) return undefined;
    if (!(Date.now() - entry.at < PROBE_CACHE_TTL_MS)) return undefined;
    return entry.probe;
  } catch {
    return undefined;
  }
}

function store(path: string, key: string, probe: LinuxProbe): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writePrivateFile(path, JSON.stringify({ version: VERSION, key, at: Date.now(), probe } satisfies Entry));
  } catch {
    /* a cache that cannot be written only costs the next run a probe */
  }
}

/**
 * Returns the cached probe when its key still matches, else runs `probe` and caches the result.
 * `refresh` always probes (and rewrites the cache).
 */
export function cachedProbe(env: NodeJS.ProcessEnv, probe: () => LinuxProbe, refresh = false): LinuxProbe {
  if (env[PROBE_CACHE_ENV] === '0' || process.platform !== 'linux') return probe();
  const path = probeCachePath(env);
  const key = probeCacheKey(env);
  const hit = refresh ? undefined : load(path, key);
  if (hit) return withForcedRung(hit, env);
  const fresh = probe();
  store(path, key, { ...fresh, status: { ...fresh.status, forced: null, selected: fresh.status.best } });
  return fresh;
}

/** Drops the cached probe (a launch failed: the next probe must look again). */
export function invalidateProbeCache(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(probeCachePath(env), { force: true });
}
