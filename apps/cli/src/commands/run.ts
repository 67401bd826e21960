import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AGENT_TYPES, createPlanRun, type PlanRun, reportJson } from '@codex/core';
import { type ApprovalMode, CodexError } from '@codex/security-profile';
import {
  createLogger,
  type Logger,
  levels,
  type MergeResult,
  type Plan,
  PlanError,
  type RunReport,
  type Supervisor,
  type SupervisorEvent,
  type TaskResult,
} from '@codex/supervisor';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, table } from '../output.js';
import { loadQueueModule } from '../queue.js';
import { APPROVAL_HELP, APPROVAL_OPTIONS, approvalModeFor, oneShotWasm } from '../run-flags.js';

const USAGE = `Usage: codex supervise <plan.yaml|plan.json> [--max-concurrent N] [--json] [--dry-run]
                       [--policy [LAYER:]FILE]… [-a MODE] [--allow-degraded] [--log FILE]
                       [--queue redis://HOST:PORT/DB [--key-file FILE]]

Runs a plan: a DAG of tasks, each handled by an agent, under the effective profile.
  --max-concurrent N  agents working at once (overrides the plan's maxConcurrent; default 4)
  --dry-run           validate the plan and print its dependency levels; run nothing
  --policy FILE       add an exec-policy layer for command tasks (as in "codex policy check");
                      config [policy] files, <workspace>/.codex/policy.toml and the admin layer apply too
  ${APPROVAL_HELP}
                      no one can be asked here: on-request and never run the commands the
                      sandbox contains (unlisted ones, fully enforced rung) and deny the rest;
                      untrusted denies every prompt (with --queue, each worker's own -a applies)
  --allow-degraded    let command tasks run when the sandbox cannot enforce the profile
                      (each such run is written to the audit log)
  --log FILE          structured logs (pino JSON lines) to FILE; with --debug and no --log, to stderr
  --queue URL         run the tasks on "codex worker" processes through this Redis queue (BullMQ)
                      instead of in this process; same plan semantics and --json shape
  --key-file FILE     the shared job-signing key for --queue (else CODEX_QUEUE_KEY[_FILE])

Agents: ${AGENT_TYPES.join(', ')}.
  command   {argv: [...]} or {script: "..."}, optional cwd, env: exec policy, then the sandbox,
            then the audit log; a denial or approval request ends the task as denied
  plugin    {plugin: file.wasm, input?, allow?: [...], limits?: {...}}: a sandboxed WASM plugin
  research  {question, corpus: dir, depth?, maxSources?}: deep research over local files
  mcp       {server: [argv...], tool, arguments?}: one MCP tool call through the permission proxy

Metrics go to OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
Exit codes: 0 every task succeeded, 1 a task failed, was denied, timed out or was skipped,
2 usage or invalid plan, 130 interrupted (running tasks are cancelled, their processes killed).`;

interface SuperviseFlags {
  readonly file: string;
  readonly text: string;
  readonly maxConcurrent: number | undefined;
  readonly dryRun: boolean;
  readonly allowDegraded: boolean;
  readonly approvalMode: ApprovalMode;
  readonly policies: string[];
  readonly log: string | undefined;
  readonly queue: string | undefined;
  readonly keyFile: string | undefined;
}

function readFlags(ctx: CliContext, argv: readonly string[]): SuperviseFlags {
  const { values, positionals } = parse(argv, {
    'max-concurrent': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'allow-degraded': { type: 'boolean' },
    ...APPROVAL_OPTIONS,
    log: { type: 'string' },
    policy: { type: 'string', multiple: true },
    queue: { type: 'string' },
    'key-file': { type: 'string' },
  });
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError('missing <plan.yaml|plan.json> for "codex supervise"');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  let maxConcurrent: number | undefined;
  if (values['max-concurrent'] !== undefined) {
    const raw = String(values['max-concurrent']);
    maxConcurrent = Number(raw);
    if (!/^\d+$/.test(raw) || maxConcurrent < 1 || maxConcurrent > 1024) {
      throw new UsageError(`--max-concurrent must be an integer from 1 to 1024, got "${raw}"`);
    }
  }
  if (values['key-file'] !== undefined && values.queue === undefined) {
    throw new UsageError('--key-file needs --queue');
  }
  let text: string;
  try {
    text = readFileSync(resolve(ctx.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read plan ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  return {
    ...{ file, text, maxConcurrent, dryRun: values['dry-run'] === true },
    allowDegraded: values['allow-degraded'] === true,
    approvalMode: approvalModeFor(ctx, values),
    policies: (values.policy as string[] | undefined) ?? [],
    log: values.log as string | undefined,
    queue: values.queue as string | undefined,
    keyFile: values['key-file'] as string | undefined,
  };
}

function loggerFor(ctx: CliContext, logFile: string | undefined): Logger | undefined {
  if (logFile !== undefined) {
    return createLogger({ destination: createWriteStream(resolve(ctx.cwd, logFile), { flags: 'a' }) });
  }
  return ctx.debug ? createLogger({ destination: ctx.stderr, level: 'debug' }) : undefined;
}

type QueueEngine = import('@codex/supervisor-queue').QueueEngine;

/** --queue: the distributed engine (loaded only then, so in-process runs do not pay for BullMQ). */
async function queueEngine(
  ctx: CliContext,
  f: SuperviseFlags,
  logger: Logger | undefined,
): Promise<QueueEngine | undefined> {
  if (f.queue === undefined) return undefined;
  const q = await loadQueueModule('codex supervise --queue', ctx.version);
  q.parseQueueUrl(f.queue);
  if (f.dryRun) return undefined;
  const key = q.loadQueueKey({
    env: ctx.env,
    ...(f.keyFile === undefined ? {} : { keyFile: resolve(ctx.cwd, f.keyFile) }),
  });
  return q.QueueEngine.connect({ url: f.queue, key, ...(logger ? { logger } : {}) });
}

/** Runs the plan until done or interrupted (SIGINT/SIGTERM cancel it; processes are killed). */
async function execute(ctx: CliContext, run: PlanRun, f: SuperviseFlags): Promise<number> {
  let plan: Plan;
  let handle: ReturnType<Supervisor['start']>;
  try {
    plan = run.loadPlan(f.text, f.file);
    if (f.dryRun) return dryRun(ctx, plan, f.maxConcurrent);
    // The header first, so the per-task lines that follow (stderr) have their context.
    if (!ctx.json) line(ctx.stdout, header(ctx, plan, f.maxConcurrent));
    const cap = f.maxConcurrent === undefined ? {} : { maxConcurrent: f.maxConcurrent };
    handle = run.supervisor.start(plan, { source: f.file, ...cap });
  } catch (error) {
    if (error instanceof PlanError) return planError(ctx, error);
    throw error;
  }
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    handle.cancel('interrupted');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let report: RunReport;
  try {
    report = await handle.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (ctx.json) line(ctx.stdout, JSON.stringify(reportJson(report, ctx.profile), null, 2));
  else render(ctx, report);
  if (interrupted || report.status === 'cancelled') return EXIT.INTERRUPTED;
  return report.status === 'succeeded' ? EXIT.OK : EXIT.FAILURE;
}

export const command: Command = {
  summary: 'Run a plan of sub-agents (DAG) with a concurrency cap, timeouts and merged results',
  usage: USAGE,
  async run(ctx, argv) {
    const f = readFlags(ctx, argv);
    // A plan runs a handful of commands: the policy engine's wasm is not worth optimising.
    oneShotWasm();
    const logger = loggerFor(ctx, f.log);
    const engine = await queueEngine(ctx, f, logger);
    const run = await createPlanRun({
      ...{ config: ctx.config, codexHome: ctx.codexHome, cwd: ctx.cwd, env: ctx.env, profile: ctx.profile },
      ...{ explicitProfile: ctx.profileSource !== 'default', version: ctx.version },
      ...{ allowDegraded: f.allowDegraded, policies: f.policies, approvalMode: f.approvalMode },
      ...{ maxConcurrent: f.maxConcurrent, logger, engine, metrics: !f.dryRun },
      onEvent: progressReporter(ctx),
    });
    try {
      return await execute(ctx, run, f);
    } finally {
      await run.close();
    }
  },
};

function planError(ctx: CliContext, error: PlanError): number {
  if (ctx.json) line(ctx.stderr, JSON.stringify({ error: { code: error.code, message: error.message } }));
  else line(ctx.stderr, `codex: error: ${error.message}`);
  return EXIT.USAGE;
}

function header(ctx: CliContext, plan: Plan, maxConcurrent: number | undefined): string {
  const cap = maxConcurrent ?? plan.maxConcurrent ?? 4;
  return `${plan.name ?? 'plan'}: ${plan.tasks.length} tasks, ${plan.strategy}, ${plan.failure}, max ${cap} concurrent, profile ${ctx.profile}`;
}

/**
 * A line on stderr when a task starts (its agent begins working on it) and when it ends, from the
 * supervisor's own events. Colour only on a terminal; nothing with --json (stdout stays JSON).
 */
function progressReporter(ctx: CliContext): (event: SupervisorEvent) => void {
  const started = new Set<string>();
  const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
  const say = (colour: Parameters<typeof paint>[1], text: string) =>
    line(ctx.stderr, tty ? paint(ctx, colour, text) : text);
  return (event) => {
    if (ctx.json) return;
    if (event.type === 'state' && event.state === 'working' && event.taskId !== undefined) {
      if (started.has(event.taskId)) return;
      started.add(event.taskId);
      say('dim', `▸ ${event.taskId} started`);
    } else if (event.type === 'task') {
      const r = event.result;
      const took = r.startedAt === undefined ? '' : ` in ${(r.durationMs / 1000).toFixed(2)} s`;
      const colour = r.status === 'succeeded' ? 'green' : r.status === 'skipped' ? 'dim' : 'red';
      say(colour, `${MARK[r.status]} ${r.taskId} ${r.status}${took}`);
    }
  };
}

function dryRun(ctx: CliContext, plan: Plan, maxConcurrent: number | undefined): number {
  const tiers = levels(plan.tasks);
  const cap = maxConcurrent ?? plan.maxConcurrent ?? 4;
  if (ctx.json) {
    line(
      ctx.stdout,
      JSON.stringify(
        {
          valid: true,
          name: plan.name ?? null,
          strategy: plan.strategy,
          failure: plan.failure,
          maxConcurrent: cap,
          profile: ctx.profile,
          levels: tiers.map((t) => t.map((x) => x.id)),
          merge: plan.merge ?? null,
        },
        null,
        2,
      ),
    );
    return EXIT.OK;
  }
  line(
    ctx.stdout,
    `plan ${plan.name ?? '(unnamed)'} is valid: ${plan.tasks.length} tasks, ${plan.strategy}, ${plan.failure}, max ${cap} concurrent, profile ${ctx.profile}`,
  );
  tiers.forEach((tier, i) => {
    line(ctx.stdout, `  level ${i}: ${tier.map((t) => `${t.id} (${t.agent})`).join(', ')}`);
  });
  if (plan.merge) line(ctx.stdout, `  merge: ${plan.merge.strategy}`);
  return EXIT.OK;
}

const MARK: Record<TaskResult['status'], string> = {
  succeeded: '✓',
  failed: '✗',
  denied: '⊘',
  'timed-out': '⏱',
  cancelled: '✗',
  skipped: '-',
  dropped: '-',
};

function render(ctx: CliContext, report: RunReport): void {
  const rows = report.tasks.map((t) => [
    `${MARK[t.status]} ${t.taskId}`,
    t.agentType,
    t.status,
    t.startedAt === undefined ? '' : `${(t.durationMs / 1000).toFixed(2)} s`,
    t.error ? `${t.error.code}: ${firstLine(t.error.message)}` : '',
    ...(report.engine === 'in-process' || t.worker === undefined
      ? []
      : [`on ${t.worker.workerId}${t.attempts > 1 ? ` (${t.attempts} attempts)` : ''}`]),
  ]);
  line(ctx.stdout, table(rows));
  for (const t of report.tasks) {
    if (t.status === 'failed' && t.error instanceof CodexError && 'stderrTail' in t.error) {
      const tail = String((t.error as { stderrTail: unknown }).stderrTail).trim();
      if (tail) {
        line(ctx.stdout, paint(ctx, 'dim', `--- ${t.taskId} (stderr, last lines)`));
        line(ctx.stdout, tail);
      }
    }
  }
  if (report.merged) renderMerge(ctx, report.merged);
  if (report.mergeError) line(ctx.stdout, `merge failed: ${report.mergeError.message}`);
  for (const e of report.cleanupErrors) line(ctx.stdout, `cleanup error: ${e}`);
  const drops = report.mailboxes;
  const colour = report.status === 'succeeded' ? 'green' : report.status === 'failed' ? 'red' : 'yellow';
  line(
    ctx.stdout,
    `${paint(ctx, colour, `run ${report.status}`)} in ${(report.durationMs / 1000).toFixed(2)} s (peak ${report.peakConcurrency} concurrent; mailbox drops ${drops.droppedOldest + drops.droppedNew})${report.cancelReason ? `: ${report.cancelReason}` : ''}`,
  );
}

function renderMerge(ctx: CliContext, merged: MergeResult): void {
  switch (merged.strategy) {
    case 'concatenate':
      line(ctx.stdout, `--- merged (concatenate: ${merged.sources.join(', ') || 'nothing succeeded'})`);
      if (merged.output) line(ctx.stdout, merged.output.trimEnd());
      if (merged.excluded.length) line(ctx.stdout, `(left out: ${merged.excluded.join(', ')})`);
      return;
    case 'voting':
      line(
        ctx.stdout,
        `--- merged (voting: ${merged.outcome}, ${merged.voters} voters) ${merged.votes.map((v) => `${JSON.stringify(v.value)}×${v.count}`).join(' ')}`,
      );
      if (merged.outcome === 'majority') line(ctx.stdout, asText(merged.output));
      if (merged.outcome === 'tie')
        line(ctx.stdout, `tie between ${merged.tied.map((v) => JSON.stringify(v)).join(', ')}`);
      return;
    case 'first-success':
      line(ctx.stdout, `--- merged (first-success: ${merged.source})`);
      line(ctx.stdout, asText(merged.output));
      return;
    case 'highest-score':
      line(
        ctx.stdout,
        `--- merged (highest-score: ${merged.source}, score ${merged.score}${merged.tied.length ? `, tied with ${merged.tied.join(', ')}` : ''})`,
      );
      line(ctx.stdout, asText(merged.output));
  }
}

function asText(output: unknown): string {
  if (typeof output === 'string') return output.trimEnd();
  if (output && typeof output === 'object' && 'stdout' in output) return String(output.stdout).trimEnd();
  return JSON.stringify(output, null, 2);
}

function firstLine(s: string): string {
  const first = s.split('\n')[0] ?? '';
  return first.length > 160 ? `${first.slice(0, 159)}…` : first;
}
