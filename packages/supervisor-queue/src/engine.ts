import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CancelledError,
  type EngineTask,
  type ExecutionEngine,
  type Logger,
  type Plan,
  silentLogger,
  type TaskContext,
  TaskDeniedError,
  TaskTimeoutError,
} from '@codex/supervisor';
import { type ConnectionOptions, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MIN_KEY_BYTES, parseQueueUrl, type QueueTarget, redisOptions } from './connection.js';
import {
  JobRefusedError,
  PlanTooLargeError,
  QueueConfigError,
  QueueKeyError,
  QueueStateLostError,
  QueueUnavailableError,
  RemoteTaskError,
  ResultRefusedError,
} from './errors.js';
import {
  type Envelope,
  type JobPayload,
  MAX_PAYLOAD_BYTES,
  open,
  type ResultPayload,
  resultPayloadSchema,
  seal,
} from './protocol.js';

export const DEFAULT_QUEUE_NAME = 'codex-tasks';
export const DEFAULT_PREFIX = 'codex';

export interface QueueEngineOptions {
  /** `redis://HOST:PORT/DB` (or `rediss://`). */
  readonly url: string;
  /** The shared HMAC key (at least 32 bytes), see `loadQueueKey`. */
  readonly key: Uint8Array;
  /** BullMQ queue name (default `codex-tasks`); workers must use the same. */
  readonly queueName?: string;
  /** Redis key prefix (default `codex`). */
  readonly prefix?: string;
  /** How long `connect` waits for Redis (default 3000 ms). */
  readonly connectTimeoutMs?: number;
  /** Redis unreachable for this long during a run fails every task in flight (default 10 000 ms). */
  readonly unavailableAfterMs?: number;
  /** How often in-flight jobs are checked for a lost completion or a vanished job (default 1000 ms). */
  readonly sweepIntervalMs?: number;
  /** A job that vanished from Redis (restart without persistence) is re-queued this often (default 2). */
  readonly maxResubmits?: number;
  /** After cancelling a task, how long to wait for its worker to confirm (default 1500 ms). */
  readonly cancelGraceMs?: number;
  /** Signed jobs expire (are refused by workers) this long after they are issued (default 1 h). */
  readonly jobTtlMs?: number;
  /** Largest plan accepted by {@link QueueEngine.checkPlan} (default 10 000 tasks). */
  readonly maxTasks?: number;
  readonly logger?: Logger;
}

interface InFlight {
  readonly jobId: string;
  readonly taskId: string;
  readonly envelope: Envelope;
  readonly since: number;
  added: boolean;
  resubmits: number;
  settled: boolean;
  deliver(result: ResultPayload): void;
  fail(error: Error): void;
}

/**
 * The distributed engine: each task becomes a signed BullMQ job; a {@link QueueWorker} on any
 * machine runs it under its own guard and returns a signed result. The plan itself (DAG order,
 * strategies, the cap, timeouts, failure policies, merges) stays with the `Supervisor` that uses
 * this engine, so both engines share one implementation of it.
 */
export class QueueEngine implements ExecutionEngine {
  readonly name = 'bullmq';
  readonly target: QueueTarget;
  readonly queueName: string;
  readonly #key: Uint8Array;
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #replies: Redis;
  readonly #replyTo: string;
  readonly #inflight = new Map<string, InFlight>();
  readonly #logger: Logger;
  readonly #options: QueueEngineOptions;
  readonly #coordinator = `${hostname()}/${process.pid}`;
  readonly #channel: string;
  readonly #sweep: ReturnType<typeof setInterval>;
  #downSince: number | undefined;
  #lastError = 'connection lost';
  #sweeping = false;
  #closed = false;

  private constructor(
    options: QueueEngineOptions,
    target: QueueTarget,
    redis: Redis,
    replies: Redis,
    replyTo: string,
    queue: Queue,
  ) {
    this.#options = options;
    this.target = target;
    this.#key = options.key;
    this.queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    this.#channel = `${options.prefix ?? DEFAULT_PREFIX}:${this.queueName}:cancel`;
    this.#logger = options.logger ?? silentLogger;
    this.#redis = redis;
    this.#replies = replies;
    this.#replyTo = replyTo;
    // fast path: workers publish each signed result here as well as completing the job
    replies.on('message', (channel: string, message: string) => {
      if (channel !== replyTo) return;
      try {
        const { jobId, result, refused } = JSON.parse(message) as {
          jobId?: unknown;
          result?: unknown;
          refused?: unknown;
        };
        const entry = typeof jobId === 'string' ? this.#inflight.get(jobId) : undefined;
        if (!entry) return;
        if (typeof refused === 'string') entry.fail(refusal(refused));
        else this.#onCompleted(entry, result);
      } catch {
        // not ours or not JSON: the BullMQ completion still arrives
      }
    });
    replies.on('error', () => {});
    this.#queue = queue;
    redis.on('ready', () => {
      if (this.#downSince !== undefined) this.#logger.warn({ queue: target.display }, 'Redis is back');
      this.#downSince = undefined;
    });
    const down = () => {
      this.#downSince ??= Date.now();
    };
    redis.on('close', down);
    redis.on('end', down);
    redis.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    queue.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    this.#sweep = setInterval(() => void this.#check(), options.sweepIntervalMs ?? 1000);
    this.#sweep.unref();
  }

  /**
   * Checks the URL and key, connects to Redis and waits until it answers. Throws
   * {@link QueueUrlError}, {@link QueueKeyError} or {@link QueueUnavailableError} with one line.
   */
  static async connect(options: QueueEngineOptions): Promise<QueueEngine> {
    const target = parseQueueUrl(options.url);
    if (options.key.length < MIN_KEY_BYTES)
      throw new QueueKeyError(
        `the job-signing key is ${options.key.length} bytes; at least ${MIN_KEY_BYTES} are required`,
      );
    const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(queueName))
      throw new QueueConfigError(`queue name "${queueName}": use 1 to 64 letters, digits, "_", "." or "-"`);
    const redis = await ping(target, options.connectTimeoutMs ?? 3000);
    const replies = redis.duplicate();
    replies.on('error', () => {});
    const replyTo = `${options.prefix ?? DEFAULT_PREFIX}:${queueName}:reply:${randomUUID()}`;
    await replies.subscribe(replyTo);
    const connection = redisOptions(target) as ConnectionOptions;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const queue = new Queue(queueName, { connection, prefix });
    queue.on('error', () => {});
    try {
      await queue.waitUntilReady();
    } catch (error) {
      await Promise.allSettled([queue.close()]);
      redis.disconnect();
      replies.disconnect();
      throw new QueueUnavailableError(`cannot use Redis at ${target.display}: ${String(error)}`, {
        cause: error,
      });
    }
    return new QueueEngine(options, target, redis, replies, replyTo, queue);
  }

  /** Jobs in flight (enqueued or running, result not yet in). */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /**
   * Refuses a plan the queue cannot carry: more than `maxTasks` tasks, or a task input larger than
   * a job may be. Throws {@link PlanTooLargeError} naming the source, key and size.
   */
  checkPlan(plan: Plan, source = 'plan'): void {
    const max = this.#options.maxTasks ?? 10_000;
    if (plan.tasks.length > max)
      throw new PlanTooLargeError(
        `${source}: tasks: ${plan.tasks.length} tasks; the queue engine accepts at most ${max}`,
      );
    const limit = MAX_PAYLOAD_BYTES - 64 * 1024;
    plan.tasks.forEach((t, i) => {
      const bytes = Buffer.byteLength(JSON.stringify(t.input ?? null));
      if (bytes > limit)
        throw new PlanTooLargeError(
          `${source}: tasks.${i}.input: ${bytes} bytes; a queued task input may have at most ${limit}`,
        );
    });
  }

  execute(task: EngineTask, ctx: TaskContext): Promise<unknown> {
    if (this.#closed) return Promise.reject(new QueueUnavailableError('the queue engine is closed'));
    const jobId = randomUUID();
    const now = Date.now();
    const deps: JobPayload['deps'] = {};
    for (const [id, r] of Object.entries(ctx.deps)) {
      deps[id] = {
        status: r.status,
        ...(r.output === undefined ? {} : { output: r.output }),
        ...(r.score === undefined ? {} : { score: r.score }),
      };
    }
    const payload: JobPayload = {
      v: 1,
      queue: this.queueName,
      jobId,
      runId: task.runId,
      taskId: ctx.taskId,
      agentName: ctx.agent,
      type: task.type,
      profile: ctx.profile,
      input: task.input ?? null,
      ...(task.timeoutMs === undefined ? {} : { timeoutMs: task.timeoutMs }),
      deps,
      issuedAt: now,
      expiresAt: now + (this.#options.jobTtlMs ?? 3_600_000),
      coordinator: this.#coordinator,
      replyTo: this.#replyTo,
    };
    const envelope = seal(this.#key, 'job', payload);
    if (Buffer.byteLength(envelope.payload) > MAX_PAYLOAD_BYTES)
      return Promise.reject(
        new PlanTooLargeError(
          `task "${ctx.taskId}": job payload is ${Buffer.byteLength(envelope.payload)} bytes (input plus dependency outputs); at most ${MAX_PAYLOAD_BYTES}`,
        ),
      );
    return new Promise<ResultPayload>((resolve, reject) => {
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        const reason: unknown = ctx.signal.reason;
        void this.#cancel([jobId], reason);
        graceTimer = setTimeout(
          () => entry.fail(reason instanceof Error ? reason : new CancelledError()),
          this.#options.cancelGraceMs ?? 1500,
        );
      };
      const finish = () => {
        entry.settled = true;
        this.#inflight.delete(jobId);
        ctx.signal.removeEventListener('abort', onAbort);
        if (graceTimer) clearTimeout(graceTimer);
      };
      const entry: InFlight = {
        jobId,
        taskId: ctx.taskId,
        envelope,
        since: now,
        added: false,
        resubmits: 0,
        settled: false,
        deliver: (r) => {
          if (entry.settled) return;
          finish();
          resolve(r);
        },
        fail: (e) => {
          if (entry.settled) return;
          finish();
          reject(e);
        },
      };
      this.#inflight.set(jobId, entry);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.#add(entry);
    }).then((r) => this.#apply(r, ctx, task));
  }

  #add(entry: InFlight): void {
    this.#queue
      .add('task', entry.envelope, {
        jobId: entry.jobId,
        removeOnComplete: { age: 3600, count: 100_000 },
        removeOnFail: { age: 86_400 },
      })
      .then(
        () => {
          entry.added = true;
        },
        (error: unknown) =>
          entry.fail(
            new QueueUnavailableError(
              `cannot queue task "${entry.taskId}" on ${this.target.display}: ${String(error)}`,
            ),
          ),
      );
  }

  #onCompleted(entry: InFlight, raw: unknown): void {
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    const opened = open(this.#key, 'result', value, resultPayloadSchema);
    if (!opened.ok) {
      entry.fail(
        new ResultRefusedError(
          `result of task "${entry.taskId}" refused (${opened.code}): ${opened.message}`,
        ),
      );
      return;
    }
    if (opened.value.jobId !== entry.jobId) {
      entry.fail(new ResultRefusedError(`result of task "${entry.taskId}" refused: signed for another job`));
      return;
    }
    entry.deliver({ ...opened.value, attempts: opened.value.attempts + entry.resubmits });
  }

  /** Turns a worker's result into what a handler returns or throws. */
  #apply(r: ResultPayload, ctx: TaskContext, task: EngineTask): unknown {
    ctx.placement({ workerId: r.workerId, host: r.host }, r.attempts);
    for (const d of r.decisions) ctx.decision(d.decision, d.reason);
    if (r.score !== undefined) ctx.score(r.score);
    const extra = r.error?.extra ?? {};
    const message = r.error?.message ?? r.status;
    switch (r.status) {
      case 'succeeded':
        return r.output;
      case 'denied':
        throw new TaskDeniedError(typeof extra.reason === 'string' ? extra.reason : message);
      case 'timed-out':
        throw new TaskTimeoutError(
          ctx.taskId,
          typeof extra.timeoutMs === 'number' ? extra.timeoutMs : (task.timeoutMs ?? 0),
        );
      case 'cancelled':
        throw new CancelledError(message);
      default:
        throw new RemoteTaskError(r.error?.code ?? 'TASK_FAILED', message, extra);
    }
  }

  /** Tells every worker to abort these jobs, and removes those no worker has taken yet. */
  async #cancel(jobIds: string[], reason: unknown): Promise<void> {
    const timeout = reason instanceof TaskTimeoutError;
    const message = seal(this.#key, 'cancel', {
      v: 1,
      queue: this.queueName,
      jobIds,
      kind: timeout ? 'timeout' : 'cancel',
      reason: reason instanceof Error ? reason.message : 'cancelled',
      ...(timeout ? { timeoutMs: reason.timeoutMs } : {}),
      expiresAt: Date.now() + 60_000,
    });
    await this.#redis.publish(this.#channel, JSON.stringify(message)).catch(() => {});
    await Promise.allSettled(jobIds.map((id) => this.#queue.remove(id)));
  }

  /** Periodic check: Redis down too long, completions missed, jobs lost in a Redis restart. */
  async #check(): Promise<void> {
    if (this.#sweeping || this.#inflight.size === 0) return;
    this.#sweeping = true;
    try {
      const now = Date.now();
      const limit = this.#options.unavailableAfterMs ?? 10_000;
      if (this.#downSince !== undefined && now - this.#downSince >= limit) {
        const error = new QueueUnavailableError(
          `Redis at ${this.target.display} unreachable for ${((now - this.#downSince) / 1000).toFixed(1)} s (${this.#lastError}); ${this.#inflight.size} task(s) in flight abandoned`,
        );
        for (const e of [...this.#inflight.values()]) e.fail(error);
        return;
      }
      if (this.#redis.status !== 'ready') return;
      const interval = this.#options.sweepIntervalMs ?? 1000;
      const due = [...this.#inflight.values()].filter((e) => e.added && now - e.since >= interval);
      if (due.length === 0) return;
      const pipe = this.#redis.pipeline();
      for (const e of due)
        pipe.hmget(this.#queue.toKey(e.jobId), 'data', 'returnvalue', 'failedReason', 'finishedOn');
      const replies = (await pipe.exec()) ?? [];
      due.forEach((e, i) => {
        const [error, fields] = replies[i] ?? [new Error('no reply'), null];
        if (error || e.settled) return;
        const [data = null, returnvalue = null, failedReason = null, finishedOn = null] = fields as (
          | string
          | null
        )[];
        if (data === null) this.#lost(e);
        else if (finishedOn !== null && returnvalue !== null) this.#onCompleted(e, returnvalue);
        else if (finishedOn !== null && failedReason !== null) e.fail(refusal(failedReason));
      });
    } catch (error) {
      this.#lastError = String(error);
    } finally {
      this.#sweeping = false;
    }
  }

  /** The job vanished (Redis restarted without persistence, or someone deleted it): re-queue or give up. */
  #lost(e: InFlight): void {
    const max = this.#options.maxResubmits ?? 2;
    if (e.resubmits >= max) {
      e.fail(
        new QueueStateLostError(
          `task "${e.taskId}": its job vanished from Redis at ${this.target.display} ${e.resubmits + 1} times (restarted without persistence?); giving up`,
        ),
      );
      return;
    }
    e.resubmits++;
    e.added = false;
    this.#logger.warn(
      { task_id: e.taskId, job_id: e.jobId, resubmits: e.resubmits },
      'job vanished from Redis; queued again',
    );
    this.#add(e);
  }

  /** Fails anything still in flight and disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const e of [...this.#inflight.values()]) e.fail(new CancelledError('queue engine closed'));
    // a graceful close waits for Redis; when it is gone, give up after a second and drop the sockets
    await settleWithin(this.#queue.close(), 1000);
    await settleWithin(this.#queue.disconnect(), 500);
    this.#redis.disconnect();
    this.#replies.disconnect();
  }
}

/** A BullMQ failure reason as a typed error: worker refusals keep their code. */
function refusal(failedReason: string): Error {
  const m = /^(JOB_[A-Z_]+): ([\s\S]*)$/.exec(failedReason);
  if (m) return new JobRefusedError(m[1] as string, m[2] as string);
  return new RemoteTaskError('JOB_FAILED', `job failed on the queue: ${failedReason}`);
}

/** Connects a plain client and waits for PING, or throws QUEUE_UNAVAILABLE with the last error. */
async function ping(target: QueueTarget, timeoutMs: number): Promise<Redis> {
  const redis = new Redis({ ...redisOptions(target), lazyConnect: true });
  let lastError = 'no answer';
  redis.on('error', (error: Error) => {
    lastError = (error as NodeJS.ErrnoException).code ?? error.message;
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return redis;
  } catch (error) {
    redis.disconnect();
    const timedOut = error instanceof Error && error.message === 'timeout';
    const why =
      lastError !== 'no answer' ? lastError : timedOut ? `no answer within ${timeoutMs} ms` : String(error);
    throw new QueueUnavailableError(`cannot reach Redis at ${target.display} (${why})`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Waits for `p` at most `ms`. */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p,
    new Promise((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  if (timer) clearTimeout(timer);
}
