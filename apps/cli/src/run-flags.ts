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
import { type Assessment, createTerminalFilter, describeAssessment } from '@codex/sandbox-contract';
import {
  CAPABILITIES,
  parseProfile,
  type SecurityProfile,
  UnknownApprovalModeError,
} from '@codex/security-profile';
import { intFlag } from './args.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { line, paint } from './output.js';

export const RUN_OPTIONS = {
  workspace: { type: 'string', multiple: true },
  writable: { type: 'string', multiple: true },
  'allow-degraded': { type: 'boolean' },
  'require-full-isolation': { type: 'boolean' },
  rung: { type: 'string' },
  timeout: { type: 'string' },
  'max-output': { type: 'string' },
  'max-processes': { type: 'string' },
} as const;

/** `-a/--ask-for-approval`: for the commands that run the guarded pipeline (exec, supervise, worker, mcp serve). */
export const APPROVAL_OPTIONS = { 'ask-for-approval': { type: 'string', short: 'a' } } as const;

/** Help text for the flag, shared by every command that takes it. */
export const APPROVAL_HELP = `-a, --ask-for-approval MODE  how prompt decisions are handled (${APPROVAL_MODES.join(', ')};
                      default ${APPROVAL_ENV}, else config approval.mode, else on-request)`;

/**
 * The approval mode: `-a/--ask-for-approval`, else `CODEX_APPROVAL_MODE`, else the config's
 * `approval.mode` (default `on-request`). A bad value is a usage error naming the valid modes.
 */
export function approvalModeFor(ctx: CliContext, values: Record<string, unknown>): ApprovalMode {
  const raw = values['ask-for-approval'] ?? ctx.approvalFlag;
  const flag = typeof raw === 'string' ? raw : undefined;
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
export function runFlags(ctx: CliContext, values: Record<string, unknown>): RunFlags {
  const profile = typeof values.profile === 'string' ? parseProfile(values.profile) : ctx.profile;
  const writable = (values.writable as string[] | undefined) ?? [];
  if (CAPABILITIES[profile].write === 'none' && writable.length > 0) {
    throw new UsageError(`--writable cannot be used with profile ${profile}, which writes nothing`);
  }
  const workspaceRoots = values.workspace as string[] | undefined;
  const timeoutMs = intFlag('timeout', values.timeout);
  const maxOutputBytes = intFlag('max-output', values['max-output']);
  const maxProcesses = intFlag('max-processes', values['max-processes']);
  return {
    profile,
    explicit: typeof values.profile === 'string' || ctx.explicitProfile,
    workspace: resolveWorkspace(ctx.config, profile, ctx.cwd, {
      writable,
      ...(workspaceRoots ? { workspaceRoots } : {}),
    }),
    allowDegraded: values['allow-degraded'] === true,
    requireFullIsolation:
      values['require-full-isolation'] === true || ctx.config.sandbox.require_full_isolation,
    ...(typeof values.rung === 'string' ? { rung: values.rung } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(maxOutputBytes ? { maxOutputBytes } : {}),
    ...(maxProcesses ? { maxProcesses } : {}),
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
