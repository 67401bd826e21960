import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { createAuditLoggerFromConfig } from '@codex/audit';
import { createPolicyEngine, type Evaluation } from '@codex/execpolicy';
import type { Assessment, ObservedDenial, SandboxResult } from '@codex/sandbox-linux';
import { type AuditEventInput, type AuditOperation, CodexError } from '@codex/security-profile';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { UsageError } from '../errors.js';
import { line, paint } from '../output.js';
import { ADMIN_POLICY, APPROVALS_FILE, collectPolicyLayers } from '../policy-layers.js';
import {
  backendForPlatform,
  exitCodeOf,
  RUN_OPTIONS,
  type RunFlags,
  resultJson,
  runFlags,
  runInSandbox,
  SANDBOX_EXIT,
} from './sandbox.js';

const USAGE = `Usage: codex exec [--profile P] [--workspace DIR]… [--writable DIR]… [--yes] [--policy [LAYER:]FILE]…
                  [--allow-degraded] [--require-full-isolation] [--timeout MS] [--max-output BYTES]
                  [--max-processes N] [--rung R] [--json] -- <cmd…>

Runs one command the way the agent does:
  1. exec policy (built-in defaults, config [policy] files, $CODEX_HOME/${APPROVALS_FILE},
     <workspace>/.codex/policy.toml, ${ADMIN_POLICY}, --policy): forbidden is refused;
     prompt asks on a TTY (yes / no / always for this prefix, remembered in
     $CODEX_HOME/${APPROVALS_FILE}); without a TTY it is refused unless --yes;
  2. the OS sandbox for the profile (default offline, workspace = cwd); the rung that enforced
     it is printed on stderr; a profile the sandbox cannot enforce is refused unless
     --allow-degraded; with --require-full-isolation (or sandbox.require_full_isolation)
     anything below the full rung is refused;
  3. the audit log ([audit] path, default $CODEX_HOME/audit/audit.jsonl): the policy decision,
     the approval, every refusal, the run's outcome (profile, rung, mechanisms) and every denial
     visible in the output (EPERM/EACCES/EROFS, network unreachable).

Exit codes: the command's own; 124 timeout; 125 refused (policy, approval, sandbox) or the
sandbox could not be set up; 128+N killed by signal N; 2 usage error.`;

/** The prefix remembered by "always": the command name and its first non-option argument. */
export function approvalPrefix(argv: readonly string[]): string[] {
  const [name, first] = argv;
  return first !== undefined && !first.startsWith('-') ? [name!, first] : [name!];
}

function rememberApproval(ctx: CliContext, prefix: readonly string[]): string {
  const file = join(ctx.codexHome, APPROVALS_FILE);
  mkdirSync(dirname(file), { recursive: true });
  const id = `approved-${createHash('sha256').update(JSON.stringify(prefix)).digest('hex').slice(0, 12)}`;
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!existing.includes(`id = "${id}"`)) {
    appendFileSync(
      file,
      `${existing ? '\n' : ''}[[rule]]\nid = "${id}"\nprefix = ${JSON.stringify(prefix)}\ndecision = "allow"\njustification = ${JSON.stringify(`approved with "always" on ${new Date().toISOString()}`)}\n`,
    );
  }
  return file;
}

async function ask(
  ctx: CliContext,
  text: string,
  prefix: readonly string[],
): Promise<'yes' | 'no' | 'always'> {
  const rl = createInterface({ input: process.stdin, output: ctx.stderr });
  try {
    const answer = (
      await rl.question(`${text}\nRun it? [y]es / [n]o / [a]lways for "${prefix.join(' ')}" › `)
    )
      .trim()
      .toLowerCase();
    if (answer === 'y' || answer === 'yes') return 'yes';
    if (answer === 'a' || answer === 'always') return 'always';
    return 'no';
  } finally {
    rl.close();
  }
}

const DENIAL_OPERATION: Record<ObservedDenial['kind'], AuditOperation> = {
  network: 'network_access',
  'read-only-filesystem': 'file_write',
  permission: 'other',
  'process-limit': 'process_spawn',
  'secret-read': 'file_read',
};

function mechanismText(a: Assessment): string {
  return a.skipped ? 'no sandbox (trusted)' : `rung ${a.rung} (${a.mechanisms.join('+') || 'nothing'})`;
}

export const command: Command = {
  summary: 'Run a command: exec policy, then the OS sandbox, with every decision audited',
  usage: USAGE,
  async run(ctx, argv) {
    const { values, positionals, rest } = parse(argv, {
      ...RUN_OPTIONS,
      yes: { type: 'boolean', short: 'y' },
      policy: { type: 'string', multiple: true },
    });
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}"; put the command after --`);
    if (rest.length === 0 || !rest[0])
      throw new UsageError('missing command: codex exec [options] -- <cmd…>');
    const flags: RunFlags = runFlags(ctx, values);
    const backend = backendForPlatform();
    const target = rest.join(' ');
    const sessionId = `exec-${randomUUID()}`;
    const audit = createAuditLoggerFromConfig(ctx.config.audit, {
      home: ctx.codexHome,
      env: ctx.env,
      flushIntervalMs: 0,
    });
    const record = (
      e: Omit<AuditEventInput, 'profile' | 'session_id' | 'agent_type' | 'target'> & { target?: string },
    ) => audit.log({ profile: flags.profile, session_id: sessionId, agent_type: 'codex-exec', target, ...e });
    const refuse = async (
      code: string,
      message: string,
      event?: Parameters<typeof record>[0],
    ): Promise<number> => {
      if (event) await record(event);
      if (ctx.json) line(ctx.stderr, JSON.stringify({ error: { code, message } }));
      else line(ctx.stderr, paint(ctx, 'red', `codex: exec: refused (${code}): ${message}`));
      return SANDBOX_EXIT.REFUSED;
    };

    try {
      // 1. Exec policy. Any failure to evaluate is a denial (fail-safe), never an allow.
      let evaluation: Evaluation;
      try {
        const engine = await createPolicyEngine({
          layers: collectPolicyLayers(ctx, {
            workspace: flags.workspaceRoots[0] ?? ctx.cwd,
            extra: (values.policy as string[] | undefined) ?? [],
            approvals: true,
          }),
        });
        evaluation = engine.evaluate(rest, {
          profile: flags.profile,
          cwd: ctx.cwd,
          workspaceRoots: flags.workspaceRoots,
          extraWritableRoots: flags.extraWritable,
          platform: process.platform,
          ...(ctx.env.HOME ? { home: ctx.env.HOME } : {}),
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return await refuse('POLICY_ERROR', `exec policy failed, so the command is denied: ${message}`, {
          operation: 'command_exec',
          decision: 'denied',
          reason: `execpolicy error (fail-safe deny): ${message}`,
        });
      }
      const why = evaluation.reasons[0] ?? 'no reason given';
      const rules = evaluation.matchedRules.map((r) => r.id).join(',');
      await record({
        operation: 'command_exec',
        decision:
          evaluation.decision === 'allow'
            ? 'allowed'
            : evaluation.decision === 'forbidden'
              ? 'denied'
              : 'requires_approval',
        reason: `execpolicy ${evaluation.decision} under profile ${flags.profile}: ${why}`,
        details: { stage: 'policy', rules },
      });
      if (evaluation.decision === 'forbidden') {
        return await refuse(
          'POLICY_FORBIDDEN',
          `exec policy forbids this command: ${evaluation.reasons.join('; ')}`,
        );
      }
      if (evaluation.decision === 'prompt') {
        const prefix = approvalPrefix(rest);
        let approval: string;
        if (values.yes === true) approval = 'approved by --yes';
        else if (process.stdin.isTTY && !ctx.json) {
          const answer = await ask(
            ctx,
            paint(ctx, 'yellow', `codex: exec: the policy asks before running: ${why}`),
            prefix,
          );
          if (answer === 'no') {
            return await refuse('NOT_APPROVED', 'you declined the command', {
              operation: 'command_exec',
              decision: 'denied',
              reason: `prompt declined on the terminal: ${why}`,
              details: { stage: 'approval' },
            });
          }
          approval =
            answer === 'always'
              ? `approved always for prefix "${prefix.join(' ')}" (remembered in ${rememberApproval(ctx, prefix)})`
              : 'approved on the terminal';
        } else {
          return await refuse(
            'APPROVAL_REQUIRED',
            `the policy asks before running this (${why}) and there is no terminal to ask on; pass --yes to approve`,
            {
              operation: 'command_exec',
              decision: 'denied',
              reason: `prompt without a TTY: denied (${why})`,
              details: { stage: 'approval' },
            },
          );
        }
        await record({
          operation: 'command_exec',
          decision: 'allowed',
          reason: `${approval}: ${why}`,
          details: { stage: 'approval' },
        });
      }

      // 2. The sandbox.
      if (!backend) {
        return await refuse('SANDBOX_UNAVAILABLE', `no sandbox backend for ${process.platform}`, {
          operation: 'process_spawn',
          decision: 'denied',
          reason: `no sandbox backend for ${process.platform}; refusing to run unsandboxed`,
        });
      }
      let assessment: Assessment | undefined;
      let result: SandboxResult;
      try {
        result = await runInSandbox(ctx, backend, flags, rest, (a) => {
          assessment = a;
        });
      } catch (error) {
        if (error instanceof CodexError && error.code.startsWith('SANDBOX_')) {
          return await refuse(error.code, error.message, {
            operation: 'process_spawn',
            decision: 'denied',
            reason: `sandbox refused (${error.code}) for profile ${flags.profile}${assessment ? `, ${mechanismText(assessment)}` : ''}: ${error.message}`,
            details: { stage: 'sandbox', code: error.code },
          });
        }
        throw error;
      }
      const a = result.assessment;
      if (flags.allowDegraded && a.unenforced.length > 0) {
        await record({
          operation: 'process_spawn',
          decision: 'allowed',
          reason: `--allow-degraded: ran under profile ${flags.profile} with ${mechanismText(a)}, which does NOT enforce ${a.unenforced.join(', ')}`,
          details: { stage: 'sandbox', rung: a.rung },
        });
      }

      // 3. Outcome and observed denials.
      const exit = exitCodeOf(result);
      await record({
        operation: 'process_spawn',
        decision: 'allowed',
        reason: `ran under profile ${flags.profile}, ${mechanismText(a)}${a.missing.length ? `; not enforced: ${a.missing.join(', ')}` : ''}: ${
          result.timedOut
            ? 'timed out, process tree killed'
            : result.exitCode !== null
              ? `exit ${result.exitCode}`
              : `killed by ${result.signal}`
        }`,
        details: {
          stage: 'outcome',
          rung: a.rung,
          exit,
          timedOut: result.timedOut,
          durationMs: Math.round(result.durationMs),
          strippedEnv: result.strippedEnv.length,
          processLimit: result.processLimit,
        },
      });
      for (const d of result.observedDenials) {
        await record({
          operation: DENIAL_OPERATION[d.kind],
          decision: 'denied',
          reason: `sandbox denial observed (${d.kind}) under profile ${flags.profile}, ${mechanismText(a)}: ${d.evidence}`,
          details: { stage: 'denial', kind: d.kind, rung: a.rung },
        });
      }
      if (result.timedOut) {
        await record({
          operation: 'process_spawn',
          decision: 'denied',
          reason: `timeout after ${flags.timeoutMs ?? 600_000} ms under profile ${flags.profile}: process tree killed`,
          details: { stage: 'limit' },
        });
      }
      if (ctx.json)
        line(
          ctx.stdout,
          JSON.stringify(
            { policy: { decision: evaluation.decision, reasons: evaluation.reasons }, ...resultJson(result) },
            null,
            2,
          ),
        );
      else if (result.timedOut)
        line(ctx.stderr, paint(ctx, 'red', `codex: exec: timed out; killed the process tree`));
      return exit;
    } finally {
      await audit.close();
    }
  },
};
