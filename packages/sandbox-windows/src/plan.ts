import { isWithin, type SandboxPolicy } from '@codex/security-profile';

/** How the helper isolates the command (see native/codex-sandbox-win.c). */
export type WindowsMode = 'appcontainer' | 'restricted-token' | 'job-only';

export const DEFAULT_MEMORY_MB = 4096;

export interface WindowsPlanInput {
  readonly policy: SandboxPolicy;
  readonly mode: WindowsMode;
  /** The command line for CreateProcessW (from buildWindowsCommandLine). */
  readonly commandLine: string;
  readonly cwd: string;
  /** Directory of the resolved program: AppContainer processes can only read what grants them. */
  readonly programDir?: string | null;
  /** A fresh private directory for TEMP/TMP. */
  readonly tmpDir?: string | null;
  /** Resolved `gitdir:` targets and similar, protected like `.git`. */
  readonly extraProtectedPaths?: readonly string[];
  /** Whether a path exists (an ACE can only be put on an existing file or directory). */
  readonly exists: (path: string) => boolean;
  readonly maxProcesses: number;
  readonly memoryMb?: number;
  readonly timeoutMs: number;
}

export interface WindowsPlan {
  readonly mode: WindowsMode;
  /** Arguments for codex-sandbox-win.exe, ending with `--` and the command line. */
  readonly helperArgs: readonly string[];
  readonly grantWrite: readonly string[];
  readonly grantRead: readonly string[];
  readonly denyWrite: readonly string[];
  /** Protected paths that do not exist at launch: no ACE can guard them, the command may create them. */
  readonly unguardedProtected: readonly string[];
}

const lower = (p: string) => p.toLowerCase();
const uniq = (xs: readonly string[]) => {
  const seen = new Set<string>();
  return xs.filter((x) => {
    if (seen.has(lower(x))) return false;
    seen.add(lower(x));
    return true;
  });
};

/**
 * Plans the ACL grants and helper arguments for one run.
 *
 * - Writable roots (and the private TEMP) get a write grant for the run's SID, inherited by
 *   everything beneath; protected paths that exist get an inherited deny-write ACE (deny ACEs
 *   are ordered first, so they win over the inherited grant of the root).
 * - AppContainer can only read what grants it (plus system directories readable by all
 *   application packages), so the workspace, the cwd and the program's directory get a read
 *   grant. The restricted token reads as the user, so it needs none.
 * - `fullDiskWrite` policies (trusted, not explicit) get the Job Object only.
 */
export function planWindowsLaunch(input: WindowsPlanInput): WindowsPlan {
  const { policy } = input;
  const mode: WindowsMode = policy.fullDiskWrite ? 'job-only' : input.mode;
  const sandboxed = mode !== 'job-only';
  const grantWrite = sandboxed
    ? uniq([...policy.writableRoots.map((w) => w.root), ...(input.tmpDir ? [input.tmpDir] : [])])
    : [];
  const protectedPaths = sandboxed
    ? uniq([
        ...policy.writableRoots.flatMap((w) => w.readOnlySubpaths),
        ...(input.extraProtectedPaths ?? []).filter((p) =>
          policy.writableRoots.some((w) => isWithin(p, w.root) && lower(p) !== lower(w.root)),
        ),
      ])
    : [];
  const denyWrite = protectedPaths.filter(input.exists);
  const unguardedProtected = protectedPaths.filter((p) => !input.exists(p));
  const grantRead =
    mode === 'appcontainer'
      ? uniq([input.cwd, ...(input.programDir ? [input.programDir] : [])]).filter(
          (p) => !grantWrite.some((w) => isWithin(p, w)),
        )
      : [];
  const helperArgs = [
    '--mode',
    mode,
    '--network',
    policy.network.mode,
    ...grantWrite.flatMap((p) => ['--grant-write', p]),
    ...grantRead.flatMap((p) => ['--grant-read', p]),
    ...denyWrite.flatMap((p) => ['--deny-write', p]),
    '--max-processes',
    String(input.maxProcesses),
    '--memory-mb',
    String(input.memoryMb ?? DEFAULT_MEMORY_MB),
    '--timeout-ms',
    String(input.timeoutMs),
    '--',
    input.commandLine,
  ];
  return { mode, helperArgs, grantWrite, grantRead, denyWrite, unguardedProtected };
}
