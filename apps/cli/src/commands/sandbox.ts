import { backendForPlatform, exitCodeOf, GUARDED_EXIT, runSandboxOnly, sandboxStatus } from '@codex/core';
import {
  type Assessment,
  DEFAULT_TIMEOUT_MS,
  describeBackendStatus,
  type SandboxBackend,
  sandboxResultJson,
} from '@codex/sandbox-contract';
import { CodexError } from '@codex/security-profile';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, styler } from '../output.js';
import { liveOutput, policyFor, RUN_OPTIONS, reportAssessment, runFlags } from '../run-flags.js';

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
  const flags = runFlags(ctx, values);
  const { status: probed, effective, masked } = await sandboxStatus(backend, policyFor(flags), flags.rung);
  if (ctx.json) line(ctx.stdout, JSON.stringify({ ...probed, effective, masked }, null, 2));
  else for (const l of describeBackendStatus(probed, effective, masked, styler(ctx))) line(ctx.stdout, l);
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
    if (ctx.json) line(ctx.stdout, JSON.stringify(sandboxResultJson(r), null, 2));
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
