import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { isWithin, type SandboxPolicy } from '@codex/security-profile';

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

/** `core.hooksPath` from a git config file, if set (resolved against the work tree). */
function hooksPathOf(gitDir: string, workTree: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(gitDir, 'config'), 'utf8');
  } catch {
    return null;
  }
  let inCore = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inCore = /^\[core\]$/i.test(line);
    const m = inCore ? /^hookspath\s*=\s*(.+)$/i.exec(line) : null;
    if (m?.[1]) {
      const v = m[1].trim().replace(/^"(.*)"$/, '$1');
      return isAbsolute(v) ? v : resolve(workTree, v);
    }
  }
  return null;
}

/**
 * Every path that must stay read-only inside the writable roots: the policy's protected
 * subpaths that exist, the target of a `.git` *file* (`gitdir: …`, used by worktrees and
 * submodules), which holds the hooks and config of that checkout, and a `core.hooksPath`
 * directory configured in the repository.
 */
export function protectedPaths(policy: SandboxPolicy): string[] {
  const out = new Set<string>();
  for (const w of policy.writableRoots) {
    for (const p of w.readOnlySubpaths) {
      if (!exists(p)) continue;
      out.add(p);
      if (!p.endsWith('/.git')) continue;
      try {
        let gitDir = p;
        if (statSync(p).isFile()) {
          const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(p, 'utf8'));
          if (!m?.[1]) continue;
          const target = m[1].trim();
          gitDir = isAbsolute(target) ? target : resolve(p, '..', target);
          if (exists(gitDir)) out.add(gitDir);
        }
        const hooks = hooksPathOf(gitDir, w.root);
        if (hooks && exists(hooks)) out.add(hooks);
      } catch {
        /* unreadable: it stays protected itself */
      }
    }
  }
  return [...out].sort();
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
  /** Egress (`proxied`): paths bound read-only into the sandbox (proxy socket dir, forwarder). */
  readonly egressBinds?: readonly string[];
}

export interface LaunchPlan {
  readonly argv: readonly string[];
  /** Extra environment entries (TMPDIR). */
  readonly env: Readonly<Record<string, string>>;
  /** Paths Landlock leaves writable (for diagnostics and tests). */
  readonly landlockWritable: readonly string[];
  readonly protectedPaths: readonly string[];
}

/** Builds the full argv: `[helper --cgroup …] [bwrap … --] [helper --landlock --seccomp … --] cmd`. */
export function planLaunch(input: PlanInput): LaunchPlan {
  const { policy, mechanisms, command, cwd } = input;
  const useBwrap = mechanisms.includes('bwrap');
  const useLandlock = mechanisms.includes('landlock');
  const useSeccomp = mechanisms.includes('seccomp');
  const useCgroup = mechanisms.includes('cgroup-pids') && input.cgroupDir !== null;
  const noNetwork = policy.network.mode === 'none';
  // `proxied` keeps its own, empty network namespace too; the egress bridge is the only way out.
  const ownNetns = policy.network.mode !== 'full';
  const roots = policy.writableRoots.map((w) => w.root);
  const prot = protectedPaths(policy);
  const env: Record<string, string> = {};

  if ((useLandlock || useSeccomp || useCgroup) && !input.helperPath) {
    throw new Error('internal: helper required but not built');
  }
  if (useBwrap && !input.bwrapPath) throw new Error('internal: bwrap required but not found');

  const argv: string[] = [];
  const inner: string[] = [];
  let landlockWritable: string[] = [];
  if (useLandlock) {
    if (policy.fullDiskWrite) landlockWritable = ['/'];
    else if (useBwrap) {
      // bubblewrap already binds the protected paths read-only; Landlock bounds writes to the roots.
      landlockWritable = [...roots, ...(policy.privateTmp ? ['/tmp'] : [])];
    } else {
      landlockWritable = roots.flatMap((r) => expandWithExclusions(r, prot));
      if (input.privateTmpDir) landlockWritable.push(input.privateTmpDir);
    }
    landlockWritable.push(...WRITABLE_DEVICES);
    inner.push('--landlock', ...landlockWritable.flatMap((p) => ['--rw', p]));
  }
  if (useSeccomp) {
    inner.push('--seccomp');
    // Nothing may be written and no read-only mount hides the disk: metadata changes (chmod,
    // chown, utimes, xattrs), which Landlock does not cover, are denied outright.
    if (!useBwrap && roots.length === 0 && !policy.fullDiskWrite) inner.push('--no-chmod');
  }
  if ((useLandlock || useSeccomp) && noNetwork) inner.push('--no-network');

  if (useBwrap) {
    if (useCgroup) argv.push(input.helperPath!, '--cgroup', input.cgroupDir!, '--');
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
    argv.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
    if (policy.privateTmp) {
      argv.push('--tmpfs', '/tmp');
      env.TMPDIR = '/tmp';
    }
    if (policy.fullDiskWrite) argv.push('--bind', '/', '/');
    for (const r of roots) if (exists(r)) argv.push('--bind', r, r);
    // The private /tmp hides the host's /tmp, including what the launch itself needs when it
    // lives there (a clone in /tmp, say): the working directory, our helper, and the program.
    // Bring those back, read-only, unless a writable root already covers them.
    if (policy.privateTmp) {
      const needed = [cwd, inner.length > 0 ? input.helperPath : null, command[0]];
      for (const p of new Set(needed)) {
        if (p && isAbsolute(p) && p !== '/tmp' && isWithin(p, '/tmp') && !roots.some((r) => isWithin(p, r))) {
          argv.push('--ro-bind', p, p);
        }
      }
    }
    for (const p of prot) argv.push('--ro-bind', p, p);
    for (const p of input.egressBinds ?? []) argv.push('--ro-bind', p, p);
    argv.push('--chdir', cwd, '--');
    if (inner.length > 0) argv.push(input.helperPath!, ...inner, '--');
  } else if (inner.length > 0 || useCgroup) {
    argv.push(input.helperPath!);
    if (useCgroup) argv.push('--cgroup', input.cgroupDir!);
    argv.push(...inner, '--');
    if (input.privateTmpDir) env.TMPDIR = input.privateTmpDir;
  }
  argv.push(...command);
  return { argv, env, landlockWritable, protectedPaths: prot };
}
