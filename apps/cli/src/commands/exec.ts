import { isatty } from 'node:tty';
import { ADMIN_POLICY, APPROVALS_FILE, type Approver, type GuardedResult, runGuardedOnce } from '@codex/core';
import { sandboxResultJson } from '@codex/sandbox-contract';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { line, paint } from '../output.js';
import {
  APPROVAL_FLAG,
  approvalModeFor,
  liveOutput,
  oneShotWasm,
  POLICY_FLAG,
  RUN_FLAGS,
  type RunFlags,
  reportAssessment,
  reportRun,
  runFlags,
} from '../run-flags.js';
import { action, bool, type Command, defined, type Flags, list } from '../spec.js';

const HELP = `Runs one command the way the agent does (the @codex/core guarded pipeline):
  1. exec policy (built-in defaults, config [policy] files, $CODEX_HOME/${APPROVALS_FILE},
     <workspace>/.codex/policy.toml, ${ADMIN_POLICY}, --policy): forbidden is refused;
     prompt depends on the approval mode (-a): on-request (default) runs a command that is
     prompt only because no rule lists it (npm, ./build.sh…) without asking when the sandbox
     rung fully enforces the profile (audited as auto-approved); the rest (network under a
     no-network profile, risky writes, rules that ask, a degraded rung) is asked on a TTY
     (yes / no / always for the prefix shown, saved in $CODEX_HOME/${APPROVALS_FILE}) and
     refused without one unless --yes; untrusted asks about every prompt; never asks nobody:
     contained commands run, the rest is refused;
  2. the OS sandbox for the profile (default offline, workspace = cwd); the rung that enforced
     it is printed on stderr; a profile the sandbox cannot enforce is refused unless
     --allow-degraded; with --require-full-isolation (or sandbox.require_full_isolation)
     anything below the full rung is refused;
  3. the audit log ([audit] path, default $CODEX_HOME/audit/audit.jsonl): the policy decision,
     the approval, every refusal, the run's outcome (profile, rung, mechanisms) and every denial
     visible in the output (EPERM/EACCES/EROFS, network unreachable).

Proxied profiles (net-read-only, workspace-net): hosts the egress proxy refused are listed on
stderr; --allow-host HOST allows one for this command only (audited; a deny-listed host stays
refused), and on a terminal codex offers to run the command again with the refused hosts allowed
for that run only.

Exit codes: the command's own; 124 timeout; 125 refused (policy, approval, sandbox) or the
sandbox could not be set up; 128+N killed by signal N; 2 usage error.`;

/** One question on the terminal (stderr), the answer trimmed and lower-cased. */
async function question(ctx: CliContext, text: string, choices: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: ctx.stderr });
  try {
    return (await rl.question(`${paint(ctx, 'yellow', text)}\n${choices} › `)).trim().toLowerCase();
  } finally {
    rl.close();
  }
}

/** The terminal approver: yes / no / always for the prefix shown. */
function terminal(ctx: CliContext): Approver {
  return {
    how: 'on the terminal',
    async ask(q) {
      const why = q.notContained ? ` (not run unasked: ${q.notContained})` : '';
      const always = q.prefix ? ` / [a]lways for "${q.prefix.join(' ')}"` : '';
      const answer = await question(
        ctx,
        `codex: exec: the policy asks before running: ${q.reason}${why}`,
        `Run it? [y]es / [n]o${always}`,
      );
      if (answer === 'y' || answer === 'yes') return 'yes';
      return (answer === 'a' || answer === 'always') && q.prefix ? 'always' : 'no';
    },
  };
}

/**
 * After a proxied run whose refused hosts a person may grant: on a terminal, offer to run the
 * command once more with them allowed for that run only. Returns the hosts to grant, or none.
 */
async function offerGrants(ctx: CliContext, r: GuardedResult, onTerminal: boolean) {
  const hosts = r.egressGrantable ?? [];
  if (hosts.length === 0 || !onTerminal) return [];
  const answer = await question(
    ctx,
    `codex: exec: the egress proxy refused ${hosts.join(', ')}`,
    'Run the command again with these hosts allowed for that run only? [y]es / [n]o',
  );
  return answer === 'y' || answer === 'yes' ? hosts : [];
}

function approverFor(ctx: CliContext, yes: boolean): Approver | undefined {
  if (yes) return { how: 'by --yes', ask: async () => 'yes' };
  // isatty(0), not process.stdin.isTTY: reading that getter builds a stdin stream (for a file,
  // with ten more built-in modules) that a command run without a prompt never uses.
  return isatty(0) && !ctx.json ? terminal(ctx) : undefined;
}

function report(ctx: CliContext, r: GuardedResult, flags: RunFlags): number {
  const why = r.notContained ? ` (not run unasked: ${r.notContained})` : '';
  const refusal =
    r.refusal?.code === 'APPROVAL_REQUIRED'
      ? {
          code: r.refusal.code,
          message: `the policy asks before running this (${r.reasons[0]}) and there is no terminal to ask on; pass --yes to approve${why}`,
        }
      : r.refusal;
  const { decision, reasons, approval } = r;
  const policy = { decision, reasons, causes: r.evaluation?.causes ?? [], ...defined({ approval }) };
  reportRun(ctx, 'exec', {
    ...defined({ refusal, timeoutMs: flags.timeoutMs, timedOut: r.run?.timedOut }),
    ...(r.run ? { json: { policy, ...sandboxResultJson(r.run) } } : {}),
  });
  if (r.egressRefused && !ctx.json) line(ctx.stderr, paint(ctx, 'yellow', `codex: ${r.egressRefused}`));
  return r.exitCode;
}

const FLAGS = {
  ...RUN_FLAGS,
  ...APPROVAL_FLAG,
  yes: bool('approve what the policy would ask about (not with -a never)', 'y'),
  ...POLICY_FLAG,
  'allow-host': list('HOST', 'allow HOST through the egress proxy for this command only (proxied profiles)'),
} as const satisfies Flags;

export const command: Command = {
  help: HELP,
  action: action({
    flags: FLAGS,
    command: '<cmd…>',
    async run(ctx, { values, rest }) {
      const flags = runFlags(ctx, values);
      const approvalMode = approvalModeFor(ctx);
      if (approvalMode === 'never' && values.yes)
        throw new UsageError(
          '--yes approves prompts and approval mode never refuses them unasked; use one of the two',
        );
      const approver = approverFor(ctx, values.yes === true);
      const run = (egressGrants: readonly string[], egressGrantedBy: string) =>
        runGuardedOnce(
          {
            command: rest,
            ...{ cwd: ctx.cwd, env: ctx.env, profile: flags.profile, explicitProfile: flags.explicit },
            // `codex exec -- yes | head -1`: once stdout's reader is gone, the command is stopped
            // (its process tree killed), as a writer on a closed pipe would be.
            signal: ctx.stdoutGone,
            ...flags,
            ...liveOutput(ctx),
            ...(ctx.json ? {} : { onAssessment: (a) => reportAssessment(ctx, a) }),
            ...(egressGrants.length > 0 ? { egressGrants, egressGrantedBy } : {}),
          },
          {
            ...{ config: ctx.config, codexHome: ctx.codexHome, env: ctx.env, approvalMode },
            policies: values.policy ?? [],
            beforeParserLoad: oneShotWasm,
            ...(approver ? { approver } : { unattended: 'without a TTY' }),
          },
        );
      const given = values['allow-host'] ?? [];
      const first = await run(given, 'by --allow-host');
      const code = report(ctx, first, flags);
      // Asked only where the policy's questions are (not with --yes, --json or without a TTY).
      const more = await offerGrants(ctx, first, approver !== undefined && values.yes !== true);
      if (more.length === 0) return code;
      return report(ctx, await run([...given, ...more], 'on the terminal'), flags);
    },
  }),
};
