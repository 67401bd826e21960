import { backendForPlatform, exitCodeOf, GUARDED_EXIT, maskedSecretPaths, runSandboxOnly } from '@codex/core';
import {
  type Assessment,
  type BackendStatus,
  DEFAULT_TIMEOUT_MS,
  describeAssessment,
  type SandboxBackend,
} from '@codex/sandbox-contract';
import { CodexError } from '@codex/security-profile';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, table } from '../output.js';
import { liveOutput, policyFor, RUN_OPTIONS, reportAssessment, resultJson, runFlags } from '../run-flags.js';

function printStatus(
  ctx: CliContext,
  status: BackendStatus,
  effective: Assessment | null,
  masked: readonly string[],
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
    printMasked(ctx, effective, masked);
  }
  for (const d of status.diagnosis ?? []) {
    line(ctx.stdout, paint(ctx, 'yellow', `Host: ${d.mechanism}: ${d.message}`));
    line(ctx.stdout, `  fix: ${d.fix}`);
  }
}

function printMasked(ctx: CliContext, effective: Assessment, masked: readonly string[]): void {
  if (masked.length === 0) return;
  const on = (effective.enforced.secrets?.length ?? 0) > 0;
  line(ctx.stdout, `${on ? 'Masked (unreadable inside)' : 'NOT masked on this rung'}: ${masked.join(', ')}`);
}

async function status(
  ctx: CliContext,
  backend: SandboxBackend | null,
  values: Record<string, unknown>,
): Promise<number> {
  if (!backend) {
    const msg = `no sandbox backend for ${process.platform} yet; every command would run unsandboxed, so codex refuses them`;
    if (ctx.json)
      line(ctx.stdout, JSON.stringify({ backend: null, platform: process.platform, message: msg }));
    else line(ctx.stdout, msg);
    return EXIT.OK;
  }
  const probed = await backend.probe({ refresh: true }); // status always looks again (and refreshes the cache)
  const flags = runFlags(ctx, values);
  const policy = policyFor(flags);
  const effective = backend.assess(policy, probed, flags.rung);
  const masked = await maskedSecretPaths(policy);
  if (ctx.json) line(ctx.stdout, JSON.stringify({ ...probed, effective, masked }, null, 2));
  else printStatus(ctx, probed, effective, masked);
  return EXIT.OK;
}

/** `sandbox run`: the sandbox only (no exec policy); refusals exit 125. */
async function runOnly(
  ctx: CliContext,
  backend: SandboxBackend,
  values: Record<string, unknown>,
  cmd: string[],
) {
  const flags = runFlags(ctx, values);
  const policy = policyFor(flags);
  try {
    const { timeoutMs, maxOutputBytes, maxProcesses, rung } = flags;
    const r = await runSandboxOnly({
      ...{ backend, profile: flags.profile, config: ctx.config, codexHome: ctx.codexHome },
      ...(ctx.json ? {} : { onAssessment: (a: Assessment) => reportAssessment(ctx, a) }),
      ...{ policy, command: cmd, cwd: ctx.cwd, env: ctx.env, allowDegraded: flags.allowDegraded },
      requireFullIsolation: flags.requireFullIsolation,
      ...{ ...(rung ? { rung } : {}), ...(timeoutMs ? { timeoutMs } : {}) },
      ...{ ...(maxOutputBytes ? { maxOutputBytes } : {}), ...(maxProcesses ? { maxProcesses } : {}) },
      ...liveOutput(ctx),
    });
    if (ctx.json) line(ctx.stdout, JSON.stringify(resultJson(r), null, 2));
    else if (r.timedOut)
      line(
        ctx.stderr,
        paint(
          ctx,
          'red',
          `codex: sandbox: timed out after ${timeoutMs ?? DEFAULT_TIMEOUT_MS} ms; killed the process tree`,
        ),
      );
    return exitCodeOf(r);
  } catch (error) {
    if (!(error instanceof CodexError && error.code.startsWith('SANDBOX_'))) throw error;
    if (ctx.json) line(ctx.stderr, JSON.stringify({ error: { code: error.code, message: error.message } }));
    else line(ctx.stderr, paint(ctx, 'red', `codex: sandbox: refused (${error.code}): ${error.message}`));
    return GUARDED_EXIT.REFUSED;
  }
}

/** The original CLI's per-OS sandbox commands: `codex sandbox linux -- cmd` is `run` on Linux. */
const OS_ALIASES: Readonly<Record<string, { platform: NodeJS.Platform; os: string }>> = {
  linux: { platform: 'linux', os: 'Linux' },
  macos: { platform: 'darwin', os: 'macOS' },
  windows: { platform: 'win32', os: 'Windows' },
};

function checkOsAlias(action: string): void {
  const alias = OS_ALIASES[action]!;
  if (process.platform !== alias.platform)
    throw new UsageError(
      `codex sandbox ${action} runs the ${alias.os} sandbox, which needs ${alias.os} (this is ${process.platform}); use codex sandbox run`,
    );
}

export const command: Command = {
  summary: 'Show which sandbox mechanisms work here, or run a command in the sandbox (no exec policy)',
  usage: `Usage: codex sandbox status [--json]
       codex sandbox run [--profile P] [--workspace DIR]… [--writable DIR]… [--allow-degraded]
                         [--require-full-isolation] [--rung R] [--timeout MS] [--max-output BYTES]
                         [--max-processes N] [--json] -- <cmd…>
       codex sandbox linux|macos|windows [run options] -- <cmd…>

status  probes bubblewrap, Landlock, seccomp and cgroups and prints every rung of the
        degradation chain with the reason each mechanism is (un)available, and what the
        effective profile gets here.
run     runs the command in the sandbox only (no exec policy, no audit). Prints the rung that
        enforced it on stderr; refuses when the profile cannot be enforced.
linux, macos, windows
        the original CLI's names: run with that OS's sandbox (an error on another OS).

Exit codes: the command's own; 124 timeout; 125 codex refused or the sandbox could not be set
up; 128+N killed by signal N. CODEX_SANDBOX_RUNG=<rung> forces a rung (tests).`,
  async run(ctx, argv) {
    const { values, positionals, rest } = parse(argv, RUN_OPTIONS);
    const [action, extra] = positionals;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const backend = await backendForPlatform();
    if (action === 'status') {
      if (rest.length > 0) throw new UsageError('"codex sandbox status" takes no command');
      return status(ctx, backend, values);
    }
    if (action !== undefined && Object.hasOwn(OS_ALIASES, action)) checkOsAlias(action);
    if (action === 'run' || (action !== undefined && Object.hasOwn(OS_ALIASES, action))) {
      if (rest.length === 0)
        throw new UsageError(`missing command: codex sandbox ${action} [options] -- <cmd…>`);
      if (!backend) throw new UsageError(`no sandbox backend for ${process.platform}`);
      return runOnly(ctx, backend, values, rest);
    }
    throw new UsageError(
      `unknown action "${action ?? ''}" for "codex sandbox"; use status, run, or linux|macos|windows`,
    );
  },
};
