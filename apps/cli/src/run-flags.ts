// Flags shared by `codex exec` and `codex sandbox run`, and how their results are printed.
import {
  APPROVAL_ENV,
  APPROVAL_MODES,
  type ApprovalMode,
  effectiveApprovalMode,
  resolveWorkspace,
  sandboxPolicyFor,
  type Workspace,
} from '@codex/core';
import {
  type Assessment,
  createTerminalFilter,
  DEFAULT_TIMEOUT_MS,
  describeAssessment,
} from '@codex/sandbox-contract';
import { CAPABILITIES, type SecurityProfile, UnknownApprovalModeError } from '@codex/security-profile';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { line, paint } from './output.js';
import { bool, defined, type Flags, int, list, str, type Values } from './spec.js';

/** The longest time a timer can wait (2^31-1 ms, about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER = { max: 2_147_483_647 } as const;

/** Flags of the commands that run something in the sandbox (`codex exec`, `codex sandbox run`). */
export const RUN_FLAGS = {
  workspace: list('DIR', 'a workspace root (repeatable; default: [sandbox] workspace_roots, else the cwd)'),
  writable: list('DIR', 'one more writable root (workspace-* profiles)'),
  'allow-degraded': bool('run even when the sandbox cannot enforce the profile'),
  'require-full-isolation': bool('refuse anything below the full rung (also sandbox.require_full_isolation)'),
  rung: str('R', 'use this rung of the degradation chain (see codex sandbox status)'),
  timeout: int('MS', `kill the process tree after MS ms (default ${DEFAULT_TIMEOUT_MS})`, MAX_TIMER),
  'max-output': int('BYTES', 'keep at most BYTES of stdout and of stderr'),
  'max-processes': int('N', 'at most N processes in the sandbox'),
} as const satisfies Flags;

/** `-a/--ask-for-approval`, for the commands that run the guarded pipeline (exec, supervise, worker, mcp serve). */
export const APPROVAL_FLAG = {
  'ask-for-approval': str(
    'MODE',
    `how prompt decisions are handled (${APPROVAL_MODES.join(', ')};\ndefault ${APPROVAL_ENV}, else config approval.mode, else on-request)`,
    'a',
  ),
} as const satisfies Flags;

/** `--policy`, for the commands that evaluate the exec policy. */
export const POLICY_FLAG = {
  policy: list(
    '[LAYER:]FILE',
    'add an exec-policy layer (TOML, or .json); LAYER: user (default), project, admin',
  ),
} as const satisfies Flags;

/**
 * The approval mode: `-a/--ask-for-approval`, else `CODEX_APPROVAL_MODE`, else the config's
 * `approval.mode` (default `on-request`). A bad value is a usage error naming the valid modes.
 */
export function approvalModeFor(ctx: CliContext): ApprovalMode {
  const flag = ctx.approvalFlag;
  try {
    return effectiveApprovalMode(ctx.config, ctx.env, flag).mode;
  } catch (error) {
    if (!(error instanceof UnknownApprovalModeError)) throw error;
    throw new UsageError(
      `${flag !== undefined ? '--ask-for-approval' : APPROVAL_ENV}: unknown approval mode "${error.input}"; valid modes: ${APPROVAL_MODES.join(', ')}`,
    );
  }
}

export interface RunFlags {
  readonly profile: SecurityProfile;
  readonly explicit: boolean;
  readonly workspace: Workspace;
  readonly allowDegraded: boolean;
  readonly requireFullIsolation: boolean;
  readonly rung?: string;
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
  readonly maxProcesses?: number;
}

/** Reads the shared run flags (`--workspace`, `--writable`, limits…) against the context. */
export function runFlags(ctx: CliContext, values: Values<typeof RUN_FLAGS>): RunFlags {
  const { profile, explicitProfile: explicit } = ctx;
  const { writable = [], workspace: workspaceRoots, rung } = values;
  if (CAPABILITIES[profile].write === 'none' && writable.length > 0) {
    throw new UsageError(`--writable cannot be used with profile ${profile}, which writes nothing`);
  }
  return {
    ...{ profile, explicit, allowDegraded: values['allow-degraded'] === true },
    workspace: resolveWorkspace(ctx.config, profile, ctx.cwd, {
      writable,
      ...(workspaceRoots ? { workspaceRoots } : {}),
    }),
    requireFullIsolation:
      values['require-full-isolation'] === true || ctx.config.sandbox.require_full_isolation,
    ...defined({ rung, timeoutMs: values.timeout, maxOutputBytes: values['max-output'] }),
    ...defined({ maxProcesses: values['max-processes'] }),
  };
}

export function policyFor(flags: RunFlags) {
  return sandboxPolicyFor(flags.profile, flags.workspace, flags.explicit);
}

/** Prints the rung line and every weakness on stderr (never silently weaker). */
export function reportAssessment(ctx: CliContext, a: Assessment): void {
  line(
    ctx.stderr,
    paint(ctx, a.full || a.skipped ? 'dim' : 'yellow', `codex: sandbox: ${describeAssessment(a)}`),
  );
  for (const note of a.notes) line(ctx.stderr, paint(ctx, 'yellow', `codex: sandbox: warning: ${note}`));
}

/**
 * The end of a sandboxed run, as `codex exec` and `codex sandbox run` print it: a refusal on
 * stderr (a JSON error with --json), else the result as JSON on stdout with --json, else a
 * timeout on stderr (the command's own output was live).
 */
export function reportRun(
  ctx: CliContext,
  who: string,
  r: { refusal?: { code: string; message: string }; json?: object; timedOut?: boolean; timeoutMs?: number },
): void {
  if (r.refusal) {
    const { code, message } = r.refusal;
    if (ctx.json) line(ctx.stderr, JSON.stringify({ error: { code, message } }));
    else line(ctx.stderr, paint(ctx, 'red', `codex: ${who}: refused (${code}): ${message}`));
  } else if (ctx.json) line(ctx.stdout, JSON.stringify(r.json, null, 2));
  else if (r.timedOut) {
    const after = `${r.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`;
    line(ctx.stderr, paint(ctx, 'red', `codex: ${who}: timed out after ${after}; killed the process tree`));
  }
}

/**
 * Live output for the terminal; nothing in --json mode (the result carries it). On a terminal it
 * is stripped of control sequences that act on it (OSC 52 clipboard writes, erasure, cursor moves).
 */
export function liveOutput(ctx: CliContext) {
  if (ctx.json) return {};
  const filters = { stdout: createTerminalFilter(), stderr: createTerminalFilter() };
  return {
    onOutput: (s: 'stdout' | 'stderr', c: Uint8Array) => {
      const out = s === 'stdout' ? ctx.stdout : ctx.stderr;
      if ((out as { isTTY?: boolean }).isTTY === true) out.write(filters[s](Buffer.from(c).toString('utf8')));
      else out.write(c);
    },
  };
}

/**
 * A one-shot process compiles the policy engine's wasm (a 1.3 MB grammar) with V8's baseline
 * compiler only: optimising tier-up costs about a second of CPU that one evaluation never earns
 * back. Must run before the first WebAssembly compile; long-running hosts keep V8's defaults.
 */
export function oneShotWasm(): void {
  // node:v8 is loaded only here (~4 ms): commands pass this as `beforeParserLoad`, so a command
  // that never needs the bash parser never loads it.
  const v8 = process.getBuiltinModule('node:v8') as typeof import('node:v8');
  v8.setFlagsFromString(ONE_SHOT_V8_FLAGS);
  // bin.ts keeps compiled code per command, and V8 refuses cached code made under other flags: it
  // reads this to set the same flag before compiling on the command's next run.
  (globalThis as Record<symbol, unknown>)[Symbol.for('codex.v8Flags')] = ONE_SHOT_V8_FLAGS;
}

const ONE_SHOT_V8_FLAGS = '--liftoff-only';
