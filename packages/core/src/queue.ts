// What `codex worker` and `codex supervise --queue` do with the queue package
// (`@codex/supervisor-queue`, an optional peer: passed in, so core does not depend on it): the
// job-signing key, the coordinator's engine, and a worker started under this machine's guard.
import { resolve } from 'node:path';
import type { SecurityProfile } from '@codex/security-profile';
import type { Logger } from '@codex/supervisor';
import type { AgentRegistryLike } from './worker-agents.js';
import { openWorkerGuard, type WorkerGuard, type WorkerGuardOptions } from './worker-guard.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The queue package's key loader: `keyFile`, else `CODEX_QUEUE_KEY[_FILE]` in `env`. */
interface KeyLoader {
  loadQueueKey(options: { env?: Env; keyFile?: string }): Uint8Array;
}

/** Where a queue's job-signing key is read from; `keyFile` is relative to `cwd`. */
export interface QueueKeySource {
  readonly cwd: string;
  readonly env: Env;
  readonly keyFile?: string | undefined;
}

function queueKey(q: KeyLoader, o: QueueKeySource): Uint8Array {
  return q.loadQueueKey({
    env: o.env,
    ...(o.keyFile === undefined ? {} : { keyFile: resolve(o.cwd, o.keyFile) }),
  });
}

/** What `codex supervise --queue` uses of the queue package. */
export interface QueueEngineModule<E> extends KeyLoader {
  readonly QueueEngine: { connect(o: { url: string; key: Uint8Array; logger?: Logger }): Promise<E> };
}

/** `codex supervise --queue`: the queue engine the coordinator runs a plan on, connected. */
export async function connectQueueEngine<E>(
  q: QueueEngineModule<E>,
  options: QueueKeySource & { readonly url: string; readonly logger?: Logger | undefined },
): Promise<E> {
  const key = queueKey(q, options);
  return q.QueueEngine.connect({
    url: options.url,
    key,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

type Closable = { close(o: { abort: boolean }): Promise<void> };

/** What a guarded worker uses of the queue package. */
export interface QueueModuleLike<A, W extends Closable> extends KeyLoader {
  readonly AgentRegistry: new () => AgentRegistryLike<A>;
  readonly QueueWorker: { start(options: GuardedWorkerStart<A>): Promise<W> };
}

/** The options a guarded worker starts the queue's `QueueWorker` with. */
export type GuardedWorkerStart<A> = WorkerGuard<A>['worker'] & {
  readonly url: string;
  readonly key: Uint8Array;
  readonly ceiling: SecurityProfile;
  readonly concurrency: number;
  readonly logger: Logger;
};

export interface GuardedWorkerOptions extends WorkerGuardOptions, QueueKeySource {
  /** The Redis queue (`redis://` or `rediss://`). */
  readonly url: string;
  /** The highest profile a task runs under here. */
  readonly ceiling: SecurityProfile;
  readonly concurrency: number;
  /** Made once the key is loaded (a log file is not created for a worker that cannot start). */
  readonly logger: () => Logger;
}

/**
 * `codex worker`: the job-signing key, then {@link openWorkerGuard}, then the queue's
 * `QueueWorker`; the guard is closed again when the worker cannot start. `close()` stops the
 * worker (its running tasks aborted), then the guard.
 */
export async function startGuardedWorker<A, W extends Closable>(
  q: QueueModuleLike<A, W>,
  options: GuardedWorkerOptions,
): Promise<{ readonly worker: W; readonly host: string; close(): Promise<void> }> {
  const { url, keyFile: _, ceiling, concurrency, logger, ...guardOptions } = options;
  const key = queueKey(q, options);
  const log = logger();
  const guard = await openWorkerGuard(guardOptions, () => new q.AgentRegistry());
  const start = { url, key, ceiling, concurrency, logger: log, ...guard.worker };
  const worker = await q.QueueWorker.start(start).catch(async (error: unknown) => {
    await guard.close();
    throw error;
  });
  return {
    worker,
    host: guard.worker.host,
    async close() {
      await worker.close({ abort: true });
      await guard.close();
    },
  };
}
