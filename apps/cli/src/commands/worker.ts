// `codex worker`: takes signed tasks from a BullMQ/Redis queue and runs each through this
// machine's own guard (exec policy → sandbox → audit), never above its profile ceiling.
//
// The worker and what its tasks run under (the audit log, @codex/core's standard agents per
// profile, the same ones `codex supervise` runs in-process, and metrics) come from core's
// startGuardedWorker.
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { AGENT_TYPES, startGuardedWorker } from '@codex/core';
import { createLogger } from '@codex/supervisor';
import { intFlag, parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line } from '../output.js';
import { loadQueueModule } from '../queue.js';
import { APPROVAL_HELP, APPROVAL_OPTIONS, approvalModeFor } from '../run-flags.js';

const USAGE = `Usage: codex worker --queue redis://HOST:PORT/DB [--concurrency N] [--profile CEILING]
                    [--key-file FILE] [--policy [LAYER:]FILE]… [-a MODE] [--allow-degraded] [--log FILE]

Takes tasks of "codex supervise --queue" plans from Redis and runs them here, each through this
machine's exec policy, sandbox and audit log, exactly as a local task would run.
  --queue URL        the Redis queue (redis:// or rediss://; the same URL the coordinator uses)
  --concurrency N    tasks run at once on this worker (default 1)
  --profile CEILING  the highest profile this worker runs tasks under (default: the effective
                     profile, offline unless configured); a task asking for more is denied
  --key-file FILE    the shared job-signing key (else CODEX_QUEUE_KEY or CODEX_QUEUE_KEY_FILE);
                     unsigned, forged or altered jobs are refused, logged and audited
  --policy FILE      add an exec-policy layer for command tasks (as in "codex supervise")
  ${APPROVAL_HELP}
                     (no one can be asked: as in "codex supervise")
  --allow-degraded   let command tasks run when the sandbox cannot enforce the profile
  --log FILE         structured logs (pino JSON lines) to FILE; default stderr

Agents: ${AGENT_TYPES.join(', ')}. Audit entries and metrics carry this worker's id and host.
Stops on SIGINT/SIGTERM: running tasks are cancelled (their process trees killed), exit 130.
A task whose worker dies is retried on another worker once its lock expires (30 s).`;

export const command: Command = {
  summary: 'Run tasks of distributed plans from a Redis queue under this machine’s own guard',
  usage: USAGE,
  async run(ctx, argv) {
    const flags = parseWorkerFlags(ctx, argv);
    const q = await loadQueueModule('codex worker', ctx.version);
    const { worker, host, close } = await startGuardedWorker(q, {
      ...{ config: ctx.config, codexHome: ctx.codexHome, cwd: ctx.cwd, env: ctx.env },
      ...{ explicitProfile: ctx.explicitProfile, version: ctx.version },
      ...{ allowDegraded: flags.allowDegraded, approvalMode: flags.approvalMode, policies: flags.policies },
      ...{ url: flags.url, keyFile: flags.keyFile, ceiling: ctx.profile, concurrency: flags.concurrency },
      logger: () =>
        createLogger({
          level: ctx.debug ? 'debug' : 'info',
          destination:
            flags.logFile === undefined
              ? ctx.stderr
              : createWriteStream(resolve(ctx.cwd, flags.logFile), { flags: 'a' }),
        }),
    });
    printReady(ctx, worker, host, flags.concurrency);
    await waitForSignal(ctx);
    await close();
    const s = worker.stats;
    if (ctx.json) line(ctx.stdout, JSON.stringify({ stopped: { worker: worker.id, ...s } }));
    else
      line(
        ctx.stderr,
        `codex worker ${worker.id} stopped: ${s.completed} tasks run, ${s.refused} jobs refused`,
      );
    return EXIT.INTERRUPTED;
  },
};

interface WorkerFlags {
  url: string;
  concurrency: number;
  keyFile: string | undefined;
  logFile: string | undefined;
  allowDegraded: boolean;
  approvalMode: ReturnType<typeof approvalModeFor>;
  policies: string[];
}

function parseWorkerFlags(ctx: CliContext, argv: readonly string[]): WorkerFlags {
  const { values, positionals } = parse(argv, {
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    'key-file': { type: 'string' },
    'allow-degraded': { type: 'boolean' },
    ...APPROVAL_OPTIONS,
    policy: { type: 'string', multiple: true },
    log: { type: 'string' },
  });
  const approvalMode = approvalModeFor(ctx, values);
  if (positionals[0] !== undefined) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const url = values.queue as string | undefined;
  if (url === undefined) throw new UsageError('missing --queue redis://HOST:PORT/DB for "codex worker"');
  const concurrency = intFlag('concurrency', values.concurrency, { max: 1024 }) ?? 1;
  return {
    url,
    concurrency,
    keyFile: values['key-file'] as string | undefined,
    logFile: values.log as string | undefined,
    allowDegraded: values['allow-degraded'] === true,
    approvalMode,
    policies: (values.policy as string[] | undefined) ?? [],
  };
}

function printReady(
  ctx: CliContext,
  worker: { id: string; target: { display: string } },
  host: string,
  concurrency: number,
): void {
  const ready = {
    worker: worker.id,
    host,
    queue: worker.target.display,
    ceiling: ctx.profile,
    concurrency,
  };
  if (ctx.json) line(ctx.stdout, JSON.stringify({ ready }));
  else
    line(
      ctx.stderr,
      `codex worker ${worker.id} ready: queue ${ready.queue}, ceiling ${ctx.profile}, concurrency ${concurrency}`,
    );
}

function waitForSignal(_ctx: CliContext): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
