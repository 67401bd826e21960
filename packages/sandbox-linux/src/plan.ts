import { lstatSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isWithin, type SandboxPolicy } from '@codex/security-profile';
import { gitLayout } from './git-protect.js';

/** Device nodes a command may always write (they hold no data). */
export const WRITABLE_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/tty', '/dev/ptmx', '/dev/pts'];

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every existing path that must stay read-only inside the writable roots (see `gitLayout`):
 * `.codex`, `.agents`, and what of git can run code — `config` and its includes,
 * `config.worktree`, `hooks`, `info`, `modules`, a `core.hooksPath` directory, a `.git` file and
 * the git dir it points to's code-running parts, submodules' `.git`, programs named by config
 * that live in the workspace.
 */
export function protectedPaths(policy: SandboxPolicy, home = homedir()): string[] {
  return [...gitLayout(policy, home).protected];
}

/**
 * Landlock can only *grant* access beneath a directory, never carve a read-only hole inside a
 * granted one. To keep `excluded` paths read-only inside a writable `dir`, grant each sibling
 * on the way down instead of `dir` itself. Consequence (documented): new entries cannot be
 * created directly in a directory that contains a protected path, e.g. the workspace root when
 * it has a `.git`; existing entries and everything below them stay writable.
 * Symlinks are never granted (their target is checked under its own path).
 */
export function expandWithExclusions(dir: string, excluded: readonly string[]): string[] {
  if (excluded.some((e) => isWithin(dir, e))) return [];
  if (!excluded.some((e) => e !== dir && isWithin(e, dir))) return [dir];
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) continue;
    if (excluded.includes(p)) continue;
    if (st.isDirectory()) out.push(...expandWithExclusions(p, excluded));
    else out.push(p);
  }
  return out;
}

export interface PlanInput {
  readonly policy: SandboxPolicy;
  readonly mechanisms: readonly string[];
  readonly command: readonly string[];
  readonly cwd: string;
  readonly helperPath: string | null;
  readonly bwrapPath: string | null;
  /** Per-run cgroup directory (already created), when the pids limit is used. */
  readonly cgroupDir: string | null;
  /** Private TMPDIR for rungs without a mount namespace (created by the caller). */
  readonly privateTmpDir: string | null;
  /** Paths that stay read-only (default: `protectedPaths(policy)`). All must exist. */
  readonly protectedPaths?: readonly string[];
  /** Git directories outside the roots that `git commit` writes (a linked worktree's). */
  readonly gitWritable?: readonly string[];
  /** Writable git directories inside the roots, bound onto themselves (cannot be renamed away). */
  readonly pinned?: readonly string[];
  /** Existing secrets to make unreadable (real paths), with whether each is a directory. */
  readonly denyRead?: readonly { readonly path: string; readonly dir: boolean }[];
  /** Mode-000 empty directory and file bound over the secrets. */
  readonly masks?: { readonly dir: string; readonly file: string } | null;
  /** Nonce the helper prints when every layer is in place (the launch proves the rung). */
  readonly nonce?: string | null;
  /** The host's namespaces ("pid:[…],mnt:[…]"): the helper inside bwrap refuses to run in them. */
  readonly hostNs?: string | null;
  /** The target of /etc/resolv.conf when it lives under /run (kept visible under a fresh /run). */
  readonly resolvConf?: string | null;
  /** Egress (`proxied`): paths bound read-only into the sandbox (the proxy's socket directory). */
  readonly egressBinds?: readonly string[];
  /** Egress (`proxied`): the helper's `--forward` specs (loopback port = proxy socket). */
  readonly forwards?: readonly string[];
  /** The helper waits for the launcher's go-ahead (`--gate`) once every layer is in place. */
  readonly gate?: boolean;
}

/** The descriptor on which a bwrap launch expects the per-run cgroup's `cgroup.procs`. */
export const CGROUP_PROCS_FD = 3;

export interface LaunchPlan {
  readonly argv: readonly string[];
  /** The launcher must get the cgroup's `cgroup.procs`, open for writing, as {@link CGROUP_PROCS_FD}. */
  readonly cgroupProcsFd: boolean;
  /**
   * The descriptor on which the helper waits for the go-ahead (right after the cgroup's, when
   * there is one), or null when the launch does not wait.
   */
  readonly gateFd: number | null;
  /** Extra environment entries (TMPDIR). */
  readonly env: Readonly<Record<string, string>>;
  /** Paths Landlock leaves writable (for diagnostics and tests). */
  readonly landlockWritable: readonly string[];
  /** Paths Landlock leaves readable when it enforces the deny-read list (empty otherwise). */
  readonly landlockReadable: readonly string[];
  readonly protectedPaths: readonly string[];
}

/** Host directories whose Unix sockets a sandbox must not reach (fresh, empty mounts). */
export const HOST_SOCKET_DIRS = ['/run', '/dev/shm'] as const;

/**
 * Builds the full argv:
 * `[bwrap … --] helper [--cgroup-fd 3 | --cgroup DIR] [namespaces, mounts] --drop-caps
 * [--landlock …] [--seccomp …] --close-fds --ready NONCE -- cmd`.
 *
 * Under bwrap the helper joins the per-run cgroup through descriptor {@link CGROUP_PROCS_FD}, the
 * cgroup's `cgroup.procs` that the launcher opens and passes down (the directory is read-only
 * inside): one exec fewer than a helper in front of bwrap. bwrap's own two processes stay outside
 * the cgroup; everything the command starts is inside, which is what the pids limit and the tree
 * kill are for.
 */
export function planLaunch(input: PlanInput): LaunchPlan {
  const { policy, mechanisms, command, cwd } = input;
  const useBwrap = mechanisms.includes('bwrap');
  const useLandlock = mechanisms.includes('landlock');
  const useSeccomp = mechanisms.includes('seccomp');
  const useNs = mechanisms.includes('helper-ns') && !useBwrap;
  const useCgroup = mechanisms.includes('cgroup-pids') && input.cgroupDir !== null;
  const sandboxed = mechanisms.some((m) => m !== 'cgroup-pids');
  const noNetwork = policy.network.mode === 'none';
  // `proxied` keeps its own, empty network namespace too; the egress bridge is the only way out.
  const ownNetns = policy.network.mode !== 'full';
  const roots = policy.writableRoots.map((w) => w.root);
  const gitWritable = (input.gitWritable ?? []).filter((g) => !roots.some((r) => isWithin(g, r)));
  const writable = [...roots, ...gitWritable];
  const prot = [...(input.protectedPaths ?? protectedPaths(policy))];
  const pinned = input.pinned ?? [];
  const deny = input.denyRead ?? [];
  const masks = input.masks ?? null;
  const env: Record<string, string> = {};

  if ((sandboxed || useCgroup) && !input.helperPath) {
    throw new Error('internal: helper required but not built');
  }
  if (useBwrap && !input.bwrapPath) throw new Error('internal: bwrap required but not found');
  if (deny.length > 0 && (useBwrap || useNs) && !masks) throw new Error('internal: mask sources missing');

  // Paths under /tmp the launch itself needs when a private /tmp hides the host's.
  const neededInTmp = (): string[] => {
    const needed = [cwd, input.helperPath, command[0]];
    return [...new Set(needed)].filter(
      (p): p is string =>
        !!p && isAbsolute(p) && p !== '/tmp' && isWithin(p, '/tmp') && !writable.some((r) => isWithin(p, r)),
    );
  };

  const argv: string[] = [];
  const inner: string[] = [];
  const cgroupProcsFd = useCgroup && useBwrap;
  if (cgroupProcsFd) inner.push('--cgroup-fd', String(CGROUP_PROCS_FD));
  let landlockWritable: string[] = [];
  let landlockReadable: string[] = [];

  // Namespaces and mounts made by the helper itself (no bwrap; needs CAP_SYS_ADMIN, i.e. root).
  if (useNs) {
    inner.push('--unshare-ipc-uts', '--mount-ns', '--tmpfs', '/run');
    if (input.resolvConf) inner.push('--rebind', input.resolvConf);
    inner.push('--tmpfs', '/dev/shm');
    if (policy.privateTmp) {
      inner.push('--tmpfs', '/tmp');
      for (const p of neededInTmp()) inner.push('--rebind', p);
      for (const r of writable) if (isWithin(r, '/tmp') && r !== '/tmp') inner.push('--rebind-rw', r);
      env.TMPDIR = '/tmp';
    }
    if (policy.fullDiskWrite) inner.push('--bind-rw', '/');
    for (const r of writable) if (!(policy.privateTmp && isWithin(r, '/tmp'))) inner.push('--bind-rw', r);
    for (const p of pinned) inner.push('--bind-rw', p);
    for (const p of prot) inner.push('--bind-ro', p);
    for (const d of deny) inner.push('--mask', d.path, d.dir ? masks!.dir : masks!.file);
  }
  if (sandboxed) inner.push('--drop-caps');
  if (useLandlock) {
    if (policy.fullDiskWrite) landlockWritable = ['/'];
    else if (useBwrap || useNs) {
      // Read-only mounts already protect the protected paths; Landlock bounds writes to the roots.
      landlockWritable = [...writable, ...(policy.privateTmp ? ['/tmp'] : [])];
    } else {
      // Without a mount namespace nothing can pin a git dir in place, so it stays read-only as a
      // whole here (no commits on this rung: documented), like a protected path.
      const excluded = [...prot, ...pinned, ...deny.map((d) => d.path)];
      landlockWritable = writable.flatMap((r) => expandWithExclusions(r, excluded));
      if (input.privateTmpDir) landlockWritable.push(input.privateTmpDir);
    }
    landlockWritable.push(...WRITABLE_DEVICES);
    inner.push('--landlock', ...landlockWritable.flatMap((p) => ['--rw', p]));
    if (!useBwrap && deny.length > 0) {
      // Landlock grants reads by allow-list: everything but the secrets (and their parents'
      // other entries, sibling by sibling). Directory listing stays allowed everywhere.
      landlockReadable = expandWithExclusions(
        '/',
        deny.map((d) => d.path),
      );
      inner.push(...landlockReadable.flatMap((p) => ['--read', p]));
    }
  }
  if (useSeccomp) {
    inner.push('--seccomp');
    // Nothing may be written and no read-only mount hides the disk: metadata changes (chmod,
    // chown, utimes, xattrs), which Landlock does not cover, are denied outright.
    if (!useBwrap && !useNs && roots.length === 0 && !policy.fullDiskWrite) inner.push('--no-chmod');
  }
  if ((useLandlock || useSeccomp) && noNetwork) inner.push('--no-network');
  for (const f of input.forwards ?? []) inner.push('--forward', f);
  const gateFd = sandboxed && input.gate ? CGROUP_PROCS_FD + (cgroupProcsFd ? 1 : 0) : null;
  if (gateFd !== null) inner.push('--gate', String(gateFd));
  if (sandboxed) {
    inner.push('--close-fds');
    if (useBwrap && input.hostNs) inner.push('--host-ns', input.hostNs);
    if (input.nonce) inner.push('--ready', input.nonce);
  }

  if (useBwrap) {
    argv.push(
      input.bwrapPath!,
      '--new-session',
      '--die-with-parent',
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup-try',
    );
    if (ownNetns) argv.push('--unshare-net');
    // bubblewrap started by root keeps every capability unless told otherwise.
    argv.push('--cap-drop', 'ALL');
    argv.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
    // A fresh /run: no container engine, D-Bus, systemd or agent sockets of the host.
    argv.push('--tmpfs', '/run');
    if (input.resolvConf) argv.push('--ro-bind', input.resolvConf, input.resolvConf);
    if (policy.privateTmp) {
      argv.push('--tmpfs', '/tmp');
      env.TMPDIR = '/tmp';
    }
    if (policy.fullDiskWrite) argv.push('--bind', '/', '/');
    for (const r of writable) if (exists(r)) argv.push('--bind', r, r);
    // The private /tmp hides the host's /tmp, including what the launch itself needs when it
    // lives there (a clone in /tmp, say): the working directory, our helper, and the program.
    if (policy.privateTmp) for (const p of neededInTmp()) argv.push('--ro-bind', p, p);
    for (const p of pinned) argv.push('--bind', p, p);
    for (const p of prot) argv.push('--ro-bind', p, p);
    for (const d of deny) argv.push('--ro-bind', d.dir ? masks!.dir : masks!.file, d.path);
    for (const p of input.egressBinds ?? []) argv.push('--ro-bind', p, p);
    argv.push('--chdir', cwd, '--');
    if (inner.length > 0) argv.push(input.helperPath!, ...inner, '--');
  } else if (inner.length > 0 || useCgroup) {
    argv.push(input.helperPath!);
    if (useCgroup) argv.push('--cgroup', input.cgroupDir!);
    argv.push(...inner, '--');
    if (input.privateTmpDir && !useNs) env.TMPDIR = input.privateTmpDir;
  }
  argv.push(...command);
  return { argv, env, landlockWritable, landlockReadable, protectedPaths: prot, cgroupProcsFd, gateFd };
}
