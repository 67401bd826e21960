export { loadQueueKey, MIN_KEY_BYTES, parseQueueUrl, type QueueTarget } from './connection.js';
export { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, QueueEngine, type QueueEngineOptions } from './engine.js';
export type { SupervisorQueueErrorCode } from './errors.js';
export {
  JobRefusedError,
  PlanTooLargeError,
  QueueConfigError,
  QueueKeyError,
  QueueStateLostError,
  QueueUnavailableError,
  QueueUrlError,
  RemoteTaskError,
  ResultRefusedError,
} from './errors.js';
export {
  type Envelope,
  type JobPayload,
  jobPayloadSchema,
  MAX_PAYLOAD_BYTES,
  type ResultPayload,
  type SignedKind,
  sign,
  verify,
} from './protocol.js';
export {
  AgentRegistry,
  type AgentsForProfile,
  QueueWorker,
  type QueueWorkerOptions,
  type RefusedJob,
  type WorkerAgent,
  type WorkerAgentSet,
  type WorkerStats,
  withinCeiling,
} from './worker.js';
