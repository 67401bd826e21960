import { hostname } from 'node:os';
import type { TaskContext } from './agent.js';

/**
 * Where a task's body runs. The supervisor keeps every plan semantic (DAG order, strategies,
 * the concurrency cap, mailboxes, per-task timeouts, failure policies, cancellation, merges,
 * the report); an engine only decides where the handler of one task executes.
 *
 * - The default, in-process engine calls the handler registered with `Supervisor.register`.
 * - A distributed engine (e.g. `@codex/supervisor-queue` on BullMQ) ships the task to a worker
 *   and resolves with its output, or throws as a handler would (`TaskDeniedError` for a denial,
 *   `TaskTimeoutError`, `CancelledError`, any other `CodexError` for a failure). It reports where
 *   the task ran and how many attempts it took through `ctx.placement()`.
 */
export interface ExecutionEngine {
  /** Shown in run reports: `in-process`, `bullmq`… */
  readonly name: string;
  /** Runs one task. `ctx.signal` aborts on timeout or cancellation; honour it promptly. */
  execute(task: EngineTask, ctx: TaskContext): Promise<unknown>;
}

/** One task handed to an engine: validated input (the agent type's schema was applied). */
export interface EngineTask {
  readonly runId: string;
  /** Agent type. */
  readonly type: string;
  readonly input: unknown;
  /** The task's own timeout, when it has one (the supervisor enforces it too). */
  readonly timeoutMs?: number;
}

/** Where a task ran: a worker id and its host. */
export interface Placement {
  readonly workerId: string;
  readonly host: string;
}

let localHost: string | undefined;
/** The placement of tasks run by the in-process engine. */
export function inProcessPlacement(): Placement {
  localHost ??= hostname();
  return { workerId: 'in-process', host: localHost };
}
