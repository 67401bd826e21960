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
import {
  createLogger,
  type Logger,
  levels,
  type Plan,
  PlanError,
  type RunReport,
  type SupervisorEvent,
} from '@codex/supervisor';
import type { CliContext } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { interrupts, line, styler, table } from '../output.js';
import { loadQueueModule } from '../queue.js';
import { APPROVAL_FLAG, approvalModeFor, oneShotWasm, POLICY_FLAG } from '../run-flags.js';
import {
  action,
  bool,
  type Command,
  defined,
  type Flags,
  type Input,
  int,
  str,
  type Values,
} from '../spec.js';

const FLAGS = {
  'max-concurrent': int('N', "agents working at once (overrides the plan's maxConcurrent; default 4)", {
    max: 1024,
  }),
  'dry-run': bool('validate the plan and print its dependency levels; run nothing'),
  ...POLICY_FLAG,
  ...APPROVAL_FLAG,
  'allow-degraded': bool('let command tasks run when the sandbox cannot enforce the profile (audited)'),
  log: str('FILE', 'structured logs (pino JSON lines) to FILE; with --debug and no --log, to stderr'),
  queue: str(
    'URL',
    'run the tasks on "codex worker" processes through this Redis queue (BullMQ)\ninstead of in this process; same plan semantics and --json shape',
  ),
  'key-file': str('FILE', 'the shared job-signing key for --queue (else CODEX_QUEUE_KEY[_FILE])'),
} as const satisfies Flags;

const HELP = `Runs a plan: a DAG of tasks, each handled by an agent, under the effective profile. Config
[policy] files, <workspace>/.codex/policy.toml and the admin layer apply to command tasks too.
No one can be asked here: under -a on-request and never the commands the sandbox contains
(unlisted ones, fully enforced rung) run and the rest are denied; untrusted denies every prompt
(with --queue, each worker's own -a applies).

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
  readonly values: Values<typeof FLAGS>;
}

function readPlan(ctx: CliContext, { values, args: [file] }: Input<typeof FLAGS>): SuperviseFlags {
  if (values['key-file'] !== undefined && values.queue === undefined)
    throw new UsageError('--key-file needs --queue');
  try {
    return { file: file!, text: readFileSync(resolve(ctx.cwd, file!), 'utf8'), values };
  } catch (error) {
    throw new UsageError(`cannot read plan ${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
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
  const { queue: url, 'key-file': keyFile, 'dry-run': dryRun } = f.values;
  if (url === undefined) return undefined;
  const q = await loadQueueModule('codex supervise --queue', ctx.version);
  q.parseQueueUrl(url);
  if (dryRun) return undefined;
  return connectQueueEngine(q, { url, keyFile, cwd: ctx.cwd, env: ctx.env, logger });
}

/** Runs the plan until done or interrupted (SIGINT/SIGTERM cancel it; processes are killed). */
async function execute(ctx: CliContext, run: PlanRun, f: SuperviseFlags): Promise<number> {
  const maxConcurrent = f.values['max-concurrent'];
  // A bad plan is bad input: exit 2, with the plan error's code (PLAN_CYCLE…) under --json.
  const plan = usageOn([PlanError], () => run.loadPlan(f.text, f.file));
  if (f.values['dry-run']) return dryRun(ctx, plan, maxConcurrent);
  // The header first, so the per-task lines that follow (stderr) have their context.
  if (!ctx.json) line(ctx.stdout, planHeader(plan, { maxConcurrent, profile: ctx.profile }));
  const start = () => run.supervisor.start(plan, { source: f.file, ...defined({ maxConcurrent }) });
  const handle = usageOn([PlanError], start);
  const stop = interrupts();
  stop.signal.addEventListener('abort', () => handle.cancel('interrupted'));
  let report: RunReport;
  try {
    report = await handle.done;
  } finally {
    stop.done();
  }
  if (ctx.json) line(ctx.stdout, JSON.stringify(reportJson(report, ctx.profile), null, 2));
  else {
    const { tasks, after } = describeRunReport(report, styler(ctx));
    line(ctx.stdout, table(tasks));
    for (const l of after) line(ctx.stdout, l);
  }
  if (stop.signal.aborted || report.status === 'cancelled') return EXIT.INTERRUPTED;
  return report.status === 'succeeded' ? EXIT.OK : EXIT.FAILURE;
}

export const command: Command = {
  help: HELP,
  action: action({
    args: '<plan.yaml|plan.json>',
    flags: FLAGS,
    async run(ctx, input) {
      const f = readPlan(ctx, input);
      const { values } = f;
      // A plan runs a handful of commands: the policy engine's wasm is not worth optimising.
      oneShotWasm();
      const logger = loggerFor(ctx, values.log);
      const engine = await queueEngine(ctx, f, logger);
      const run = await createPlanRun({
        ...{ config: ctx.config, codexHome: ctx.codexHome, cwd: ctx.cwd, env: ctx.env, profile: ctx.profile },
        ...{ explicitProfile: ctx.explicitProfile, version: ctx.version, approvalMode: approvalModeFor(ctx) },
        ...{ allowDegraded: values['allow-degraded'] === true, policies: values.policy ?? [] },
        ...{ maxConcurrent: values['max-concurrent'], logger, engine, metrics: !values['dry-run'] },
        onEvent: progressReporter(ctx),
      });
      try {
        return await execute(ctx, run, f);
      } finally {
        await run.close();
      }
    },
  }),
};

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
