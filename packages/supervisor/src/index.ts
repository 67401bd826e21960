/** The zod instance the package validates with, for agent input schemas (`register(type, handler, { input })`). */
export { z } from 'zod';
export {
  AGENT_STATES,
  AGENT_TRANSITIONS,
  Agent,
  type AgentEvent,
  type AgentHandler,
  type AgentOptions,
  type AgentState,
  type SubmitOptions,
  type TaskContext,
  type TaskResult,
  type TaskStatus,
} from './agent.js';
export { type EngineTask, type ExecutionEngine, inProcessPlacement, type Placement } from './engine.js';
export type { SupervisorErrorCode } from './errors.js';
export {
  CancelledError,
  DependencyFailedError,
  InvalidTransitionError,
  MailboxClosedError,
  MailboxFullError,
  MergeError,
  MessageDroppedError,
  PlanCycleError,
  PlanError,
  type PlanIssue,
  SupervisorClosedError,
  SupervisorConfigError,
  TaskDeniedError,
  TaskFailedError,
  TaskTimeoutError,
} from './errors.js';
export {
  DEFAULT_MAILBOX_CAPACITY,
  MAILBOX_FULL_POLICIES,
  Mailbox,
  type MailboxFullPolicy,
  type MailboxOptions,
  type MailboxStats,
  type SendOutcome,
} from './mailbox.js';
export {
  MERGE_STRATEGIES,
  type MergeCandidate,
  type MergeOptions,
  type MergeResult,
  type MergeStrategy,
  merge,
  outputText,
  type VoteCount,
} from './merge.js';
export { createLogger, type Logger, METRIC_NAMES, SupervisorMetrics, silentLogger } from './observability.js';
export { type OtlpMetricsHandle, type OtlpMetricsOptions, startOtlpMetrics } from './otlp.js';
export {
  EXECUTION_STRATEGIES,
  type ExecutionStrategy,
  FAILURE_POLICIES,
  type FailurePolicy,
  levels,
  type MergeSpec,
  type Plan,
  type PlanInput,
  parsePlan,
  parsePlanText,
  planSchema,
  type TaskSpec,
  type TaskSpecInput,
} from './plan.js';
export { type ProcessResult, type RunProcessOptions, runProcess } from './process.js';
export { type Permit, Semaphore } from './semaphore.js';
export {
  type InputSchema,
  type RunHandle,
  type RunOptions,
  type RunReport,
  type RunStatus,
  Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
} from './supervisor.js';
