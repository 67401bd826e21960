import type { AuditDecision, CodexError, SecurityProfile } from '@codex/security-profile';
import { inProcessPlacement, type Placement } from './engine.js';
import {
  CancelledError,
  InvalidTransitionError,
  MailboxFullError,
  MessageDroppedError,
  TaskDeniedError,
  TaskTimeoutError,
  toCodexError,
} from './errors.js';
import { Mailbox, type MailboxFullPolicy } from './mailbox.js';
import { type Logger, type SupervisorMetrics, silentLogger } from './observability.js';
import type { Semaphore } from './semaphore.js';

export const AGENT_STATES = ['idle', 'working', 'waiting', 'completed', 'failed'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/**
 * Allowed transitions. `waiting` is "has work but cannot proceed": queued for a concurrency
 * permit, or blocked in `ctx.wait()`. `completed`/`failed` describe the last task; an agent with
 * more work in its mailbox moves on from there.
 */
export const AGENT_TRANSITIONS: Readonly<Record<AgentState, readonly AgentState[]>> = {
  idle: ['waiting', 'working'],
  waiting: ['working', 'completed', 'failed'],
  working: ['waiting', 'completed', 'failed'],
  completed: ['waiting', 'working'],
  failed: ['waiting', 'working'],
};

/** How a task ended. */
export type TaskStatus =
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'timed-out'
  | 'cancelled'
  | 'skipped'
  | 'dropped';

export interface TaskResult<O = unknown> {
  readonly taskId: string;
  readonly agent: string;
  readonly agentType: string;
  readonly status: TaskStatus;
  readonly output?: O;
  /** Set by the handler through `ctx.score()`; used by the `highest-score` merge. */
  readonly score?: number;
  readonly error?: CodexError;
  /** Epoch ms when work started (after the concurrency permit); absent when it never ran. */
  readonly startedAt?: number;
  readonly finishedAt: number;
  /** Work time: from permit to settlement (0 when it never ran). */
  readonly durationMs: number;
  /** Last progress reported, 0..1. */
  readonly progress: number;
  /** Policy decisions the handler reported. */
  readonly decisions: readonly { decision: AuditDecision; reason: string }[];
  /** Where the task ran (worker id and host); absent when it never ran. */
  readonly worker?: Placement;
  /** How many times the task was started (more than 1 after a retry on another worker). */
  readonly attempts: number;
}

/** What a handler gets besides its input. */
export interface TaskContext {
  readonly taskId: string;
  /** The agent's name. */
  readonly agent: string;
  readonly agentType: string;
  readonly profile: SecurityProfile;
  /** Aborted on timeout (reason {@link TaskTimeoutError}) or cancellation ({@link CancelledError}). */
  readonly signal: AbortSignal;
  /** Results of this task's dependencies, by task id. */
  readonly deps: Readonly<Record<string, TaskResult>>;
  /** A pino child logger bound to task_id, agent, agent_type and profile. */
  readonly log: Logger;
  /** Reports progress (clamped to 0..1). */
  progress(fraction: number, note?: string): void;
  /** Sets the score the `highest-score` merge compares. */
  score(value: number): void;
  /** Records a policy decision: logged with `decision`, and counted when denied. */
  decision(decision: AuditDecision, reason: string): void;
  /** Marks the agent `waiting` while `promise` is pending, then `working` again. */
  wait<T>(promise: Promise<T>): Promise<T>;
  /** Registers a cleanup run (last first) after the handler settles, even on timeout or cancel. */
  onCleanup(fn: () => unknown): void;
  /** For engines: where the task actually ran and how many attempts it took (default: here, 1). */
  placement(where: Placement, attempts: number): void;
}

export type AgentHandler<I = unknown, O = unknown> = (input: I, ctx: TaskContext) => Promise<O>;

export interface SubmitOptions {
  readonly taskId?: string;
  /** Per-task timeout in ms (measured from the start of work, not from queueing). */
  readonly timeoutMs?: number;
  /** Cancels this task (queued or running). */
  readonly signal?: AbortSignal;
  readonly deps?: Readonly<Record<string, TaskResult>>;
  /** Called with the result synchronously, before the concurrency permit is released. */
  readonly onResult?: (result: TaskResult) => void;
}

export interface AgentEvent {
  readonly agent: string;
  readonly taskId?: string;
  readonly type: 'state' | 'progress';
  readonly state: AgentState;
  readonly progress: number;
  readonly note?: string;
}

export interface AgentOptions<I, O> {
  readonly name: string;
  readonly type: string;
  readonly handler: AgentHandler<I, O>;
  readonly mailbox?: { capacity?: number | undefined; policy?: MailboxFullPolicy | undefined };
  /** Shared concurrency cap; without one the agent runs whenever it has work. */
  readonly semaphore?: Semaphore;
  readonly profile?: SecurityProfile;
  readonly logger?: Logger;
  readonly metrics?: SupervisorMetrics;
  /** How long to wait for a handler that ignores its abort signal before giving up on it (default 2000 ms). */
  readonly abortGraceMs?: number;
  readonly onEvent?: (event: AgentEvent) => void;
  /**
   * Where the handler runs unless it reports otherwise through `ctx.placement()`: default this
   * process (1 attempt). `null` for engines that run tasks elsewhere: a task no worker reported
   * on has no `worker` and 0 attempts.
   */
  readonly placement?: Placement | null;
}

interface Envelope<I> {
  readonly input: I;
  readonly taskId: string;
  readonly opts: SubmitOptions;
  readonly resolve: (result: TaskResult) => void;
}

let taskCounter = 0;

/**
 * An actor: a name, a type, a bounded mailbox of work, and a state machine. Work is taken from
 * the mailbox one message at a time; each runs the async handler with an AbortSignal.
 */
export class Agent<I = unknown, O = unknown> {
  readonly name: string;
  readonly type: string;
  readonly mailbox: Mailbox<Envelope<I>>;
  readonly #handler: AgentHandler<I, O>;
  readonly #semaphore: Semaphore | undefined;
  readonly #profile: SecurityProfile;
  readonly #logger: Logger;
  readonly #metrics: SupervisorMetrics | undefined;
  readonly #graceMs: number;
  readonly #onEvent: ((event: AgentEvent) => void) | undefined;
  readonly #placement: Placement | null;
  #state: AgentState = 'idle';
  #progress = 0;
  #pumping = false;
  #currentTask: string | undefined;
  #transitions = 0;
  #completed = 0;
  #failed = 0;

  constructor(options: AgentOptions<I, O>) {
    this.name = options.name;
    this.type = options.type;
    this.#handler = options.handler;
    this.#semaphore = options.semaphore;
    this.#profile = options.profile ?? 'offline';
    this.#logger = options.logger ?? silentLogger;
    this.#metrics = options.metrics;
    this.#graceMs = options.abortGraceMs ?? 2000;
    this.#onEvent = options.onEvent;
    this.#placement = options.placement === undefined ? inProcessPlacement() : options.placement;
    this.mailbox = new Mailbox<Envelope<I>>({
      ...options.mailbox,
      name: options.name,
      onDrop: (env) => env.resolve(this.#unrun(env, 'dropped', new MessageDroppedError(this.name))),
    });
  }

  get state(): AgentState {
    return this.#state;
  }

  get progress(): number {
    return this.#progress;
  }

  get stats() {
    return {
      name: this.name,
      type: this.type,
      state: this.#state,
      progress: this.#progress,
      currentTask: this.#currentTask,
      transitions: this.#transitions,
      completed: this.#completed,
      failed: this.#failed,
      mailbox: this.mailbox.stats,
    };
  }

  /** Moves the state machine; throws {@link InvalidTransitionError} for an edge it does not have. */
  transition(to: AgentState): void {
    const from = this.#state;
    if (from === to) return;
    if (!AGENT_TRANSITIONS[from].includes(to)) throw new InvalidTransitionError(this.name, from, to);
    this.#state = to;
    this.#transitions++;
    this.#onEvent?.({
      agent: this.name,
      type: 'state',
      state: to,
      progress: this.#progress,
      ...(this.#currentTask === undefined ? {} : { taskId: this.#currentTask }),
    });
  }

  /**
   * Queues one piece of work and resolves with its result (never rejects for handler errors).
   * The mailbox policy applies: `block` awaits space, `drop-new` resolves at once with status
   * `dropped` (MAILBOX_FULL), `drop-oldest` settles the evicted message as `dropped`.
   */
  submit(input: I, opts: SubmitOptions = {}): Promise<TaskResult<O>> {
    const taskId = opts.taskId ?? `${this.name}-${++taskCounter}`;
    return new Promise<TaskResult<O>>((resolve) => {
      const env: Envelope<I> = { input, taskId, opts, resolve: resolve as (r: TaskResult) => void };
      this.mailbox.send(env, opts.signal).then(
        () => this.#pump(),
        (error: unknown) => {
          const status = error instanceof MailboxFullError ? 'dropped' : 'cancelled';
          resolve(this.#unrun(env, status, toCodexError(taskId, error)) as TaskResult<O>);
        },
      );
    });
  }

  /** Stops taking work: closes the mailbox and settles anything still queued as cancelled. */
  close(): void {
    this.mailbox.close();
    for (const env of this.mailbox.drain()) {
      env.resolve(this.#unrun(env, 'cancelled', new CancelledError(`agent "${this.name}" closed`)));
    }
  }

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void (async () => {
      try {
        for (;;) {
          const env = this.mailbox.tryReceive();
          if (!env) break;
          env.resolve(await this.#execute(env));
        }
      } finally {
        this.#pumping = false;
      }
    })();
  }

  #unrun(env: Envelope<I>, status: TaskStatus, error: CodexError): TaskResult {
    this.#metrics?.taskFinished(this.type, status, 0, error.code);
    this.#logger.warn(
      {
        task_id: env.taskId,
        agent: this.name,
        agent_type: this.type,
        profile: this.#profile,
        status,
        code: error.code,
      },
      error.message,
    );
    return {
      taskId: env.taskId,
      agent: this.name,
      agentType: this.type,
      status,
      error,
      finishedAt: Date.now(),
      durationMs: 0,
      progress: 0,
      decisions: [],
      attempts: 0,
    };
  }

  async #execute(env: Envelope<I>): Promise<TaskResult> {
    const { taskId, opts } = env;
    if (opts.signal?.aborted) return this.#unrun(env, 'cancelled', cancelReason(opts.signal));
    this.#currentTask = taskId;
    this.#progress = 0;
    const log = this.#logger.child({
      task_id: taskId,
      agent: this.name,
      agent_type: this.type,
      profile: this.#profile,
    });
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(cancelReason(opts.signal as AbortSignal));
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

    let permit: { release(): void } | undefined;
    if (this.#semaphore) {
      const immediate = this.#semaphore.tryAcquire();
      if (immediate) permit = immediate;
      else {
        this.transition('waiting');
        try {
          permit = await this.#semaphore.acquire(controller.signal);
        } catch {
          opts.signal?.removeEventListener('abort', onOuterAbort);
          this.transition('failed');
          this.#failed++;
          this.#currentTask = undefined;
          return this.#unrun(env, 'cancelled', cancelReason(controller.signal));
        }
        if (controller.signal.aborted) {
          // cancelled while the permit was being handed over: do not start
          permit.release();
          opts.signal?.removeEventListener('abort', onOuterAbort);
          this.transition('failed');
          this.#failed++;
          this.#currentTask = undefined;
          return this.#unrun(env, 'cancelled', cancelReason(controller.signal));
        }
      }
    }

    const startedAt = Date.now();
    const t0 = performance.now();
    let score: number | undefined;
    let where: Placement | null = this.#placement;
    let attempts = where === null ? 0 : 1;
    const decisions: { decision: AuditDecision; reason: string }[] = [];
    const cleanups: (() => unknown)[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (opts.timeoutMs !== undefined) {
      const ms = opts.timeoutMs;
      timer = setTimeout(() => controller.abort(new TaskTimeoutError(taskId, ms)), ms);
    }
    const ctx: TaskContext = {
      taskId,
      agent: this.name,
      agentType: this.type,
      profile: this.#profile,
      signal: controller.signal,
      deps: opts.deps ?? {},
      log,
      progress: (fraction, note) => {
        this.#progress = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
        this.#onEvent?.({
          agent: this.name,
          taskId,
          type: 'progress',
          state: this.#state,
          progress: this.#progress,
          ...(note === undefined ? {} : { note }),
        });
      },
      score: (value) => {
        score = value;
      },
      decision: (decision, reason) => {
        decisions.push({ decision, reason });
        log.info({ decision, reason }, `policy decision: ${decision}`);
        if (decision === 'denied') this.#metrics?.denial(this.type, decision);
      },
      wait: async (promise) => {
        if (this.#state === 'working') this.transition('waiting');
        try {
          return await promise;
        } finally {
          if (this.#state === 'waiting') this.transition('working');
        }
      },
      onCleanup: (fn) => {
        cleanups.push(fn);
      },
      placement: (w, n) => {
        where = w;
        attempts = n;
      },
    };

    this.transition('working');
    this.#metrics?.agentStarted();
    log.debug({ event: 'task_start' }, 'task started');
    const work = Promise.resolve().then(() => this.#handler(env.input, ctx));
    let aborted: Promise<never> | undefined;
    const abortPromise = new Promise<never>((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    aborted = abortPromise;
    aborted.catch(() => {});

    let status: TaskStatus;
    let output: O | undefined;
    let error: CodexError | undefined;
    try {
      output = await Promise.race([work, aborted]);
      status = 'succeeded';
    } catch (thrown) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : thrown;
      error = toCodexError(taskId, reason);
      status =
        error instanceof TaskTimeoutError
          ? 'timed-out'
          : error instanceof CancelledError
            ? 'cancelled'
            : error instanceof TaskDeniedError
              ? 'denied'
              : 'failed';
      if (status === 'denied' && !decisions.some((d) => d.decision === 'denied')) {
        decisions.push({ decision: 'denied', reason: (error as TaskDeniedError).reason });
        log.info(
          { decision: 'denied', reason: (error as TaskDeniedError).reason },
          'policy decision: denied',
        );
        this.#metrics?.denial(this.type, 'denied');
      }
    } finally {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onOuterAbort);
    }
    // A handler that ignored its signal still holds its permit until it settles or the grace ends.
    if (status !== 'succeeded')
      await settleWithin(work, this.#graceMs, () => log.warn({}, 'handler ignored abort'));
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (cleanupError) {
        log.error({ err: String(cleanupError) }, 'cleanup failed');
      }
    }
    const durationMs = performance.now() - t0;
    if (status === 'succeeded') this.#progress = 1;
    this.#metrics?.agentStopped();
    if (this.#state === 'waiting') this.transition('working');
    this.transition(status === 'succeeded' ? 'completed' : 'failed');
    if (status === 'succeeded') this.#completed++;
    else this.#failed++;
    this.#currentTask = undefined;
    this.#metrics?.taskFinished(this.type, status, durationMs, error?.code);
    const logFields = { event: 'task_end', status, duration_ms: Math.round(durationMs * 1000) / 1000 };
    if (error) log.warn({ ...logFields, code: error.code }, error.message);
    else log.info(logFields, 'task succeeded');
    const result: TaskResult = {
      taskId,
      agent: this.name,
      agentType: this.type,
      status,
      ...(output === undefined ? {} : { output }),
      ...(score === undefined ? {} : { score }),
      ...(error === undefined ? {} : { error }),
      startedAt,
      finishedAt: Date.now(),
      durationMs,
      progress: this.#progress,
      decisions,
      ...(where === null ? {} : { worker: where }),
      attempts,
    };
    // The owner hears of the result before the permit moves on, so a fail-fast abort it triggers
    // is already visible to whichever task gets the permit next.
    opts.onResult?.(result);
    permit?.release();
    return result;
  }
}

function cancelReason(signal: AbortSignal): CodexError {
  const reason: unknown = signal.reason;
  if (reason instanceof TaskTimeoutError || reason instanceof CancelledError) return reason;
  return new CancelledError(reason instanceof Error ? reason.message : 'cancelled', { cause: reason });
}

async function settleWithin(work: Promise<unknown>, ms: number, onGiveUp: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = await Promise.race([
    work.then(
      () => false,
      () => false,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), ms);
    }),
  ]);
  if (timer) clearTimeout(timer);
  if (gaveUp) onGiveUp();
}
