// `codex supervise` without the terminal: the standard guarded agents registered on a supervisor,
// optionally on another execution engine (a queue), with OTLP metrics; plans parsed and validated
// against them.
import {
  type ExecutionEngine,
  type Logger,
  type Plan,
  parsePlanText,
  Supervisor,
  type SupervisorEvent,
  startOtlpMetrics,
} from '@codex/supervisor';
import { type AgentOptions, createStandardAgents } from './agents.js';

/** An execution engine that may refuse a plan up front (the queue's size limit) and must be closed. */
export interface PlanEngine extends ExecutionEngine {
  checkPlan?(plan: Plan, source?: string): void;
  close?(): Promise<void>;
}

export interface PlanRunOptions extends AgentOptions {
  /** Agents working at once (overrides a plan's `maxConcurrent`; default 4). */
  readonly maxConcurrent?: number | undefined;
  readonly logger?: Logger | undefined;
  /** Supervisor events (task started, task result…) as they happen. */
  readonly onEvent?: ((event: SupervisorEvent) => void) | undefined;
  /** Where tasks run instead of this process; closed by {@link PlanRun.close}. */
  readonly engine?: PlanEngine | undefined;
  /** Export metrics over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set in `env`. */
  readonly metrics?: boolean | undefined;
}

export interface PlanRun {
  /** The supervisor with the standard agents registered (start plans with `supervisor.start`). */
  readonly supervisor: Supervisor;
  /** Parses (YAML or JSON) and validates a plan, and checks that the engine takes it; throws `PlanError`. */
  loadPlan(text: string, source: string): Plan;
  /** Closes the engine, the agents (their audit log, plugin pool) and the metrics exporter. */
  close(): Promise<void>;
}

export async function createPlanRun(options: PlanRunOptions): Promise<PlanRun> {
  const { maxConcurrent, logger, onEvent, engine, metrics, ...agentOptions } = options;
  const otlp = metrics ? await startOtlpMetrics({ env: options.env, serviceName: 'codex' }) : undefined;
  const agents = createStandardAgents(agentOptions);
  const supervisor = new Supervisor({
    ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
    profile: options.profile,
    ...(logger ? { logger } : {}),
    ...(otlp ? { meter: otlp.meterProvider.getMeter('@codex/supervisor') } : {}),
    ...(onEvent ? { onEvent } : {}),
    // command and plugin outputs merge by what they printed
    merge: { toText: agents.toText },
    ...(engine ? { engine } : {}),
  });
  agents.register(supervisor);
  return {
    supervisor,
    loadPlan(text, source) {
      const plan = supervisor.validate(parsePlanText(text, source), source);
      engine?.checkPlan?.(plan, source);
      return plan;
    },
    async close() {
      await engine?.close?.();
      await agents.close();
      await otlp?.shutdown().catch(() => {});
    },
  };
}
