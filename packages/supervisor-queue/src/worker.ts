import { hostname } from 'node:os';
import {
  type AuditDecision,
  type AuditSink,
  type CodexError,
  profileWithin,
  type SecurityProfile,
} from '@codex/security-profile';
import {
  Agent,
  type AgentHandler,
  CancelledError,
  type InputSchema,
  type Logger,
  SupervisorMetrics,
  silentLogger,
  TaskDeniedError,
  type TaskResult,
  TaskTimeoutError,
} from '@codex/supervisor';
import type { Meter } from '@opentelemetry/api';
import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { MIN_KEY_BYTES, parseQueueUrl, type QueueTarget, redisOptions } from './connection.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, settleWithin } from './engine.js';
import { QueueConfigError, QueueKeyError, QueueUnavailableError } from './errors.js';
import {
  cancelPayloadSchema,
  type Envelope,
  type JobPayload,
  jobPayloadSchema,
  open,
  type ResultPayload,
  seal,
} from './protocol.js';

/** One agent type a worker can run: its handler and, optionally, the input schema it checks first. */
export interface WorkerAgent {
  readonly handler: AgentHandler<never, unknown>;
  readonly input?: InputSchema<unknown>;
}

/**
 * The agents a worker runs for one security profile: the same guarded agents as local tasks
 * (exec policy → sandbox → audit), built by the host (the CLI) and injected here.
 */
export interface WorkerAgentSet {
  get(type: string): WorkerAgent | undefined;
  close?(): Promise<void> | void;
}

/** Builds (once per profile, then cached) the agent set for tasks that run under `profile`. */
export type AgentsForProfile = (profile: SecurityProfile) => WorkerAgentSet | Promise<WorkerAgentSet>;

/**
 * Collects `register(type, handler, { input })` calls into a {@link WorkerAgentSet}: pass it
 * wherever code registers agents on a `Supervisor`.
 */
export class AgentRegistry implements WorkerAgentSet {
  readonly #agents = new Map<string, WorkerAgent>();

  register<I, O>(type: string, handler: AgentHandler<I, O>, options: { input?: InputSchema<I> } = {}): this {
    this.#agents.set(type, {
      handler: handler as AgentHandler<never, unknown>,
      ...(options.input ? { input: options.input as InputSchema<unknown> } : {}),
    });
    return this;
  }

  get(type: string): WorkerAgent | undefined {
    return this.#agents.get(type);
  }

  get types(): string[] {
    return [...this.#agents.keys()];
  }
}

export interface QueueWorkerOptions {
  readonly url: string;
  readonly key: Uint8Array;
  /** Highest profile this worker runs tasks under; a job asking for more is denied. */
  readonly ceiling: SecurityProfile;
  readonly agents: AgentsForProfile;
  readonly queueName?: string;
  readonly prefix?: string;
  /** Tasks run at once on this worker (default 1). */
  readonly concurrency?: number;
  /** Default `<host>-<pid>`. */
  readonly workerId?: string;
  readonly host?: string;
  readonly logger?: Logger;
  readonly meter?: Meter;
  /** Where the worker records refusals and ceiling denials (the agents audit their own steps). */
  readonly audit?: AuditSink;
  /**
   * A job's lock lasts this long and is renewed at half of it; a worker that dies (SIGKILL) loses
   * it and another worker's stalled check re-queues the job (default 30 000 ms).
   */
  readonly lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (default lockDurationMs / 2). */
  readonly stalledIntervalMs?: number;
  /** How often a job may stall (worker died) and be retried before it fails (default 2). */
  readonly maxStalledCount?: number;
  /** Grace for handlers that ignore their abort signal (default 2000 ms). */
  readonly abortGraceMs?: number;
  readonly connectTimeoutMs?: number;
}

export interface WorkerStats {
  readonly completed: number;
  readonly refused: number;
  readonly running: number;
}

/** What the worker logs and audits for each refused job. */
export interface RefusedJob {
  readonly jobId: string;
  readonly code: string;
  readonly message: string;
}

/** True when every capability of `profile` is within `ceiling`'s (security-profile's `profileWithin`). */
export function withinCeiling(profile: SecurityProfile, ceiling: SecurityProfile): boolean {
  return profileWithin(profile, ceiling);
}

/**
 * Takes signed jobs from the queue and runs each with the injected agents of its profile, under
 * a local concurrency limit, its own timeout and abort handling (the supervisor's `Agent`).
 * Unsigned, forged, altered, expired or malformed jobs are refused (logged, audited, failed
 * without retry) and the worker goes on. Cancel messages from the coordinator abort the task and
 * so kill its process tree.
 */
export class QueueWorker {
  readonly id: string;
  readonly host: string;
  readonly target: QueueTarget;
  readonly #options: QueueWorkerOptions;
  readonly #logger: Logger;
  readonly #worker: Worker;
  readonly #subscriber: Redis;
  readonly #publisher: Redis;
  readonly #agentSets = new Map<SecurityProfile, Promise<WorkerAgentSet>>();
  readonly #metrics = new Map<SecurityProfile, SupervisorMetrics>();
  readonly #running = new Map<string, AbortController>();
  readonly #refusals: ((r: RefusedJob) => void)[] = [];
  #completed = 0;
  #refused = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: QueueWorkerOptions, target: QueueTarget, subscriber: Redis) {
    this.#options = options;
    this.target = target;
    this.host = options.host ?? hostname();
    this.id = options.workerId ?? `${this.host}-${process.pid}`;
    this.#logger = (options.logger ?? silentLogger).child({ worker_id: this.id, host: this.host });
    this.#subscriber = subscriber;
    this.#publisher = subscriber.duplicate();
    this.#publisher.on('error', () => {});
    const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const lockDuration = options.lockDurationMs ?? 30_000;
    this.#worker = new Worker(queueName, (job: Job) => this.#process(job), {
      connection: redisOptions(target) as ConnectionOptions,
      prefix,
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval: options.stalledIntervalMs ?? Math.max(100, Math.floor(lockDuration / 2)),
      maxStalledCount: options.maxStalledCount ?? 2,
      autorun: false,
    });
    this.#worker.on('error', (error: Error) =>
      this.#logger.warn({ err: error.message }, 'queue connection error'),
    );
    this.#worker.on('stalled', (jobId: string) =>
      this.#logger.warn({ job_id: jobId }, 'stalled job re-queued'),
    );
    const channel = `${prefix}:${queueName}:cancel`;
    subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) this.#onCancel(message);
    });
    subscriber.on('error', () => {});
    void subscriber.subscribe(channel);
  }

  /** Validates options, connects, subscribes to cancellations and starts taking jobs. */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const target = parseQueueUrl(options.url);
    if (options.key.length < MIN_KEY_BYTES)
      throw new QueueKeyError(
        `the job-signing key is ${options.key.length} bytes; at least ${MIN_KEY_BYTES} are required`,
      );
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
      throw new QueueConfigError(`concurrency must be an integer from 1 to 1024, got ${concurrency}`);
    const subscriber = new Redis({ ...redisOptions(target), lazyConnect: true });
    let lastError = 'no answer';
    subscriber.on('error', (error: Error) => {
      lastError = (error as NodeJS.ErrnoException).code ?? error.message;
    });
    const timeoutMs = options.connectTimeoutMs ?? 3000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        subscriber.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        }),
      ]);
    } catch {
      subscriber.disconnect();
      throw new QueueUnavailableError(
        `cannot reach Redis at ${target.display} (${lastError === 'no answer' ? `no answer within ${timeoutMs} ms` : lastError})`,
      );
    } finally {
      if (timer) clearTimeout(timer);
    }
    const worker = new QueueWorker(options, target, subscriber);
    void worker.#worker
      .run()
      .catch((error: unknown) => worker.#logger.error({ err: String(error) }, 'worker stopped'));
    await worker.#worker.waitUntilReady();
    worker.#logger.info({ queue: target.display, ceiling: options.ceiling, concurrency }, 'worker ready');
    return worker;
  }

  get stats(): WorkerStats {
    return { completed: this.#completed, refused: this.#refused, running: this.#running.size };
  }

  /** Called for every refused job (after it was logged and audited). */
  onRefused(fn: (r: RefusedJob) => void): void {
    this.#refusals.push(fn);
  }

  async #process(job: Job): Promise<Envelope> {
    const jobId = job.id ?? '(no id)';
    const opened = open(this.#options.key, 'job', job.data, jobPayloadSchema);
    if (!opened.ok) return this.#refuse(jobId, opened.code, opened.message);
    const p = opened.value;
    const queueName = this.#options.queueName ?? DEFAULT_QUEUE_NAME;
    if (p.jobId !== jobId || p.queue !== queueName)
      return this.#refuse(
        jobId,
        'JOB_FORGED',
        `signed for job ${p.jobId} on queue ${p.queue}, found as job ${jobId} on ${queueName}`,
      );
    if (Date.now() > p.expiresAt)
      return this.#refuse(jobId, 'JOB_EXPIRED', `expired at ${new Date(p.expiresAt).toISOString()}`);

    const attempts = Math.max(1, job.attemptsStarted);
    const base = { jobId, attempts };
    if (!withinCeiling(p.profile, this.#options.ceiling)) {
      const reason = `profile ${p.profile} is above this worker's ceiling ${this.#options.ceiling}`;
      await this.#audit(p, 'denied', reason, { stage: 'ceiling' });
      this.#logger.warn({ job_id: jobId, task_id: p.taskId, decision: 'denied' }, reason);
      const error = new TaskDeniedError(reason);
      return this.#result(base, {
        status: 'denied',
        error,
        decisions: [{ decision: 'denied', reason }],
        finishedAt: Date.now(),
        durationMs: 0,
      });
    }
    const agents = await this.#agentsFor(p.profile);
    const agent = agents.get(p.type);
    if (!agent)
      return this.#refuse(
        jobId,
        'JOB_INVALID',
        `no agent of type "${p.type}" on worker ${this.id}`,
        p.replyTo,
      );
    let input: unknown = p.input;
    if (agent.input) {
      const parsed = agent.input.safeParse(p.input);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        return this.#refuse(
          jobId,
          'JOB_INVALID',
          `input.${i?.path.map(String).join('.') ?? ''}: ${i?.message ?? 'invalid'}`,
          p.replyTo,
        );
      }
      input = parsed.data;
    }

    const controller = new AbortController();
    this.#running.set(jobId, controller);
    try {
      const deps: Record<string, TaskResult> = {};
      for (const [id, d] of Object.entries(p.deps)) {
        deps[id] = {
          taskId: id,
          agent: id,
          agentType: 'remote',
          status: d.status,
          ...(d.output === undefined ? {} : { output: d.output }),
          ...(d.score === undefined ? {} : { score: d.score }),
          finishedAt: p.issuedAt,
          durationMs: 0,
          progress: d.status === 'succeeded' ? 1 : 0,
          decisions: [],
          attempts: 1,
        };
      }
      const runner = new Agent<never, unknown>({
        name: p.agentName,
        type: p.type,
        handler: agent.handler,
        profile: p.profile,
        logger: this.#logger.child({ run_id: p.runId, job_id: jobId, attempt: attempts }),
        metrics: this.#metricsFor(p.profile),
        ...(this.#options.abortGraceMs === undefined ? {} : { abortGraceMs: this.#options.abortGraceMs }),
      });
      const r = await runner.submit(input as never, {
        taskId: p.taskId,
        signal: controller.signal,
        deps,
        ...(p.timeoutMs === undefined ? {} : { timeoutMs: p.timeoutMs }),
      });
      runner.close();
      this.#completed++;
      const sealed = this.#result(base, {
        status: r.status,
        ...(r.output === undefined ? {} : { output: r.output }),
        ...(r.score === undefined ? {} : { score: r.score }),
        ...(r.error === undefined ? {} : { error: r.error }),
        decisions: r.decisions,
        ...(r.startedAt === undefined ? {} : { startedAt: r.startedAt }),
        finishedAt: r.finishedAt,
        durationMs: r.durationMs,
      });
      // the fast path to the coordinator; the job's completion in BullMQ carries the same result
      if (p.replyTo !== undefined)
        this.#publisher.publish(p.replyTo, JSON.stringify({ jobId, result: sealed })).catch(() => {});
      return sealed;
    } finally {
      this.#running.delete(jobId);
    }
  }

  #result(
    base: { jobId: string; attempts: number },
    r: {
      status: ResultPayload['status'];
      output?: unknown;
      score?: number;
      error?: CodexError;
      decisions: readonly { decision: AuditDecision; reason: string }[];
      startedAt?: number;
      finishedAt: number;
      durationMs: number;
    },
  ): Envelope {
    const payload: ResultPayload = {
      v: 1,
      jobId: base.jobId,
      status: r.status,
      ...(r.output === undefined ? {} : { output: jsonSafe(r.output) }),
      ...(r.score === undefined ? {} : { score: r.score }),
      ...(r.error === undefined ? {} : { error: errorPayload(r.error) }),
      decisions: [...r.decisions],
      ...(r.startedAt === undefined ? {} : { startedAt: r.startedAt }),
      finishedAt: r.finishedAt,
      durationMs: r.durationMs,
      workerId: this.id,
      host: this.host,
      attempts: base.attempts,
    };
    return seal(this.#options.key, 'result', payload);
  }

  /**
   * Logs, audits and fails a bad job without retry; the worker keeps going. `replyTo` (only from
   * a verified payload) tells the coordinator at once; otherwise it sees the failed job in its sweep.
   */
  async #refuse(jobId: string, code: string, message: string, replyTo?: string): Promise<never> {
    this.#refused++;
    this.#logger.warn({ job_id: jobId, code, decision: 'denied' }, `job refused: ${message}`);
    await this.#options.audit
      ?.log({
        profile: this.#options.ceiling,
        operation: 'other',
        target: `queue job ${jobId}`,
        decision: 'denied',
        reason: `${code}: ${message}`,
        details: { stage: 'queue', worker_id: this.id, host: this.host, job_id: jobId },
      })
      .catch(() => {});
    for (const fn of this.#refusals) fn({ jobId, code, message });
    if (replyTo !== undefined)
      this.#publisher
        .publish(replyTo, JSON.stringify({ jobId, refused: `${code}: ${message}` }))
        .catch(() => {});
    throw new UnrecoverableError(`${code}: ${message}`);
  }

  async #audit(
    p: JobPayload,
    decision: AuditDecision,
    reason: string,
    details: Record<string, string>,
  ): Promise<void> {
    await this.#options.audit
      ?.log({
        session_id: p.runId,
        task_id: p.taskId,
        agent_type: p.type,
        profile: p.profile,
        operation: 'other',
        target: `queue job ${p.jobId}`,
        decision,
        reason,
        details: { ...details, worker_id: this.id, host: this.host, job_id: p.jobId },
      })
      .catch(() => {});
  }

  #agentsFor(profile: SecurityProfile): Promise<WorkerAgentSet> {
    let set = this.#agentSets.get(profile);
    if (!set) {
      set = Promise.resolve(this.#options.agents(profile));
      this.#agentSets.set(profile, set);
    }
    return set;
  }

  #metricsFor(profile: SecurityProfile): SupervisorMetrics {
    let m = this.#metrics.get(profile);
    if (!m) {
      m = new SupervisorMetrics(this.#options.meter, profile, { worker_id: this.id, host: this.host });
      this.#metrics.set(profile, m);
    }
    return m;
  }

  #onCancel(message: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(message);
    } catch {
      return;
    }
    const opened = open(this.#options.key, 'cancel', raw, cancelPayloadSchema);
    if (!opened.ok) {
      this.#logger.warn({ code: opened.code }, `cancel message refused: ${opened.message}`);
      return;
    }
    const c = opened.value;
    if (c.queue !== (this.#options.queueName ?? DEFAULT_QUEUE_NAME) || Date.now() > c.expiresAt) return;
    for (const jobId of c.jobIds) {
      const controller = this.#running.get(jobId);
      if (!controller) continue;
      this.#logger.info({ job_id: jobId, kind: c.kind }, `task aborted by the coordinator: ${c.reason}`);
      controller.abort(
        c.kind === 'timeout' && c.timeoutMs !== undefined
          ? new TaskTimeoutError(jobId, c.timeoutMs)
          : new CancelledError(c.reason),
      );
    }
  }

  /**
   * Stops taking jobs. With `abort` (Ctrl-C on the worker) running tasks are cancelled first
   * (their process trees killed); otherwise they finish. Then disconnects.
   */
  close(options: { abort?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      if (options.abort)
        for (const c of this.#running.values())
          c.abort(new CancelledError(`worker ${this.id} shutting down`));
      await settleWithin(this.#worker.close(), (this.#options.abortGraceMs ?? 2000) + 1000);
      await settleWithin(
        this.#worker.disconnect().catch(() => {}),
        500,
      );
      this.#subscriber.disconnect();
      this.#publisher.disconnect();
      for (const set of this.#agentSets.values()) await (await set).close?.();
    })();
    return this.#closing;
  }
}

/** An error as it travels: code, message and primitive fields (exit code, stderr tail…). */
function errorPayload(error: CodexError): NonNullable<ResultPayload['error']> {
  const extra: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(error)) {
    if (k === 'name' || k === 'code' || k === 'message' || k === 'stack') continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') extra[k] = v;
  }
  return { code: error.code, message: error.message, extra };
}

/** Outputs must survive JSON; anything else (functions, cycles) becomes its string form. */
function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}
