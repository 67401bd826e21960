import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendStatus, Guarantee, MechanismStatus, RungStatus } from '@codex/sandbox-contract';
import { forcedRung, selectRung } from '@codex/sandbox-contract';
import { codexCacheDir } from '@codex/sandbox-contract/state';
import { diagnoseUserns, type HostDiagnosis, inContainer, readSysctl } from './diagnose.js';
import { compileHelper, HELPER_NAME, helperFlags, helperSource } from './helper-build.js';
import { cachedProbe } from './probe-cache.js';
import { BWRAP_PATHS, findTrustedBwrap, untrustedReason } from './trust.js';

/** Environment switch that turns the helper's own namespaces off (`0`), e.g. to test the unprivileged path. */
export const HELPER_NS_ENV = 'CODEX_SANDBOX_HELPER_NS';

export const MECHANISMS = ['bwrap', 'landlock', 'seccomp', 'helper-ns', 'cgroup-pids'] as const;
export type LinuxMechanism = (typeof MECHANISMS)[number];

interface RungDef {
  readonly id: string;
  readonly label: string;
  readonly core: readonly LinuxMechanism[];
  /** Single-layer rungs exist to prove each layer enforces on its own; never chosen automatically. */
  readonly diagnostic?: boolean;
  /** Mechanisms that join the rung when available (besides cgroup-pids). */
  readonly optional?: readonly LinuxMechanism[];
}

/** The degradation chain, strongest first. `cgroup-pids` joins every rung except `none` when available. */
export const LINUX_RUNGS: readonly RungDef[] = [
  { id: 'full', label: 'bubblewrap + Landlock + seccomp', core: ['bwrap', 'landlock', 'seccomp'] },
  {
    id: 'landlock-seccomp',
    label: 'Landlock + seccomp (no user namespaces)',
    core: ['landlock', 'seccomp'],
    optional: ['helper-ns'],
  },
  { id: 'bwrap-seccomp', label: 'bubblewrap + seccomp (no Landlock)', core: ['bwrap', 'seccomp'] },
  { id: 'seccomp', label: 'seccomp only', core: ['seccomp'] },
  { id: 'none', label: 'no sandbox', core: [] },
  { id: 'landlock-only', label: 'Landlock alone (diagnostic)', core: ['landlock'], diagnostic: true },
  { id: 'bwrap-only', label: 'bubblewrap alone (diagnostic)', core: ['bwrap'], diagnostic: true },
];

export interface LinuxProbe {
  readonly status: BackendStatus;
  readonly helperPath: string | null;
  readonly bwrapPath: string | null;
  readonly landlockAbi: number;
  /** cgroup directory under which per-run cgroups are created, and its version. */
  readonly cgroup: { readonly parent: string; readonly version: 1 | 2 } | null;
  /** The helper can create IPC/UTS/mount namespaces itself (root) and is allowed to. */
  readonly helperNs: boolean;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const owners = (): number[] => (typeof process.getuid === 'function' ? [process.getuid()] : []);

/**
 * Where the compiled helper lives: `CODEX_SANDBOX_HELPER`, else next to the bundle (dist/),
 * else a copy compiled from `native/codex-sandbox-helper.c` with the machine's C compiler into
 * `$XDG_CACHE_HOME/codex/sandbox-helper/<source hash>/` (never downloaded). `null` when none of
 * these works; the probe then reports Landlock and seccomp as unavailable.
 */
export function findHelper(env: NodeJS.ProcessEnv = process.env): string | null {
  return locateHelper(env).path;
}

/** The helper and, when there is none, why (untrusted location, compiler error…). */
export function locateHelper(env: NodeJS.ProcessEnv = process.env): { path: string | null; why: string } {
  const refused: string[] = [];
  const trusted = (p: string) => {
    if (!isExecutable(p)) return false;
    const why = untrustedReason(p, owners());
    if (why) refused.push(`refused ${p}: ${why}`);
    return why === null;
  };
  if (env.CODEX_SANDBOX_HELPER) {
    const p = env.CODEX_SANDBOX_HELPER;
    if (trusted(p)) return { path: p, why: '' };
    return { path: null, why: refused[0] ?? `${p} is not an executable file` };
  }
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, HELPER_NAME), join(here, '..', 'dist', HELPER_NAME)]) {
    if (trusted(candidate)) return { path: candidate, why: '' };
  }
  const compiled = compileCached(helperSource(), env);
  if (compiled.path && trusted(compiled.path)) return { path: compiled.path, why: '' };
  return { path: null, why: [...refused, compiled.why].filter(Boolean).join('; ') };
}

/** Run-time fallback: the compile of scripts/build-helper.mjs (helper-build.ts), into a cache. */
function compileCached(source: string, env: NodeJS.ProcessEnv): { path: string | null; why: string } {
  let text: Buffer;
  let cflags: string[];
  let staticFlags: string[];
  try {
    text = readFileSync(source);
    ({ cflags, staticFlags } = helperFlags());
  } catch {
    return { path: null, why: 'the helper source (native/) is not installed' };
  }
  const hash = createHash('sha256')
    .update(text)
    .update(cflags.join(' '))
    .update(staticFlags.join(' '))
    .digest('hex')
    .slice(0, 16);
  const dir = join(codexCacheDir(env), 'sandbox-helper', hash);
  const out = join(dir, HELPER_NAME);
  if (isExecutable(out)) return { path: out, why: '' };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    return { path: null, why: `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code}` };
  }
  const r = compileHelper({ source, out, cflags, staticFlags, cc: env.CC, build: false });
  if (r.ok) return { path: out, why: '' };
  if (r.cc === null) return { path: null, why: 'no C compiler (cc, gcc, clang) to build the helper' };
  return { path: null, why: `${r.cc} failed to compile the helper: ${firstLine(r.stderr)}` };
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

function probeBwrap(env: NodeJS.ProcessEnv): {
  status: MechanismStatus;
  path: string | null;
  diagnosis: HostDiagnosis | null;
} {
  const provides: Guarantee[] = [
    'filesystem-write',
    'protected-paths',
    'network',
    'private-tmp',
    'process-isolation',
    'secrets',
    'host-sockets',
    'metadata',
  ];
  const base = { id: 'bwrap', label: 'bubblewrap namespaces (user, pid, net, mount)', provides };
  // Fixed, root-owned locations only (CODEX_BWRAP may name another one; it is checked the same way).
  const candidates = env.CODEX_BWRAP ? [env.CODEX_BWRAP] : [...BWRAP_PATHS];
  const found = findTrustedBwrap(candidates);
  const path = found.path;
  if (!path) {
    const reason =
      found.refused.length > 0
        ? `bwrap refused (not root-owned or writable by others): ${found.refused.join('; ')}`
        : `bwrap not found at ${candidates.join(', ')} (Debian package: bubblewrap; PATH is never searched)`;
    return { status: { ...base, available: false, reason }, path: null, diagnosis: null };
  }
  const version = firstLine(spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '');
  // A functional check: distributions (Ubuntu 24.04 AppArmor, containers) often ship bwrap but
  // forbid the user namespace it needs. Only a real launch tells.
  const r = spawnSync(
    path,
    [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-net',
      '--die-with-parent',
      '--cap-drop',
      'ALL',
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--',
      'true',
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.status !== 0) {
    const why = firstLine(r.stderr ?? '') || (r.error ? String(r.error.message) : `exit ${r.status}`);
    const diagnosis = diagnoseUserns({ sysctl: readSysctl, error: why, container: inContainer() });
    return {
      status: {
        ...base,
        available: false,
        reason: `${version || 'bwrap'} cannot create namespaces here: ${why} — cause: ${diagnosis.message}; fix: ${diagnosis.fix}`,
        details: { path, cause: diagnosis.cause },
      },
      path,
      diagnosis,
    };
  }
  return {
    status: {
      ...base,
      available: true,
      reason: `${version || 'bwrap'} at ${path} (user, pid and net namespaces work)`,
      details: { path },
    },
    path,
    diagnosis: null,
  };
}

interface HelperProbe {
  arch: string;
  landlockAbi: number;
  landlockError: string;
  seccompMode: number;
  seccompFilter: boolean;
  seccompError: string;
  canUnshare?: boolean;
  /** Why the helper's namespaces cannot be set up although unshare works (e.g. in a chroot). */
  nsError?: string;
}

function probeHelper(helperPath: string | null, why = ''): HelperProbe | { error: string } {
  if (!helperPath) {
    return {
      error: `the native helper is not available${why ? ` (${why})` : ''}; build it: pnpm --filter @codex/sandbox-linux build:helper`,
    };
  }
  const r = spawnSync(helperPath, ['--probe'], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0)
    return { error: `helper --probe failed: ${firstLine(r.stderr ?? '') || `exit ${r.status}`}` };
  try {
    return JSON.parse(r.stdout) as HelperProbe;
  } catch {
    return { error: `helper --probe printed unreadable output: ${firstLine(r.stdout)}` };
  }
}

function probeCgroup(): { status: MechanismStatus; cgroup: LinuxProbe['cgroup'] } {
  const base = {
    id: 'cgroup-pids',
    label: 'cgroup pids limit (process count, whole-tree kill)',
    provides: ['process-limit'] as Guarantee[],
  };
  const tryDir = (parent: string, version: 1 | 2): LinuxProbe['cgroup'] | string => {
    const probeDir = join(parent, `codex-sbx-probe-${process.pid}`);
    try {
      mkdirSync(probeDir);
    } catch (e) {
      return `cannot create a cgroup under ${parent}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
    const ok = existsSync(join(probeDir, 'pids.max'));
    try {
      rmdirSync(probeDir);
    } catch {
      /* an empty cgroup we just made; removal failure only leaks an empty directory */
    }
    return ok ? { parent, version } : `pids controller not enabled for ${parent}`;
  };
  const reasons: string[] = [];
  // cgroup v2: a child of our own cgroup.
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    const own = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'))
      ?.slice(3);
    if (own !== undefined) {
      const r = tryDir(join('/sys/fs/cgroup', own), 2);
      if (typeof r !== 'string')
        return { status: { ...base, available: true, reason: `cgroup v2 at ${r?.parent}` }, cgroup: r };
      reasons.push(r);
    }
  }
  // cgroup v1 pids hierarchy.
  if (existsSync('/sys/fs/cgroup/pids/cgroup.procs')) {
    const own =
      readFileSync('/proc/self/cgroup', 'utf8')
        .split('\n')
        .map((l) => l.split(':'))
        .find((p) => p[1]?.split(',').includes('pids'))?.[2] ?? '/';
    const r = tryDir(join('/sys/fs/cgroup/pids', own), 1);
    if (typeof r !== 'string')
      return { status: { ...base, available: true, reason: `cgroup v1 pids at ${r?.parent}` }, cgroup: r };
    reasons.push(r);
  }
  if (reasons.length === 0) reasons.push('no writable cgroup v1 pids or v2 hierarchy');
  return { status: { ...base, available: false, reason: reasons.join('; ') }, cgroup: null };
}

let cached: Promise<LinuxProbe> | undefined;

/** Probes bubblewrap, Landlock, seccomp and cgroups. Cached; `refresh` re-probes. */
export function probeLinux(
  options: { refresh?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<LinuxProbe> {
  const env = options.env ?? process.env;
  if (options.refresh || options.env || !cached) {
    const p = Promise.resolve().then(() => cachedProbe(env, () => doProbe(env), options.refresh === true));
    if (!options.env) cached = p;
    return p;
  }
  return cached;
}

function doProbe(env: NodeJS.ProcessEnv): LinuxProbe {
  const mechanisms: MechanismStatus[] = [];
  let bwrapPath: string | null = null;
  let helperPath: string | null = null;
  let landlockAbi = 0;
  let cgroup: LinuxProbe['cgroup'] = null;
  let helperNs = false;
  const diagnosis: { mechanism: string; cause: string; message: string; fix: string }[] = [];

  if (process.platform !== 'linux') {
    for (const id of MECHANISMS) {
      mechanisms.push({
        id,
        label: id,
        available: false,
        reason: `not Linux (${process.platform})`,
        provides: [],
      });
    }
  } else {
    const bw = probeBwrap(env);
    bwrapPath = bw.path;
    mechanisms.push(bw.status);
    if (bw.diagnosis) diagnosis.push({ mechanism: 'bwrap', ...bw.diagnosis });
    const located = locateHelper(env);
    helperPath = located.path;
    const hp = probeHelper(helperPath, located.why);
    // Landlock grants reads by allow-list too, so the deny-read list is outside it.
    const llProvides: Guarantee[] = ['filesystem-write', 'protected-paths', 'secrets'];
    if ('error' in hp) {
      mechanisms.push({
        id: 'landlock',
        label: 'Landlock LSM',
        available: false,
        reason: hp.error,
        provides: llProvides,
      });
      mechanisms.push({
        id: 'seccomp',
        label: 'seccomp-BPF',
        available: false,
        reason: hp.error,
        provides: ['network', 'syscall-filter'],
      });
    } else {
      landlockAbi = hp.landlockAbi;
      if (hp.landlockAbi >= 4) llProvides.push('network-tcp');
      mechanisms.push({
        id: 'landlock',
        label: 'Landlock LSM',
        available: hp.landlockAbi >= 1,
        reason:
          hp.landlockAbi >= 1
            ? `ABI ${hp.landlockAbi}${hp.landlockAbi >= 4 ? ' (filesystem + TCP)' : ' (filesystem only; TCP rules need ABI 4)'}${hp.landlockAbi >= 6 ? ' + signal/abstract-socket scoping' : ''}`
            : `kernel refuses Landlock: ${hp.landlockError || 'unsupported'} (needs Linux ≥ 5.13 with landlock in the lsm= list)`,
        provides: llProvides,
        details: { abi: hp.landlockAbi, helper: helperPath },
      });
      const seccompOk = hp.seccompFilter;
      mechanisms.push({
        id: 'seccomp',
        label: 'seccomp-BPF',
        available: seccompOk,
        reason: seccompOk
          ? `filter mode with SECCOMP_RET_ERRNO (${hp.arch}; foreign/x32 ABIs killed)`
          : `seccomp filters unavailable: ${hp.seccompError || 'unknown'}`,
        provides: ['network', 'syscall-filter'],
        details: { arch: hp.arch, helper: helperPath },
      });
    }
    const nsDisabled = env[HELPER_NS_ENV] === '0';
    helperNs = !('error' in hp) && hp.canUnshare === true && !nsDisabled;
    mechanisms.push({
      id: 'helper-ns',
      label: "helper's own namespaces (IPC, UTS, mount: read-only disk, fresh /run, masks)",
      available: helperNs,
      reason:
        'error' in hp
          ? hp.error
          : nsDisabled
            ? `disabled by ${HELPER_NS_ENV}=0`
            : hp.canUnshare
              ? 'the helper can unshare IPC, UTS and mount namespaces (CAP_SYS_ADMIN)'
              : hp.nsError
                ? hp.nsError
                : 'needs CAP_SYS_ADMIN (root); without it Landlock alone bounds writes and metadata changes outside the roots are not blocked',
      provides: ['filesystem-write', 'protected-paths', 'private-tmp', 'secrets', 'host-sockets', 'metadata'],
    });
    const cg = probeCgroup();
    cgroup = cg.cgroup;
    mechanisms.push(cg.status);
  }

  const available = (id: string) => mechanisms.find((m) => m.id === id)?.available === true;
  // Every rung but `none` starts through the helper (capabilities, descriptors, proof of launch):
  // without it no such rung is offered.
  const rungs: RungStatus[] = LINUX_RUNGS.map((r) => {
    const all = r.core.length > 0 ? [...r.core, ...(r.optional ?? []), 'cgroup-pids'] : [];
    const needsHelper = r.core.length > 0 && helperPath === null;
    return {
      id: r.id,
      label: r.label,
      mechanisms: all,
      available: r.core.every(available) && !needsHelper,
      missing: [...all.filter((m) => !available(m)), ...(needsHelper ? ['helper'] : [])],
      ...(r.diagnostic ? { diagnostic: true } : {}),
    };
  });
  const forced = forcedRung(env, LINUX_RUNGS, 'Linux');
  return {
    status: {
      backend: 'linux',
      platform: `${process.platform}-${process.arch}`,
      mechanisms,
      rungs,
      ...selectRung(rungs, forced, 'none'),
      forced,
      ...(diagnosis.length > 0 ? { diagnosis } : {}),
    },
    helperPath,
    bwrapPath,
    landlockAbi,
    cgroup,
    helperNs,
  };
}
