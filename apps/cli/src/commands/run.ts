import { createWriteStream, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  AGENT_TYPES,
  connectQueueEngine,
  createPlanRun,
  describeDryRun,
  describeRunReport,
  type PlanRun,
  planHeader,
  planProgress,
  reportJson,
} from '@codex/core';
import type { ApprovalMode } from '@codex/security-profile';
import {
  createLogger,
  type Logger,
  levels,
  type Plan,
  PlanError,
  type RunReport,
  type Supervisor,
  type SupervisorEvent,
} from '@codex/supervisor';
import { intFlag, parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, styler, table } from '../output.js';
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
  const maxConcurrent = intFlag('max-concurrent', values['max-concurrent'], { max: 1024 });
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
  return connectQueueEngine(q, { url: f.queue, keyFile: f.keyFile, cwd: ctx.cwd, env: ctx.env, logger });
}

/** Runs the plan until done or interrupted (SIGINT/SIGTERM cancel it; processes are killed). */
async function execute(ctx: CliContext, run: PlanRun, f: SuperviseFlags): Promise<number> {
  let plan: Plan;
  let handle: ReturnType<Supervisor['start']>;
  try {
    plan = run.loadPlan(f.text, f.file);
    if (f.dryRun) return dryRun(ctx, plan, f.maxConcurrent);
    // The header first, so the per-task lines that follow (stderr) have their context.
    if (!ctx.json)
      line(ctx.stdout, planHeader(plan, { maxConcurrent: f.maxConcurrent, profile: ctx.profile }));
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
  else {
    const { tasks, after } = describeRunReport(report, styler(ctx));
    line(ctx.stdout, table(tasks));
    for (const l of after) line(ctx.stdout, l);
  }
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
      ...{ explicitProfile: ctx.explicitProfile, version: ctx.version },
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

/**
 * A line on stderr when a task starts (its agent begins working on it) and when it ends, from the
 * supervisor's own events. Colour only on a terminal; nothing with --json (stdout stays JSON).
 */
function progressReporter(ctx: CliContext): (event: SupervisorEvent) => void {
  const progress = planProgress();
  const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
  return (event) => {
    const said = ctx.json ? undefined : progress(event);
    if (said) line(ctx.stderr, tty ? styler(ctx)(said.style, said.text) : said.text);
  };
}

function dryRun(ctx: CliContext, plan: Plan, maxConcurrent: number | undefined): number {
  const { json, lines } = describeDryRun(plan, levels(plan.tasks), { maxConcurrent, profile: ctx.profile });
  if (ctx.json) line(ctx.stdout, JSON.stringify(json, null, 2));
  else for (const l of lines) line(ctx.stdout, l);
  return EXIT.OK;
}
