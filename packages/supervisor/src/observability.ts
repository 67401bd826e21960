import { createRequire } from 'node:module';
import { type AuditDecision, isModuleNotFound } from '@codex/security-profile';
import type { Attributes, Meter } from '@opentelemetry/api';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

// pino and the OpenTelemetry API are loaded on first use, so importing the package stays cheap.
const lazyRequire = createRequire(import.meta.url);

/**
 * The global meter provider's meter. `@opentelemetry/api` is an optional peer: without it no SDK
 * can have been registered either (an application that registers one has the API installed,
 * and it is found from here), so the global meter would be a no-op; this is that no-op.
 */
function globalMeter(): Meter {
  try {
    return (lazyRequire('@opentelemetry/api') as typeof import('@opentelemetry/api')).metrics.getMeter(
      '@codex/supervisor',
    );
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    return NOOP_METER;
  }
}

const NOOP_INSTRUMENT = { add() {}, record() {}, addCallback() {}, removeCallback() {} };
const NOOP_METER = {
  createCounter: () => NOOP_INSTRUMENT,
  createHistogram: () => NOOP_INSTRUMENT,
  createObservableGauge: () => NOOP_INSTRUMENT,
} as unknown as Meter;

/** The subset of a pino logger the supervisor uses; any pino logger fits. */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Discards everything; the default when no logger is given (cheap: no pino instance). */
export const silentLogger: Logger = {
  child: () => silentLogger,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * A pino logger for the supervisor. Every line it writes for a task carries `task_id`, `agent`,
 * `agent_type` and `profile`; lines about a policy decision also carry `decision`.
 */
export function createLogger(
  options: { level?: string; name?: string; destination?: DestinationStream } = {},
): PinoLogger {
  const opts = { name: options.name ?? 'codex-supervisor', level: options.level ?? 'info', base: null };
  const { pino } = lazyRequire('pino') as typeof import('pino');
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** Names of the five instruments, stable across releases. */
export const METRIC_NAMES = {
  tasks: 'codex.supervisor.tasks',
  taskDuration: 'codex.supervisor.task.duration',
  activeAgents: 'codex.supervisor.agents.active',
  errors: 'codex.supervisor.errors',
  denials: 'codex.supervisor.denials',
} as const;

/**
 * The supervisor's five OpenTelemetry instruments. With no meter given it uses the global
 * meter provider, which is a no-op until an SDK (see `startOtlpMetrics`) is registered.
 */
export class SupervisorMetrics {
  readonly #tasks;
  readonly #duration;
  readonly #errors;
  readonly #denials;
  #active = 0;
  readonly #base: Attributes;

  /** `attributes` go on every data point (e.g. `worker_id` and `host` on a queue worker). */
  constructor(meter?: Meter, profile = 'offline', attributes: Readonly<Record<string, string>> = {}) {
    this.#base = { ...attributes, profile };
    meter ??= globalMeter();
    this.#tasks = meter.createCounter(METRIC_NAMES.tasks, {
      description: 'Tasks finished, by agent type and final status',
      unit: '{task}',
    });
    this.#duration = meter.createHistogram(METRIC_NAMES.taskDuration, {
      description: 'Wall time of a task from start of work to settlement',
      unit: 'ms',
    });
    const gauge = meter.createObservableGauge(METRIC_NAMES.activeAgents, {
      description: 'Agents working right now (holding a concurrency permit)',
      unit: '{agent}',
    });
    gauge.addCallback((result) => result.observe(this.#active, this.#base));
    this.#errors = meter.createCounter(METRIC_NAMES.errors, {
      description: 'Tasks that ended in error, by error code',
      unit: '{error}',
    });
    this.#denials = meter.createCounter(METRIC_NAMES.denials, {
      description: 'Policy denials reported by agents',
      unit: '{denial}',
    });
  }

  get active(): number {
    return this.#active;
  }

  agentStarted(): void {
    this.#active++;
  }

  agentStopped(): void {
    this.#active--;
  }

  taskFinished(agentType: string, status: string, durationMs: number, errorCode?: string): void {
    const attrs: Attributes = { ...this.#base, agent_type: agentType, status };
    this.#tasks.add(1, attrs);
    this.#duration.record(durationMs, attrs);
    if (errorCode !== undefined) this.#errors.add(1, { ...attrs, code: errorCode });
  }

  denial(agentType: string, decision: AuditDecision): void {
    this.#denials.add(1, { ...this.#base, agent_type: agentType, decision });
  }
}
