import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type SupervisorQueueErrorCode =
  | 'INVALID_QUEUE_CONFIG'
  | 'INVALID_QUEUE_KEY'
  | 'INVALID_QUEUE_URL'
  | 'JOB_REFUSED'
  | 'PLAN_TOO_LARGE'
  | 'QUEUE_STATE_LOST'
  | 'QUEUE_UNAVAILABLE'
  | 'RESULT_REFUSED';

/** The `--queue` URL is not a usable Redis URL (scheme, host, port or database number). */
export class QueueUrlError extends CodexError<SupervisorQueueErrorCode> {
  constructor(url: string, problem: string) {
    super('INVALID_QUEUE_URL', `queue URL "${url}": ${problem}`);
  }
}

/** The shared job-signing key is missing or too short. */
export class QueueKeyError extends CodexError<SupervisorQueueErrorCode> {
  constructor(message: string) {
    super('INVALID_QUEUE_KEY', message);
  }
}

/** Redis could not be reached (at connect time, or for too long during a run). */
export class QueueUnavailableError extends CodexError<SupervisorQueueErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUEUE_UNAVAILABLE', message, options);
  }
}

/** A job in flight disappeared from Redis (a restart without persistence) more often than allowed. */
export class QueueStateLostError extends CodexError<SupervisorQueueErrorCode> {
  constructor(message: string) {
    super('QUEUE_STATE_LOST', message);
  }
}

/** A plan or one task's payload is larger than the queue engine accepts. */
export class PlanTooLargeError extends CodexError<SupervisorQueueErrorCode> {
  constructor(message: string) {
    super('PLAN_TOO_LARGE', message);
  }
}

/** Bad options given to the engine or worker. */
export class QueueConfigError extends CodexError<SupervisorQueueErrorCode> {
  constructor(message: string) {
    super('INVALID_QUEUE_CONFIG', message);
  }
}

/**
 * A worker refused a job (unsigned, forged, altered, expired, malformed, unknown agent type or
 * input that fails the agent's schema); on the coordinator the task fails with this error.
 * `reason` is the stable refusal code: JOB_UNSIGNED, JOB_FORGED, JOB_EXPIRED, JOB_INVALID.
 */
export class JobRefusedError extends CodexError<SupervisorQueueErrorCode> {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super('JOB_REFUSED', `${reason}: ${message}`);
    this.reason = reason;
  }
}

/** A result read from Redis did not carry a valid worker signature; it is not trusted. */
export class ResultRefusedError extends CodexError<SupervisorQueueErrorCode> {
  constructor(message: string) {
    super('RESULT_REFUSED', message);
  }
}

/**
 * A task failed on a worker; `code` is the worker-side error code (any package's, so a plain
 * string), primitive extras are kept.
 */
export class RemoteTaskError extends CodexError {
  readonly [key: string]: unknown;

  constructor(code: string, message: string, extra: Readonly<Record<string, unknown>> = {}) {
    super(code, message);
    for (const [k, v] of Object.entries(extra)) {
      if (k !== 'code' && k !== 'message' && k !== 'name' && k !== 'stack')
        (this as Record<string, unknown>)[k] = v;
    }
  }
}
