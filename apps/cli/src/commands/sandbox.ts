import {
  type Assessment,
  type BackendStatus,
  createTerminalFilter,
  describeAssessment,
  linuxSandbox,
  type SandboxBackend,
  type SandboxResult,
  secretsToMask,
} from '@codex/sandbox-linux';
import { macosSandbox } from '@codex/sandbox-macos';
import { windowsSandbox } from '@codex/sandbox-windows';
import {
  CAPABILITIES,
  CodexError,
  parseProfile,
  type SandboxPolicy,
  type SecurityProfile,
  toSandboxPolicy,
} from '@codex/security-profile';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, table } from '../output.js';

/** Exit codes of `codex sandbox run` and `codex exec` besides the command's own. */
export const SANDBOX_EXIT = {
  /** codex refused to run the command (policy, sandbox unavailable/degraded, setup failure). */
  REFUSED: 125,
  /** The timeout killed the command (like timeout(1)). */
  TIMEOUT: 124,
} as const;

/** The backend for this OS: Linux, macOS (Seatbelt) or Windows (AppContainer); null elsewhere. */
export function backendForPlatform(): SandboxBackend | null {
  if (process.platform === 'linux') return linuxSandbox;
  if (process.platform === 'darwin') return macosSandbox;
  if (process.platform === 'win32') return windowsSandbox;
  return null;
}

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

export interface RunFlags {
  readonly profile: SecurityProfile;
  readonly explicit: boolean;
  readonly workspaceRoots: readonly string[];
  readonly extraWritable: readonly string[];
  readonly allowDegraded: boolean;
  readonly requireFullIsolation: boolean;
  readonly rung?: string;
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
  readonly maxProcesses?: number;
  /** Config `sandbox.deny_read` / `allow_read` / `env_allow` (issue 16). */
  readonly denyRead?: readonly string[];
  readonly allowRead?: readonly string[];
  readonly envAllow?: readonly string[];
}

function positiveInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} needs a positive integer, got "${String(value)}"`);
  return n;
}

function absolute(ctx: CliContext, p: string): string {
  return p.startsWith('/') ? p : `${ctx.cwd.replace(/\/$/, '')}/${p}`;
}

/** Reads the shared run flags (`--workspace`, `--writable`, limits…) against the context. */
export function runFlags(ctx: CliContext, values: Record<string, unknown>): RunFlags {
  const profile = typeof values.profile === 'string' ? parseProfile(values.profile) : ctx.profile;
  const explicit = typeof values.profile === 'string' || ctx.profileSource !== 'default';
  const ws = (values.workspace as string[] | undefined)?.map((p) => absolute(ctx, p));
  const writable = (values.writable as string[] | undefined)?.map((p) => absolute(ctx, p)) ?? [];
  const writes = CAPABILITIES[profile].write !== 'none';
  if (!writes && writable.length > 0) {
    throw new UsageError(`--writable cannot be used with profile ${profile}, which writes nothing`);
  }
  const timeoutMs = positiveInt('timeout', values.timeout);
  const maxOutputBytes = positiveInt('max-output', values['max-output']);
  const maxProcesses = positiveInt('max-processes', values['max-processes']);
  return {
    profile,
    explicit,
    workspaceRoots: ws ?? ctx.config.sandbox.workspace_roots ?? [ctx.cwd],
    extraWritable: writes ? [...ctx.config.sandbox.extra_writable_roots, ...writable] : [],
    allowDegraded: values['allow-degraded'] === true,
    requireFullIsolation:
      values['require-full-isolation'] === true || ctx.config.sandbox.require_full_isolation,
    ...(typeof values.rung === 'string' ? { rung: values.rung } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(maxOutputBytes ? { maxOutputBytes } : {}),
    ...(maxProcesses ? { maxProcesses } : {}),
    denyRead: ctx.config.sandbox.deny_read,
    allowRead: ctx.config.sandbox.allow_read,
    envAllow: ctx.config.sandbox.env_allow,
  };
}

export function policyFor(flags: RunFlags): SandboxPolicy {
  return toSandboxPolicy(flags.profile, {
    workspaceRoots: flags.workspaceRoots,
    extraWritableRoots: flags.extraWritable,
    explicit: flags.explicit,
    ...(flags.denyRead ? { denyRead: flags.denyRead } : {}),
    ...(flags.allowRead ? { allowRead: flags.allowRead } : {}),
  });
}

/** The exit code `codex` returns for a finished run. */
export function exitCodeOf(r: SandboxResult): number {
  if (r.timedOut) return SANDBOX_EXIT.TIMEOUT;
  if (r.exitCode !== null) return r.exitCode;
  const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGSYS: 31, SIGSEGV: 11, SIGINT: 2 };
  return 128 + (signals[r.signal ?? ''] ?? 0);
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
 * Runs `command` in the OS sandbox with live output. Throws the backend's typed errors when it
 * refuses (the caller maps them to exit 125 and audits them).
 */
export async function runInSandbox(
  ctx: CliContext,
  backend: SandboxBackend,
  flags: RunFlags,
  command: readonly string[],
  onAssessment?: (a: Assessment) => void,
): Promise<SandboxResult> {
  const policy = policyFor(flags);
  const status = await backend.probe();
  const assessment = backend.assess(policy, status, flags.rung);
  onAssessment?.(assessment);
  if (!ctx.json) reportAssessment(ctx, assessment);
  return backend.run({
    policy,
    command,
    cwd: ctx.cwd,
    env: ctx.env,
    allowDegraded: flags.allowDegraded,
    requireFullIsolation: flags.requireFullIsolation,
    ...(flags.rung ? { rung: flags.rung } : {}),
    ...(flags.timeoutMs ? { timeoutMs: flags.timeoutMs } : {}),
    ...(flags.maxOutputBytes ? { maxOutputBytes: flags.maxOutputBytes } : {}),
    ...(flags.maxProcesses ? { maxProcesses: flags.maxProcesses } : {}),
    ...(flags.envAllow?.length ? { envHygiene: { allow: flags.envAllow } } : {}),
    ...(ctx.json ? {} : { onOutput: liveOutput(ctx) }),
  });
}

/** Live output; on a terminal, stripped of control sequences that act on it (OSC 52, erasure…). */
function liveOutput(ctx: CliContext): (stream: 'stdout' | 'stderr', chunk: Uint8Array) => void {
  const filters = { stdout: createTerminalFilter(), stderr: createTerminalFilter() };
  return (stream, chunk) => {
    const out = stream === 'stdout' ? ctx.stdout : ctx.stderr;
    if ((out as { isTTY?: boolean }).isTTY === true)
      out.write(filters[stream](Buffer.from(chunk).toString('utf8')));
    else out.write(chunk);
  };
}

export function resultJson(r: SandboxResult): Record<string, unknown> {
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    durationMs: Math.round(r.durationMs),
    stdout: r.stdout,
    stderr: r.stderr,
    stdoutTruncated: r.stdoutTruncated,
    stderrTruncated: r.stderrTruncated,
    sandbox: r.assessment,
    processLimit: r.processLimit,
    strippedEnv: r.strippedEnv,
    observedDenials: r.observedDenials,
  };
}

function printStatus(
  ctx: CliContext,
  status: BackendStatus,
  effective: Assessment | null,
  masked: readonly string[] = [],
): void {
  const mark = (ok: boolean) => (ok ? paint(ctx, 'green', 'yes') : paint(ctx, 'red', 'no'));
  line(ctx.stdout, `Sandbox backend: ${status.backend} (${status.platform})`);
  line(ctx.stdout);
  line(
    ctx.stdout,
    table([
      ['MECHANISM', 'AVAILABLE', 'WHY'],
      ...status.mechanisms.map((m) => [m.id, mark(m.available), m.reason]),
    ]),
  );
  line(ctx.stdout);
  line(
    ctx.stdout,
    table([
      ['RUNG', 'AVAILABLE', 'MECHANISMS', 'MISSING'],
      ...status.rungs.map((r) => [
        `${r.id}${r.id === status.selected ? ' *' : ''}${r.diagnostic ? ' (diagnostic)' : ''}`,
        mark(r.available),
        r.mechanisms.join('+') || '-',
        r.missing.join(', ') || '-',
      ]),
    ]),
  );
  line(
    ctx.stdout,
    paint(
      ctx,
      'dim',
      `* selected rung${status.forced ? ` (forced by CODEX_SANDBOX_RUNG=${status.forced})` : ''}; best available: ${status.best}`,
    ),
  );
  if (effective) {
    line(ctx.stdout);
    line(ctx.stdout, describeAssessment(effective));
    for (const n of effective.notes) line(ctx.stdout, `  - ${n}`);
    if (effective.unenforced.length > 0) {
      line(
        ctx.stdout,
        paint(
          ctx,
          'red',
          `  codex refuses this profile here unless --allow-degraded (missing: ${effective.unenforced.join(', ')})`,
        ),
      );
    }
    if (masked.length > 0) {
      const on = (effective.enforced.secrets?.length ?? 0) > 0;
      line(
        ctx.stdout,
        `${on ? 'Masked (unreadable inside)' : 'NOT masked on this rung'}: ${masked.join(', ')}`,
      );
    }
  }
  for (const d of status.diagnosis ?? []) {
    line(ctx.stdout, paint(ctx, 'yellow', `Host: ${d.mechanism}: ${d.message}`));
    line(ctx.stdout, `  fix: ${d.fix}`);
  }
}

export const command: Command = {
  summary: 'Show which sandbox mechanisms work here, or run a command in the sandbox (no exec policy)',
  usage: `Usage: codex sandbox status [--json]
       codex sandbox run [--profile P] [--workspace DIR]… [--writable DIR]… [--allow-degraded]
                         [--require-full-isolation] [--rung R] [--timeout MS] [--max-output BYTES]
                         [--max-processes N] [--json] -- <cmd…>

status  probes bubblewrap, Landlock, seccomp and cgroups and prints every rung of the
        degradation chain with the reason each mechanism is (un)available, and what the
        effective profile gets here.
run     runs the command in the sandbox only (no exec policy, no audit). Prints the rung that
        enforced it on stderr; refuses when the profile cannot be enforced.

Exit codes: the command's own; 124 timeout; 125 codex refused or the sandbox could not be set
up; 128+N killed by signal N. CODEX_SANDBOX_RUNG=<rung> forces a rung (tests).`,
  async run(ctx, argv) {
    const { values, positionals, rest } = parse(argv, RUN_OPTIONS);
    const [action, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const backend = backendForPlatform();
    if (action === 'status') {
      if (rest.length > 0) throw new UsageError('"codex sandbox status" takes no command');
      if (!backend) {
        const msg = `no sandbox backend for ${process.platform} yet; every command would run unsandboxed, so codex refuses them`;
        if (ctx.json)
          line(ctx.stdout, JSON.stringify({ backend: null, platform: process.platform, message: msg }));
        else line(ctx.stdout, msg);
        return EXIT.OK;
      }
      const status = await backend.probe();
      const flags = runFlags(ctx, values);
      const policy = policyFor(flags);
      const effective = backend.assess(policy, status, flags.rung);
      const masked = secretsToMask(policy).map((m) => m.path);
      if (ctx.json) line(ctx.stdout, JSON.stringify({ ...status, effective, masked }, null, 2));
      else printStatus(ctx, status, effective, masked);
      return EXIT.OK;
    }
    if (action === 'run') {
      if (rest.length === 0) throw new UsageError('missing command: codex sandbox run [options] -- <cmd…>');
      if (!backend) throw new UsageError(`no sandbox backend for ${process.platform}`);
      const flags = runFlags(ctx, values);
      try {
        const r = await runInSandbox(ctx, backend, flags, rest);
        if (flags.allowDegraded && r.assessment.unenforced.length > 0) {
          // `sandbox run` has no exec policy and no audit trail of its own, but choosing to run
          // weaker than the profile is always audited.
          const { createAuditLoggerFromConfig } = await import('@codex/audit');
          const audit = createAuditLoggerFromConfig(ctx.config.audit, {
            home: ctx.codexHome,
            env: ctx.env,
            flushIntervalMs: 0,
          });
          try {
            await audit.log({
              profile: flags.profile,
              agent_type: 'codex-sandbox-run',
              operation: 'process_spawn',
              target: rest.join(' '),
              decision: 'allowed',
              reason: `--allow-degraded: ran under profile ${flags.profile} with rung ${r.assessment.rung} (${r.assessment.mechanisms.join('+') || 'nothing'}), which does NOT enforce ${r.assessment.unenforced.join(', ')}: exit ${exitCodeOf(r)}`,
            });
          } finally {
            await audit.close();
          }
        }
        if (ctx.json) line(ctx.stdout, JSON.stringify(resultJson(r), null, 2));
        else if (r.timedOut)
          line(
            ctx.stderr,
            paint(
              ctx,
              'red',
              `codex: sandbox: timed out after ${flags.timeoutMs ?? 600_000} ms; killed the process tree`,
            ),
          );
        return exitCodeOf(r);
      } catch (error) {
        if (error instanceof CodexError && error.code.startsWith('SANDBOX_')) {
          if (ctx.json)
            line(ctx.stderr, JSON.stringify({ error: { code: error.code, message: error.message } }));
          else
            line(ctx.stderr, paint(ctx, 'red', `codex: sandbox: refused (${error.code}): ${error.message}`));
          return SANDBOX_EXIT.REFUSED;
        }
        throw error;
      }
    }
    throw new UsageError(`unknown action "${action ?? ''}" for "codex sandbox"; use status or run`);
  },
};
