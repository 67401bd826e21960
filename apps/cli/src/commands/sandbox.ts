import { backendForPlatform, exitCodeOf, GUARDED_EXIT, runSandboxOnly, sandboxStatus } from '@codex/core';
import { type Assessment, describeBackendStatus, sandboxResultJson } from '@codex/sandbox-contract';
import { CodexError } from '@codex/security-profile';
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, print, styler } from '../output.js';
import { liveOutput, policyFor, RUN_FLAGS, reportAssessment, reportRun, runFlags } from '../run-flags.js';
import { action, type Command, defined, type Values } from '../spec.js';

async function status(ctx: CliContext, values: Values<typeof RUN_FLAGS>): Promise<number> {
  const backend = await backendForPlatform();
  if (!backend) {
    const msg = `no sandbox backend for ${process.platform} yet; every command would run unsandboxed, so codex refuses them`;
    if (ctx.json)
      line(ctx.stdout, JSON.stringify({ backend: null, platform: process.platform, message: msg }));
    else line(ctx.stdout, msg);
    return EXIT.OK;
  }
  const flags = runFlags(ctx, values);
  const { status: probed, effective, masked } = await sandboxStatus(backend, policyFor(flags), flags.rung);
  print(ctx, { ...probed, effective, masked }, () =>
    describeBackendStatus(probed, effective, masked, styler(ctx)),
  );
  return EXIT.OK;
}

/** `sandbox run`: the sandbox only (no exec policy); refusals exit 125. */
async function runOnly(ctx: CliContext, values: Values<typeof RUN_FLAGS>, cmd: string[]) {
  const backend = await backendForPlatform();
  if (!backend) throw new UsageError(`no sandbox backend for ${process.platform}`);
  const flags = runFlags(ctx, values);
  const policy = policyFor(flags);
  try {
    const r = await runSandboxOnly({
      ...{ ...flags, backend, config: ctx.config, codexHome: ctx.codexHome },
      ...(ctx.json ? {} : { onAssessment: (a: Assessment) => reportAssessment(ctx, a) }),
      ...{ policy, command: cmd, cwd: ctx.cwd, env: ctx.env, signal: ctx.stdoutGone },
      ...liveOutput(ctx),
    });
    reportRun(ctx, 'sandbox', {
      json: sandboxResultJson(r),
      timedOut: r.timedOut,
      ...defined({ timeoutMs: flags.timeoutMs }),
    });
    return exitCodeOf(r);
  } catch (error) {
    if (!(error instanceof CodexError && error.code.startsWith('SANDBOX_'))) throw error;
    reportRun(ctx, 'sandbox', { refusal: error });
    return GUARDED_EXIT.REFUSED;
  }
}

/** The original CLI's per-OS sandbox commands: `codex sandbox linux -- cmd` is `run` on Linux. */
function osAlias(platform: NodeJS.Platform, os: string, name: string) {
  return action({
    flags: RUN_FLAGS,
    command: '<cmd…>',
    synopsis: '[run options]',
    about: `the original CLI's name: run with the ${os} sandbox (an error on another OS)`,
    run(ctx, { values, rest }) {
      if (process.platform !== platform)
        throw new UsageError(
          `codex sandbox ${name} runs the ${os} sandbox, which needs ${os} (this is ${process.platform}); use codex sandbox run`,
        );
      return runOnly(ctx, values, rest);
    },
  });
}

const { workspace, writable, rung } = RUN_FLAGS;

export const command: Command = {
  help: `status  probes bubblewrap, Landlock, seccomp and cgroups and prints every rung of the
        degradation chain with the reason each mechanism is (un)available, and what the
        effective profile gets here.
run     runs the command in the sandbox only (no exec policy, no audit). Prints the rung that
        enforced it on stderr; refuses when the profile cannot be enforced.

Exit codes: the command's own; 124 timeout; 125 codex refused or the sandbox could not be set
up; 128+N killed by signal N. CODEX_SANDBOX_RUNG=<rung> forces a rung (tests).`,
  actions: {
    status: action({ flags: { workspace, writable, rung }, run: (ctx, { values }) => status(ctx, values) }),
    run: action({
      flags: RUN_FLAGS,
      command: '<cmd…>',
      run: (ctx, { values, rest }) => runOnly(ctx, values, rest),
    }),
    linux: osAlias('linux', 'Linux', 'linux'),
    macos: osAlias('darwin', 'macOS', 'macos'),
    windows: osAlias('win32', 'Windows', 'windows'),
  },
};
