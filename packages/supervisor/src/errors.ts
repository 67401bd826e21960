import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type SupervisorErrorCode =
  | 'DEPENDENCY_FAILED'
  | 'INVALID_PLAN'
  | 'INVALID_SUPERVISOR_CONFIG'
  | 'INVALID_TRANSITION'
  | 'MAILBOX_CLOSED'
  | 'MAILBOX_FULL'
  | 'MERGE_FAILED'
  | 'MESSAGE_DROPPED'
  | 'PLAN_CYCLE'
  | 'SUPERVISOR_CLOSED'
  | 'TASK_CANCELLED'
  | 'TASK_DENIED'
  | 'TASK_FAILED'
  | 'TASK_TIMEOUT'
  | 'UNKNOWN_AGENT';

/** One problem found in a plan: the dotted key path and what is wrong there. */
export interface PlanIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A plan failed validation (schema, duplicate ids, unknown dependencies, cycles, unknown agent
 * types). The message names the source, the key and the problem on one line.
 */
export class PlanError extends CodexError<SupervisorErrorCode> {
  readonly source: string;
  readonly issues: readonly PlanIssue[];

  constructor(source: string, issues: readonly PlanIssue[], code: SupervisorErrorCode = 'INVALID_PLAN') {
    const first = issues[0];
    const where = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid plan';
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super(code, `${source}: ${where}${more}`);
    this.source = source;
    this.issues = issues;
  }
}

/** The plan's dependencies form a cycle; `cycle` lists the task ids along it, first id repeated last. */
export class PlanCycleError extends PlanError {
  readonly cycle: readonly string[];

  constructor(source: string, cycle: readonly string[]) {
    super(
      source,
      [{ path: 'tasks', message: `dependency cycle ${cycle.join(' -> ')} ("a -> b": a depends on b)` }],
      'PLAN_CYCLE',
    );
    this.cycle = cycle;
  }
}

/** A `drop-new` mailbox was full, so the new message was rejected. */
export class MailboxFullError extends CodexError<SupervisorErrorCode> {
  readonly mailbox: string;
  readonly capacity: number;

  constructor(mailbox: string, capacity: number) {
    super('MAILBOX_FULL', `mailbox "${mailbox}" is full (capacity ${capacity}); message rejected (drop-new)`);
    this.mailbox = mailbox;
    this.capacity = capacity;
  }
}

/** A queued message was evicted by a newer one from a `drop-oldest` mailbox. */
export class MessageDroppedError extends CodexError<SupervisorErrorCode> {
  readonly mailbox: string;

  constructor(mailbox: string) {
    super(
      'MESSAGE_DROPPED',
      `message dropped from mailbox "${mailbox}" to make room for a newer one (drop-oldest)`,
    );
    this.mailbox = mailbox;
  }
}

/** The mailbox was closed: no more sends, and receives end once it is drained. */
export class MailboxClosedError extends CodexError<SupervisorErrorCode> {
  readonly mailbox: string;

  constructor(mailbox: string) {
    super('MAILBOX_CLOSED', `mailbox "${mailbox}" is closed`);
    this.mailbox = mailbox;
  }
}

/** An agent was asked to move between two states the state machine does not connect. */
export class InvalidTransitionError extends CodexError<SupervisorErrorCode> {
  readonly from: string;
  readonly to: string;

  constructor(agent: string, from: string, to: string) {
    super('INVALID_TRANSITION', `agent "${agent}" cannot go from ${from} to ${to}`);
    this.from = from;
    this.to = to;
  }
}

/** A task ran past its own timeout and was aborted. */
export class TaskTimeoutError extends CodexError<SupervisorErrorCode> {
  readonly taskId: string;
  readonly timeoutMs: number;

  constructor(taskId: string, timeoutMs: number) {
    super('TASK_TIMEOUT', `task "${taskId}" timed out after ${timeoutMs} ms`);
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
  }
}

/** The task or the whole run was cancelled. */
export class CancelledError extends CodexError<SupervisorErrorCode> {
  constructor(message = 'cancelled', options?: { cause?: unknown }) {
    super('TASK_CANCELLED', message, options);
  }
}

/** A task did not run because one of its dependencies failed (skip-dependents policy). */
export class DependencyFailedError extends CodexError<SupervisorErrorCode> {
  readonly taskId: string;
  readonly dependency: string;

  constructor(taskId: string, dependency: string) {
    super('DEPENDENCY_FAILED', `task "${taskId}" skipped: dependency "${dependency}" did not succeed`);
    this.taskId = taskId;
    this.dependency = dependency;
  }
}

/** A handler reported that a security policy denied what it was asked to do. */
export class TaskDeniedError extends CodexError<SupervisorErrorCode> {
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super('TASK_DENIED', `denied: ${reason}`, options);
    this.reason = reason;
  }
}

/** A task's handler threw something that is not a CodexError; the original is the `cause`. */
export class TaskFailedError extends CodexError<SupervisorErrorCode> {
  readonly taskId: string;

  constructor(taskId: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super('TASK_FAILED', `task "${taskId}" failed: ${message}`, { cause });
    this.taskId = taskId;
  }
}

/** A merge strategy could not produce a result (no successful inputs, no scores…). */
export class MergeError extends CodexError<SupervisorErrorCode> {
  constructor(message: string) {
    super('MERGE_FAILED', message);
  }
}

/** Bad options passed to a constructor (capacity < 1, maxConcurrent < 1…). */
export class SupervisorConfigError extends CodexError<SupervisorErrorCode> {
  constructor(message: string) {
    super('INVALID_SUPERVISOR_CONFIG', message);
  }
}

/** The supervisor was shut down; it accepts no more runs. */
export class SupervisorClosedError extends CodexError<SupervisorErrorCode> {
  constructor() {
    super('SUPERVISOR_CLOSED', 'the supervisor has been shut down');
  }
}

/** Normalises anything thrown into a CodexError, keeping CodexErrors as they are. */
export function toCodexError(taskId: string, error: unknown): CodexError {
  return error instanceof CodexError ? error : new TaskFailedError(taskId, error);
}
