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
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { interrupts, line } from '../output.js';
import { loadQueueModule } from '../queue.js';
import { APPROVAL_FLAG, approvalModeFor, POLICY_FLAG, RUN_FLAGS } from '../run-flags.js';
import { action, type Command, type Flags, type Input, int, str } from '../spec.js';

const FLAGS = {
  queue: str(
    'redis://HOST:PORT/DB',
    'the Redis queue (redis:// or rediss://; the same URL the coordinator uses)',
  ),
  concurrency: int('N', 'tasks run at once on this worker (default 1)', { max: 1024 }),
  'key-file': str(
    'FILE',
    'the shared job-signing key (else CODEX_QUEUE_KEY or CODEX_QUEUE_KEY_FILE);\nunsigned, forged or altered jobs are refused, logged and audited',
  ),
  ...POLICY_FLAG,
  ...APPROVAL_FLAG,
  'allow-degraded': RUN_FLAGS['allow-degraded'],
  log: str('FILE', 'structured logs (pino JSON lines) to FILE; default stderr'),
} as const satisfies Flags;

export const command: Command = {
  help: `Takes tasks of "codex supervise --queue" plans from Redis and runs them here, each through this
machine's exec policy, sandbox and audit log, exactly as a local task would run. --profile is the
ceiling: the highest profile this worker runs tasks under (default: the effective profile); a task
asking for more is denied. No one can be asked about a prompt decision: -a works as in
"codex supervise".

Agents: ${AGENT_TYPES.join(', ')}. Audit entries and metrics carry this worker's id and host.
Stops on SIGINT/SIGTERM: running tasks are cancelled (their process trees killed), exit 130.
A task whose worker dies is retried on another worker once its lock expires (30 s).`,
  action: action({ flags: FLAGS, run: work }),
};

async function work(ctx: CliContext, { values }: Input<typeof FLAGS>): Promise<number> {
  const { queue: url, concurrency = 1, log } = values;
  if (url === undefined) throw new UsageError('missing --queue redis://HOST:PORT/DB for "codex worker"');
  const approvalMode = approvalModeFor(ctx);
  const q = await loadQueueModule('codex worker', ctx.version);
  const { worker, host, close } = await startGuardedWorker(q, {
    ...{ config: ctx.config, codexHome: ctx.codexHome, cwd: ctx.cwd, env: ctx.env },
    ...{
      explicitProfile: ctx.explicitProfile,
      version: ctx.version,
      approvalMode,
      policies: values.policy ?? [],
    },
    ...{ allowDegraded: values['allow-degraded'] === true, url, keyFile: values['key-file'] },
    ...{ ceiling: ctx.profile, concurrency },
    logger: () =>
      createLogger({
        level: ctx.debug ? 'debug' : 'info',
        destination:
          log === undefined ? ctx.stderr : createWriteStream(resolve(ctx.cwd, log), { flags: 'a' }),
      }),
  });
  const ready = { worker: worker.id, host, queue: worker.target.display, ceiling: ctx.profile, concurrency };
  if (ctx.json) line(ctx.stdout, JSON.stringify({ ready }));
  else
    line(
      ctx.stderr,
      `codex worker ${worker.id} ready: queue ${ready.queue}, ceiling ${ctx.profile}, concurrency ${concurrency}`,
    );
  const stop = interrupts();
  await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
  stop.done();
  await close();
  const s = worker.stats;
  if (ctx.json) line(ctx.stdout, JSON.stringify({ stopped: { worker: worker.id, ...s } }));
  else
    line(
      ctx.stderr,
      `codex worker ${worker.id} stopped: ${s.completed} tasks run, ${s.refused} jobs refused`,
    );
  return EXIT.INTERRUPTED;
}
