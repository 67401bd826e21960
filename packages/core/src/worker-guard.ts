// What a queue worker (`codex worker`) runs its tasks under, without the terminal: its id, the
// config's audit log (every refusal written at once), the standard agents per profile, and OTLP
// metrics when configured. The queue package stays out of core: the worker passes its registry.
import { hostname } from 'node:os';
import { type AuditLogger, createAuditLoggerFromConfig } from '@codex/audit';
import { startOtlpMetrics } from '@codex/supervisor';
import type { AgentOptions } from './agents.js';
import { type AgentRegistryLike, type ProfileAgentSet, standardAgentsFor } from './worker-agents.js';

export interface WorkerGuardOptions extends Omit<AgentOptions, 'profile' | 'sessionId' | 'auditDetails'> {
  /** Default `<host>-<pid>`. */
  readonly workerId?: string;
  /** Default this machine's host name. */
  readonly host?: string;
}

type Meter = ReturnType<
  NonNullable<Awaited<ReturnType<typeof startOtlpMetrics>>>['meterProvider']['getMeter']
>;

/** Options for the queue's `QueueWorker.start`, and the close of what they opened. */
export interface WorkerGuard<A> {
  readonly worker: {
    readonly workerId: string;
    readonly host: string;
    /** The config's audit log, written at once (the worker records its refusals there). */
    readonly audit: AuditLogger;
    /** The standard guarded agents for each profile a task runs under. */
    readonly agents: (profile: AgentOptions['profile']) => Promise<ProfileAgentSet<A>>;
    readonly meter?: Meter;
  };
  /** Closes the audit log and stops the metrics exporter (after the worker has closed). */
  close(): Promise<void>;
}

/**
 * Opens what a queue worker needs of the guard. Agents register on a fresh registry from
 * `newRegistry` per profile (`() => new AgentRegistry()` of `@codex/supervisor-queue`).
 */
export async function openWorkerGuard<A>(
  options: WorkerGuardOptions,
  newRegistry: () => AgentRegistryLike<A>,
): Promise<WorkerGuard<A>> {
  const { workerId: id, host: givenHost, ...agentOptions } = options;
  const host = givenHost ?? hostname();
  const workerId = id ?? `${host}-${process.pid}`;
  const otlp = await startOtlpMetrics({ env: options.env, serviceName: 'codex-worker' });
  const audit = createAuditLoggerFromConfig(options.config.audit, {
    home: options.codexHome,
    env: options.env,
    flushIntervalMs: 0,
  });
  const agents = standardAgentsFor(
    { ...agentOptions, sessionId: `worker-${workerId}`, auditDetails: { worker_id: workerId, host } },
    newRegistry,
  );
  const meter = otlp?.meterProvider.getMeter('@codex/supervisor');
  return {
    worker: { workerId, host, audit, agents, ...(meter ? { meter } : {}) },
    async close() {
      await audit.close();
      await otlp?.shutdown().catch(() => {});
    },
  };
}
