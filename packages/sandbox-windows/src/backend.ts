import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Assessment,
  admit,
  assembleResult,
  assessRung,
  type BackendStatus,
  type CapturedRun,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  requestEnv,
  type SandboxBackend,
  type SandboxRequest,
  type SandboxResult,
  SandboxSetupError,
} from '@codex/sandbox-contract';
import { linkedGitPaths } from '@codex/sandbox-contract/git';
import { runCaptured } from '@codex/sandbox-contract/process';
import type { SandboxPolicy } from '@codex/security-profile';
import { planWindowsLaunch, type WindowsMode } from './plan.js';
import { probeWindows, type WindowsProbe, type WindowsProbeOptions } from './probe.js';
import { buildWindowsCommandLine, resolveWindowsCommand } from './quote.js';

export const DEFAULT_MAX_PROCESSES = 256;
/** Exit status of the helper when it could not set up the sandbox (the command never ran). */
export const HELPER_SETUP_EXIT = 121;
export const HELPER_TIMEOUT_EXIT = 124;

export interface WindowsSandboxOptions extends Omit<WindowsProbeOptions, 'refresh'> {
  /** Maps a host path to the path the helper sees (identity on Windows; `Z:\…` under wine). */
  readonly toHelperPath?: (hostPath: string) => string;
  /** Resolves argv[0] to the program to run (default: PATH + PATHEXT, never the cwd). */
  readonly resolveProgram?: (command: string, env: Readonly<Record<string, string>>) => string;
  /** Job memory limit in MiB (default 4096). */
  readonly memoryMb?: number;
}

function notesFor(a: Assessment, status: BackendStatus): Assessment {
  if (a.skipped) return a;
  const notes = [...a.notes];
  if (a.rung === 'restricted-token' && a.profile !== 'net-read-only' && a.profile !== 'workspace-net') {
    notes.push('network: a restricted token does not block sockets; only AppContainer does');
  }
  const ac = status.mechanisms.find((m) => m.id === 'appcontainer');
  if (ac && !ac.available && a.rung !== 'appcontainer')
    notes.unshift(`AppContainer unavailable: ${ac.reason}`);
  return { ...a, notes };
}

async function runWindows(
  request: SandboxRequest,
  probe: WindowsProbe,
  o: WindowsSandboxOptions,
): Promise<SandboxResult> {
  const assessment = notesFor(admit(request, probe.status), probe.status);
  const hygiene = requestEnv(request, process.env);
  const cwd = request.cwd ?? process.cwd();
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const common = {
    cwd,
    maxOutputBytes: request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    ...(request.stdin ? { stdin: request.stdin } : {}),
    ...(request.onOutput ? { onOutput: request.onOutput } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  };
  const finish = (
    r: CapturedRun,
    extra: { timedOut?: boolean; processLimit: string; assessment?: Assessment },
  ): SandboxResult =>
    assembleResult(
      { ...r, timedOut: r.timedOut || extra.timedOut === true },
      {
        assessment: extra.assessment ?? assessment,
        strippedEnv: hygiene.stripped,
        processLimit: extra.processLimit,
      },
    );

  if (assessment.skipped || assessment.rung === 'none') {
    const r = await runCaptured(request.command, { ...common, env: hygiene.env, timeoutMs });
    return finish(r, { processLimit: 'none' });
  }
  if (!probe.helperPath) throw new SandboxSetupError('the Windows helper is not available');
  const map = o.toHelperPath ?? ((p: string) => p);
  const resolve =
    o.resolveProgram ??
    ((c: string, env: Readonly<Record<string, string>>) => resolveWindowsCommand(c, env, existsSync));
  const program = resolve(request.command[0]!, hygiene.env);
  const commandLine = buildWindowsCommandLine([program, ...request.command.slice(1)]);
  const tmpDir = mkdtempSync(join(tmpdir(), 'codex-sbx-tmp-'));
  try {
    const maxProcesses = request.maxProcesses ?? DEFAULT_MAX_PROCESSES;
    const programDir = program.includes('\\') ? program.slice(0, program.lastIndexOf('\\')) : null;
    const plan = planWindowsLaunch({
      policy: mapPolicy(request.policy, map),
      mode: assessment.rung as WindowsMode,
      commandLine,
      cwd: map(cwd),
      programDir,
      tmpDir: map(tmpDir),
      extraProtectedPaths: resolveGitdirTargets(request.policy).map(map),
      exists: (p) => existsSync(p),
      maxProcesses,
      ...(o.memoryMb ? { memoryMb: o.memoryMb } : {}),
      timeoutMs,
    });
    const env = { ...hygiene.env, TEMP: map(tmpDir), TMP: map(tmpDir) };
    // The helper enforces the timeout itself (so it can restore ACLs); this one is the backstop.
    const r = await runCaptured([...probe.launcher, probe.helperPath, ...plan.helperArgs], {
      ...common,
      env,
      timeoutMs: timeoutMs + 15_000,
    });
    if (r.exitCode === HELPER_SETUP_EXIT && /^codex-sandbox-win: /m.test(r.stderr)) {
      const line = r.stderr
        .split(/\r?\n/)
        .find((l) => l.startsWith('codex-sandbox-win: ') && !l.includes('note:'));
      if (line) throw new SandboxSetupError(`sandbox setup failed: ${line}`, r.stderr);
    }
    const timedOut = r.exitCode === HELPER_TIMEOUT_EXIT && /^codex-sandbox-win: timeout/m.test(r.stderr);
    const withNotes =
      plan.unguardedProtected.length > 0
        ? {
            ...assessment,
            notes: [
              ...assessment.notes,
              `protected paths absent at launch can be created (no ACE possible): ${plan.unguardedProtected.join(', ')}`,
            ],
          }
        : assessment;
    return finish(r, {
      timedOut,
      processLimit: `job-object active-process-limit=${maxProcesses}`,
      assessment: withNotes,
    });
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * Protected like `.git` itself: where a writable root's `.git` is a file (`gitdir: …`: worktrees,
 * submodules), its target and, for a worktree, the `commondir` (the shared repository with hooks
 * and config); and a `core.hooksPath` directory configured in the repository (git runs those
 * hooks outside the sandbox).
 */
export function resolveGitdirTargets(policy: SandboxPolicy): string[] {
  const out = new Set<string>();
  for (const w of policy.writableRoots) {
    for (const p of w.readOnlySubpaths) {
      if (!/[\\/]\.git$/.test(p)) continue;
      for (const linked of linkedGitPaths(p, w.root)) out.add(linked);
    }
  }
  return [...out].sort();
}

function mapPolicy(policy: SandboxPolicy, map: (p: string) => string): SandboxPolicy {
  return {
    ...policy,
    readableRoots: policy.readableRoots.map(map),
    writableRoots: policy.writableRoots.map((w) => ({
      root: map(w.root),
      readOnlySubpaths: w.readOnlySubpaths.map(map),
    })),
  };
}

/**
 * The Windows backend: the native helper runs the command in an AppContainer (no network
 * capability, ACL grants for the writable roots) inside a Job Object (kill-on-close, process and
 * memory limits), degrading to a write-restricted token + Job Object, then Job Object only, and
 * reporting which.
 */
export function createWindowsSandbox(options: WindowsSandboxOptions = {}): SandboxBackend {
  const get = (refresh = false) => probeWindows({ ...options, refresh });
  return {
    id: 'windows',
    async probe(o = {}): Promise<BackendStatus> {
      return (await get(o.refresh === true)).status;
    },
    assess(policy: SandboxPolicy, status: BackendStatus, rung?: string): Assessment {
      return notesFor(assessRung(policy, status, rung ?? status.selected), status);
    },
    async run(request: SandboxRequest): Promise<SandboxResult> {
      const status = await get();
      // The helper builds its token and job at launch: nothing to set up ahead of the go-ahead.
      if (request.startWhen) await request.startWhen;
      return runWindows(request, status, options);
    },
  };
}

export const windowsSandbox: SandboxBackend = createWindowsSandbox();
