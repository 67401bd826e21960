import type { SecurityProfile } from './profiles.js';

/** What an audited action was. */
export const AUDIT_OPERATIONS = [
  'file_read',
  'file_write',
  'network_access',
  'process_spawn',
  'command_exec',
  'mcp_tool_call',
  'plugin_run',
  'policy_change',
  'other',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/** What was decided about it. */
export const AUDIT_DECISIONS = ['allowed', 'denied', 'requires_approval'] as const;
export type AuditDecision = (typeof AUDIT_DECISIONS)[number];

/**
 * One event as a caller reports it. The audit logger adds the timestamp, sequence number and
 * hash link, and masks `target` and `reason` (home directory, user name, secrets).
 */
export interface AuditEventInput {
  readonly session_id?: string;
  readonly task_id?: string;
  readonly agent_type?: string;
  readonly profile: SecurityProfile;
  readonly operation: AuditOperation;
  readonly target: string;
  readonly decision: AuditDecision;
  readonly reason: string;
  /** Small structured extras (exit code, rule ids…); masked like `reason`. */
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

/**
 * Anything that records audit events. `@codex/audit`'s `AuditLogger` implements it; libraries
 * accept an `AuditSink` so they never depend on the logger itself.
 */
export interface AuditSink {
  log(event: AuditEventInput): Promise<unknown>;
}
