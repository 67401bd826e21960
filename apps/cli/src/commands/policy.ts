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
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { UsageError, usageOn } from '../errors.js';
import { line, styler } from '../output.js';
import { oneShotWasm } from '../run-flags.js';

/** Exit codes of `codex policy check|explain`, one per decision (documented in docs/execpolicy.md). */
export const POLICY_EXIT: Readonly<Record<Decision, number>> = { allow: 0, prompt: 10, forbidden: 20 };

const USAGE = `Usage: codex policy check   [--profile P] [--json] [--policy [LAYER:]FILE]… (--script '<shell>' | -- <argv…>)
       codex policy explain [--profile P] [--json] [--policy [LAYER:]FILE]… (--script '<shell>' | -- <argv…>)
       codex policy trust   [FILE]

  check     print the decision (allow, prompt, forbidden) and why
  explain   also print every parsed segment, the rules that matched it and their justifications
  --script  a shell string (parsed with tree-sitter-bash); otherwise the argv after --
  --policy  add a policy layer (TOML, or JSON by .json extension); LAYER is user (default),
            project or admin. Layers also come from config [policy] files (user), the
            approvals saved by "always" ($CODEX_HOME/${APPROVALS_FILE}, user; as codex exec),
            <workspace>/.codex/policy.toml (project) and ${ADMIN_POLICY} (admin).
  trust     pin the exact content of a project policy (default <workspace>/.codex/policy.toml)
            in $CODEX_HOME/${TRUSTED_POLICIES_FILE}. A project policy the user has not trusted
            (an agent may have written it) can only tighten the other layers; any edit needs a
            new "codex policy trust".

Exit codes: 0 allow, 10 prompt, 20 forbidden, 1 a policy file failed to load or the
evaluation failed (never allow), 2 usage error.`;

export const command: Command = {
  summary: 'Decide whether a command may run (allow / prompt / forbidden) and explain why',
  usage: USAGE,
  async run(ctx, argv) {
    const { values, positionals, rest } = parse(argv, {
      policy: { type: 'string', multiple: true },
      script: { type: 'string' },
    });
    const [action, extra] = positionals;
    if (action === 'trust') return trust(ctx, extra);
    if (action !== 'check' && action !== 'explain') {
      throw new UsageError(
        action === undefined
          ? 'missing action: use "codex policy check" or "codex policy explain"'
          : `unknown action "${action}" for "codex policy"; use check, explain or trust`,
      );
    }
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"; put the command after --`);
    const script = values.script as string | undefined;
    if (script !== undefined && rest.length > 0)
      throw new UsageError('give either --script or a command after --, not both');
    if (script === undefined && rest.length === 0)
      throw new UsageError("nothing to check: give --script '<shell>' or -- <argv…>");

    const policies = (values.policy as string[] | undefined) ?? [];
    const result = await checkCommand(script !== undefined ? { script } : rest, {
      ...ctx,
      extra: policies,
      beforeParserLoad: oneShotWasm,
    });
    const exitCode = POLICY_EXIT[result.decision];
    if (ctx.json) line(ctx.stdout, JSON.stringify({ ...result, exitCode }, null, 2));
    else {
      const { describeEvaluation } = await import('@codex/execpolicy');
      for (const l of describeEvaluation(result, action === 'explain', styler(ctx))) line(ctx.stdout, l);
    }
    return exitCode;
  },
};

async function trust(ctx: CliContext, file: string | undefined): Promise<number> {
  const path = file === undefined ? projectPolicyPath(ctx) : resolve(ctx.cwd, file);
  const pin = await usageOn([PolicyUnreadableError], () => trustPolicyFile(ctx.codexHome, path));
  if (ctx.json) line(ctx.stdout, JSON.stringify(pin));
  else
    line(ctx.stdout, `trusted ${pin.path} (${pin.digest}); any edit to it needs a new "codex policy trust"`);
  return 0;
}
