import { setMaxListeners } from 'node:events';
import type { SecurityProfile } from '@codex/security-profile';
import type { Meter } from '@opentelemetry/api';
import { Agent, type AgentEvent, type AgentHandler, type TaskResult } from './agent.js';
import type { ExecutionEngine } from './engine.js';
import {
  CancelledError,
  DependencyFailedError,
  MergeError,
  PlanError,
  type PlanIssue,
  SupervisorClosedError,
} from './errors.js';
import type { MailboxFullPolicy } from './mailbox.js';
import { type MergeOptions, type MergeResult, merge } from './merge.js';
import { type Logger, SupervisorMetrics, silentLogger } from './observability.js';
import { levels, type Plan, parsePlan, type TaskSpec } from './plan.js';
import { Semaphore } from './semaphore.js';

export interface SupervisorOptions {
  /** Agents working at once (default 4). A plan's `maxConcurrent` or a run option overrides it per run. */
  readonly maxConcurrent?: number;
  /** Default mailbox for every agent (capacity 32, `block`). */
  readonly mailbox?: { capacity?: number | undefined; policy?: MailboxFullPolicy | undefined };
  /** The effective security profile, passed to handlers and put on every log line. */
  readonly profile?: SecurityProfile;
  /** A pino logger (see `createLogger`); default silent. */
  readonly logger?: Logger;
  /** OpenTelemetry meter; default the global meter provider's (no-op unless an SDK is registered). */
  readonly meter?: Meter;
  /** Grace for handlers that ignore their abort signal (default 2000 ms). */
  readonly abortGraceMs?: number;
  /** Agent state and progress changes, and task results, as they happen. */
  readonly onEvent?: (event: SupervisorEvent) => void;
  /** How plan merges turn outputs into text, normalise votes and score (see `merge`). */
  readonly merge?: Omit<MergeOptions, 'separator'>;
  /**
   * Where task bodies run. Default: in this process, by the registered handlers. With another
   * engine (e.g. `@codex/supervisor-queue`), registered handlers still define the agent types
   * and their input schemas (plans are validated here), but the engine runs the tasks.
   */
  readonly engine?: ExecutionEngine;
  /** Attributes added to every metric (e.g. `worker_id`, `host`). */
  readonly metricAttributes?: Readonly<Record<string, string>>;
}

export type SupervisorEvent =
  | (AgentEvent & { readonly runId?: string })
  | { readonly type: 'task'; readonly runId: string; readonly result: TaskResult };

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Overrides the plan's and the supervisor's cap for this run. */
  readonly maxConcurrent?: number;
  /** Where the plan came from, for error messages (default `plan`). */
  readonly source?: string;
  /** Run after every task settled, last registered first, whether the run succeeded or not. */
  readonly onCleanup?: () => unknown;
}

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

export interface RunReport {
  readonly runId: string;
  /** The engine that ran the tasks: `in-process` or the distributed engine's name. */
  readonly engine: string;
  readonly name?: string;
  readonly status: RunStatus;
  readonly strategy: Plan['strategy'];
  readonly failure: Plan['failure'];
  readonly maxConcurrent: number;
  /** Highest number of agents that held a permit at once during this run. */
  readonly peakConcurrency: number;
  /** Every task, in plan order. */
  readonly tasks: readonly TaskResult[];
  /** Order in which tasks started work (ids). */
  readonly startOrder: readonly string[];
  readonly merged?: MergeResult;
  readonly mergeError?: MergeError;
  readonly cancelReason?: string;
  readonly cleanupErrors: readonly string[];
  readonly mailboxes: {
    readonly droppedOldest: number;
    readonly droppedNew: number;
    readonly blockedSends: number;
  };
  readonly durationMs: number;
}

export interface RunHandle {
  readonly runId: string;
  /** Cancels the run: running tasks are aborted, pending ones skipped, cleanups still run. */
  cancel(reason?: string): void;
  /** Adds a cleanup callback for this run. */
  onCleanup(fn: () => unknown): void;
  readonly done: Promise<RunReport>;
}

/** Anything with zod's `safeParse` (a zod schema fits); validates a task's `input` for an agent type. */
export interface InputSchema<I> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: I }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

let runCounter = 0;

/**
 * Runs DAG plans on registered agent types under a concurrency cap, with per-task timeouts,
 * failure policies, cancellation with cleanup, merge strategies, metrics and structured logs.
 */
export class Supervisor {
  readonly maxConcurrent: number;
  readonly profile: SecurityProfile;
  readonly semaphore: Semaphore;
  readonly metrics: SupervisorMetrics;
  readonly #handlers = new Map<string, AgentHandler<never, unknown>>();
  readonly #agents = new Map<string, Agent<never, unknown>>();
  readonly #runs = new Set<RunHandle>();
  readonly #inputSchemas = new Map<string, InputSchema<unknown>>();
  readonly #options: SupervisorOptions;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: SupervisorOptions = {}) {
    this.#options = options;
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.semaphore = new Semaphore(this.maxConcurrent);
    this.profile = options.profile ?? 'offline';
    this.#logger = options.logger ?? silentLogger;
    this.metrics = new SupervisorMetrics(options.meter, this.profile, options.metricAttributes);
  }

  /** Registers the handler for an agent type (replacing any previous one). */
  register<I, O>(type: string, handler: AgentHandler<I, O>, options: { input?: InputSchema<I> } = {}): this {
    this.#handlers.set(type, handler as AgentHandler<never, unknown>);
    if (options.input) this.#inputSchemas.set(type, options.input);
    else this.#inputSchemas.delete(type);
    return this;
  }

  get agentTypes(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Long-lived agents created with {@link spawn}. */
  get agents(): readonly Agent<never, unknown>[] {
    return [...this.#agents.values()];
  }

  /**
   * Creates a long-lived named agent of a registered type; submit work with `agent.submit()`.
   * It shares the supervisor's semaphore.
   */
  spawn<I = unknown, O = unknown>(
    name: string,
    type: string,
    options: { mailbox?: { capacity?: number | undefined; policy?: MailboxFullPolicy | undefined } } = {},
  ): Agent<I, O> {
    if (this.#closed) throw new SupervisorClosedError();
    if (this.#agents.has(name))
      throw new PlanError('spawn', [{ path: 'name', message: `agent "${name}" already exists` }]);
    const handler = this.#handler(type, 'spawn', 'type');
    const agent = this.#newAgent(
      name,
      type,
      handler,
      this.semaphore,
      options.mailbox ?? this.#options.mailbox,
    );
    this.#agents.set(name, agent as Agent<never, unknown>);
    return agent as unknown as Agent<I, O>;
  }

  /** Validates and runs a plan to the end. */
  run(plan: unknown, options: RunOptions = {}): Promise<RunReport> {
    return this.start(plan, options).done;
  }

  /**
   * Validates a plan as `start()` would (schema, graph, registered agent types, task inputs)
   * without running it. Returns the plan with defaults and parsed inputs.
   */
  validate(planInput: unknown, source = 'plan'): Plan {
    let plan = parsePlan(planInput, source);
    const issues: PlanIssue[] = [];
    // Task inputs are checked against their agent's schema before anything runs.
    plan = {
      ...plan,
      tasks: plan.tasks.map((t, i) => {
        const schema = this.#inputSchemas.get(t.agent);
        if (!schema) return t;
        const parsed = schema.safeParse(t.input);
        if (parsed.success) return { ...t, input: parsed.data };
        for (const issue of parsed.error.issues) {
          issues.push({
            path: ['tasks', i, 'input', ...issue.path].map(String).join('.'),
            message: issue.message,
          });
        }
        return t;
      }),
    };
    const types = new Map<string, string>();
    plan.tasks.forEach((t, i) => {
      if (!this.#handlers.has(t.agent)) {
        issues.push({
          path: `tasks.${i}.agent`,
          message: `no agent registered for type "${t.agent}"; registered: ${this.agentTypes.join(', ') || '(none)'}`,
        });
      }
      const name = t.agentName ?? t.id;
      const seen = types.get(name);
      if (seen !== undefined && seen !== t.agent) {
        issues.push({
          path: `tasks.${i}.agentName`,
          message: `agent "${name}" is of type "${seen}", not "${t.agent}"`,
        });
      }
      types.set(name, t.agent);
    });
    if (issues.length > 0) {
      throw new PlanError(
        source,
        issues,
        issues.some((i) => i.message.startsWith('no agent')) ? 'UNKNOWN_AGENT' : 'INVALID_PLAN',
      );
    }
    return plan;
  }

  /**
   * Validates a plan (throws {@link PlanError} synchronously) and starts it. The handle cancels
   * it and registers cleanups.
   */
  start(planInput: unknown, options: RunOptions = {}): RunHandle {
    if (this.#closed) throw new SupervisorClosedError();
    const plan = this.validate(planInput, options.source ?? 'plan');
    const runId = `run-${++runCounter}`;
    const controller = new AbortController();
    // every queued and running task listens to the run's signal
    setMaxListeners(0, controller.signal);
    const cleanups: (() => unknown)[] = [];
    if (options.onCleanup) cleanups.push(options.onCleanup);
    let cancelledByUser: string | undefined;
    const cancel = (reason = 'cancelled') => {
      if (controller.signal.aborted) return;
      cancelledByUser = reason;
      controller.abort(new CancelledError(`run ${runId} cancelled: ${reason}`));
    };
    const outer = options.signal;
    const onOuter = () => cancel(outer?.reason instanceof Error ? outer.reason.message : 'aborted by signal');
    if (outer?.aborted) onOuter();
    else outer?.addEventListener('abort', onOuter, { once: true });

    const handle: RunHandle = {
      runId,
      cancel,
      onCleanup: (fn) => {
        cleanups.push(fn);
      },
      done: undefined as unknown as Promise<RunReport>,
    };
    const done = this.#execute(plan, runId, controller, options, () => cancelledByUser).then(
      async (partial) => {
        outer?.removeEventListener('abort', onOuter);
        const cleanupErrors: string[] = [];
        for (const fn of cleanups.reverse()) {
          try {
            await fn();
          } catch (error) {
            cleanupErrors.push(error instanceof Error ? error.message : String(error));
          }
        }
        this.#runs.delete(handle);
        const report: RunReport = { ...partial, cleanupErrors };
        this.#logger.info(
          {
            run_id: runId,
            status: report.status,
            profile: this.profile,
            duration_ms: Math.round(report.durationMs),
          },
          `run ${report.status}`,
        );
        return report;
      },
    );
    (handle as { done: Promise<RunReport> }).done = done;
    this.#runs.add(handle);
    return handle;
  }

  /** Cancels every active run, waits for them, and closes the long-lived agents. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    const runs = [...this.#runs];
    for (const r of runs) r.cancel('supervisor shutdown');
    await Promise.allSettled(runs.map((r) => r.done));
    for (const a of this.#agents.values()) a.close();
  }

  #handler(type: string, source: string, path: string): AgentHandler<never, unknown> {
    const handler = this.#handlers.get(type);
    if (!handler) {
      throw new PlanError(
        source,
        [
          {
            path,
            message: `no agent registered for type "${type}"; registered: ${this.agentTypes.join(', ') || '(none)'}`,
          },
        ],
        'UNKNOWN_AGENT',
      );
    }
    return handler;
  }

  /** The handler a plan task runs with: the registered one, or the engine's dispatch. */
  #taskHandler(t: TaskSpec, runId: string): AgentHandler<never, unknown> {
    const local = this.#handler(t.agent, runId, 'agent');
    const engine = this.#options.engine;
    if (!engine) return local;
    const timeoutMs = t.timeoutMs;
    return ((input: unknown, ctx) =>
      engine.execute(
        { runId, type: t.agent, input, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
        ctx,
      )) as AgentHandler<never, unknown>;
  }

  #newAgent(
    name: string,
    type: string,
    handler: AgentHandler<never, unknown>,
    semaphore: Semaphore,
    mailbox: { capacity?: number | undefined; policy?: MailboxFullPolicy | undefined } | undefined,
    runId?: string,
  ): Agent<never, unknown> {
    const onEvent = this.#options.onEvent;
    return new Agent<never, unknown>({
      name,
      type,
      handler,
      semaphore,
      profile: this.profile,
      logger: runId ? this.#logger.child({ run_id: runId }) : this.#logger,
      metrics: this.metrics,
      ...(mailbox ? { mailbox } : {}),
      ...(this.#options.abortGraceMs === undefined ? {} : { abortGraceMs: this.#options.abortGraceMs }),
      ...(onEvent ? { onEvent: (e: AgentEvent) => onEvent(runId ? { ...e, runId } : e) } : {}),
      // with an engine, a plan task ran wherever the engine says (nowhere known until it does)
      ...(runId && this.#options.engine ? { placement: null } : {}),
    });
  }

  async #execute(
    plan: Plan,
    runId: string,
    controller: AbortController,
    options: RunOptions,
    userCancel: () => string | undefined,
  ): Promise<Omit<RunReport, 'cleanupErrors'>> {
    const t0 = performance.now();
    const cap = options.maxConcurrent ?? plan.maxConcurrent ?? this.maxConcurrent;
    const semaphore = cap === this.maxConcurrent ? this.semaphore : new Semaphore(cap);
    const peakBase = semaphore.inUse;
    semaphore.resetPeak();
    const agents = new Map<string, Agent<never, unknown>>();
    const agentFor = (t: TaskSpec) => {
      const name = t.agentName ?? t.id;
      let agent = agents.get(name);
      if (!agent) {
        agent = this.#newAgent(
          name,
          t.agent,
          this.#taskHandler(t, runId),
          semaphore,
          plan.mailbox ?? this.#options.mailbox,
          runId,
        );
        agents.set(name, agent);
      }
      return agent;
    };

    const tiers = levels(plan.tasks);
    const levelOf = new Map<string, number>();
    tiers.forEach((tier, i) => {
      for (const t of tier) levelOf.set(t.id, i);
    });
    const order = tiers.flat();
    const results = new Map<string, TaskResult>();
    const pending = new Set(order);
    const running = new Map<string, Promise<TaskResult>>();
    const startOrder: string[] = [];
    let level = 0;
    // One wake-up per settled task (not a Promise.race over every running task, which attaches
    // a reaction to each of them on every turn: quadratic for large plans).
    let wake: (() => void) | undefined;
    let settledSinceLastTurn = false;
    const taskSettled = () => {
      settledSinceLastTurn = true;
      const w = wake;
      wake = undefined;
      w?.();
    };
    let failFastReason: string | undefined;
    const limit = plan.strategy === 'sequential' ? 1 : Number.POSITIVE_INFINITY;

    let raceWinner: string | undefined;
    const racers =
      plan.merge?.strategy === 'first-success' && plan.merge.cancelRest
        ? new Set(plan.merge.tasks ?? plan.tasks.map((t) => t.id))
        : undefined;
    const settle = (result: TaskResult) => {
      results.set(result.taskId, result);
      this.#options.onEvent?.({ type: 'task', runId, result });
      if (racers?.has(result.taskId) && result.status === 'succeeded' && !controller.signal.aborted) {
        raceWinner = result.taskId;
        controller.abort(new CancelledError(`first-success: task "${result.taskId}" won`));
        return;
      }
      if (result.status !== 'succeeded' && plan.failure === 'fail-fast' && !controller.signal.aborted) {
        failFastReason = `task "${result.taskId}" ${result.status}`;
        controller.abort(new CancelledError(`fail-fast: ${failFastReason}`));
      }
    };
    const skip = (t: TaskSpec, error: CancelledError | DependencyFailedError) => {
      const agent = t.agentName ?? t.id;
      this.metrics.taskFinished(t.agent, 'skipped', 0, error.code);
      settle({
        taskId: t.id,
        agent,
        agentType: t.agent,
        status: 'skipped',
        error,
        finishedAt: Date.now(),
        durationMs: 0,
        progress: 0,
        decisions: [],
        attempts: 0,
      });
    };

    for (;;) {
      let changed = true;
      while (changed) {
        changed = false;
        if (controller.signal.aborted) {
          const why = raceWinner
            ? `first-success: "${raceWinner}" won`
            : failFastReason
              ? `fail-fast after ${failFastReason}`
              : 'run cancelled';
          for (const t of pending) skip(t, new CancelledError(`not started: ${why}`));
          pending.clear();
          break;
        }
        if (plan.strategy === 'hybrid') {
          while (level < tiers.length && (tiers[level] as TaskSpec[]).every((t) => results.has(t.id)))
            level++;
        }
        for (const t of pending) {
          if (running.size >= limit) break;
          if (plan.strategy === 'hybrid' && levelOf.get(t.id) !== level) continue;
          if (!t.dependsOn.every((d) => results.has(d))) continue;
          pending.delete(t);
          changed = true;
          const failedDep = t.dependsOn.find((d) => results.get(d)?.status !== 'succeeded');
          if (failedDep !== undefined) {
            skip(t, new DependencyFailedError(t.id, failedDep));
            continue;
          }
          const deps = Object.fromEntries(t.dependsOn.map((d) => [d, results.get(d) as TaskResult]));
          const timeoutMs = t.timeoutMs ?? plan.defaultTimeoutMs;
          startOrder.push(t.id);
          const p = agentFor(t)
            .submit(t.input as never, {
              taskId: t.id,
              signal: controller.signal,
              deps,
              onResult: settle,
              ...(timeoutMs === undefined ? {} : { timeoutMs }),
            })
            .then((r) => {
              running.delete(t.id);
              if (!results.has(r.taskId)) settle(r);
              taskSettled();
              return r;
            });
          running.set(t.id, p);
        }
      }
      if (running.size === 0) break;
      if (!settledSinceLastTurn)
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      settledSinceLastTurn = false;
    }

    for (const a of agents.values()) a.close();
    const tasks = plan.tasks.map((t) => results.get(t.id) as TaskResult);
    let merged: MergeResult | undefined;
    let mergeError: MergeError | undefined;
    if (plan.merge) {
      const ids = plan.merge.tasks ?? plan.tasks.map((t) => t.id);
      try {
        merged = merge(
          plan.merge.strategy,
          ids.map((id) => results.get(id) as TaskResult),
          {
            ...this.#options.merge,
            ...(plan.merge.separator === undefined ? {} : { separator: plan.merge.separator }),
          },
        );
      } catch (error) {
        if (!(error instanceof MergeError)) throw error;
        mergeError = error;
      }
    }
    const user = userCancel();
    const status: RunStatus =
      user !== undefined
        ? 'cancelled'
        : raceWinner !== undefined || tasks.every((t) => t.status === 'succeeded')
          ? 'succeeded'
          : 'failed';
    const drops = { droppedOldest: 0, droppedNew: 0, blockedSends: 0 };
    for (const a of agents.values()) {
      const s = a.mailbox.stats;
      drops.droppedOldest += s.droppedOldest;
      drops.droppedNew += s.droppedNew;
      drops.blockedSends += s.blockedSends;
    }
    return {
      runId,
      engine: this.#options.engine?.name ?? 'in-process',
      ...(plan.name === undefined ? {} : { name: plan.name }),
      status,
      strategy: plan.strategy,
      failure: plan.failure,
      maxConcurrent: cap,
      peakConcurrency: Math.max(0, semaphore.peak - (semaphore === this.semaphore ? 0 : peakBase)),
      tasks,
      startOrder,
      ...(merged === undefined ? {} : { merged }),
      ...(mergeError === undefined ? {} : { mergeError }),
      ...(user !== undefined
        ? { cancelReason: user }
        : raceWinner !== undefined
          ? { cancelReason: `first-success: task "${raceWinner}" won` }
          : failFastReason
            ? { cancelReason: `fail-fast: ${failFastReason}` }
            : {}),
      mailboxes: drops,
      durationMs: performance.now() - t0,
    };
  }
}
