import { resolve } from 'node:path';
import {
  ADMIN_POLICY,
  APPROVALS_FILE,
  checkCommand,
  PolicyUnreadableError,
  projectPolicyPath,
  TRUSTED_POLICIES_FILE,
  trustPolicyFile,
} from '@codex/core';
import type { Decision } from '@codex/execpolicy';
import type { CliContext } from '../context.js';
import { UsageError, usageOn } from '../errors.js';
import { line, print, styler } from '../output.js';
import { oneShotWasm, POLICY_FLAG } from '../run-flags.js';
import { action, type Command, type Flags, str } from '../spec.js';

/** Exit codes of `codex policy check|explain`, one per decision (documented in docs/execpolicy.md). */
export const POLICY_EXIT: Readonly<Record<Decision, number>> = { allow: 0, prompt: 10, forbidden: 20 };

const HELP = `check prints the decision (allow, prompt, forbidden) and why; explain also prints every
parsed segment, the rules that matched it and their justifications.
Policy layers come from --policy, config [policy] files (user), the approvals saved by "always"
($CODEX_HOME/${APPROVALS_FILE}, user; as codex exec), <workspace>/.codex/policy.toml (project)
and ${ADMIN_POLICY} (admin).
trust pins the exact content of a project policy (default <workspace>/.codex/policy.toml) in
$CODEX_HOME/${TRUSTED_POLICIES_FILE}. A project policy the user has not trusted (an agent may have
written it) can only tighten the other layers; any edit needs a new "codex policy trust".

Exit codes: 0 allow, 10 prompt, 20 forbidden, 1 a policy file failed to load or the
evaluation failed (never allow), 2 usage error.`;

const CHECK = {
  ...POLICY_FLAG,
  script: str(
    "'<shell>'",
    'a shell string (parsed with tree-sitter-bash) to check instead of the argv after --',
  ),
} as const satisfies Flags;

function check(explain: boolean) {
  return action({
    flags: CHECK,
    command: '[<argv…>]',
    async run(ctx, { values: { script, policy = [] }, rest }) {
      if (script !== undefined && rest.length > 0)
        throw new UsageError('give either --script or a command after --, not both');
      if (script === undefined && rest.length === 0)
        throw new UsageError("nothing to check: give --script '<shell>' or -- <argv…>");
      const result = await checkCommand(script !== undefined ? { script } : rest, {
        ...ctx,
        extra: policy,
        beforeParserLoad: oneShotWasm,
      });
      const exitCode = POLICY_EXIT[result.decision];
      if (ctx.json) line(ctx.stdout, JSON.stringify({ ...result, exitCode }, null, 2));
      else {
        const { describeEvaluation } = await import('@codex/execpolicy');
        for (const l of describeEvaluation(result, explain, styler(ctx))) line(ctx.stdout, l);
      }
      return exitCode;
    },
  });
}

export const command: Command = {
  help: HELP,
  actions: {
    check: check(false),
    explain: check(true),
    trust: action({ args: '[<file>]', run: (ctx, { args }) => trust(ctx, args[0]) }),
  },
};
async function trust(ctx: CliContext, file: string | undefined): Promise<number> {
  const path = file === undefined ? projectPolicyPath(ctx) : resolve(ctx.cwd, file);
  const pin = await usageOn([PolicyUnreadableError], () => trustPolicyFile(ctx.codexHome, path));
  print(
    ctx,
    pin,
    () => `trusted ${pin.path} (${pin.digest}); any edit to it needs a new "codex policy trust"`,
  );
  return 0;
}
