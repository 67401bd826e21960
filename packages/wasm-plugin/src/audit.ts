import type { AuditEventInput, AuditSink, SecurityProfile } from '@codex/security-profile';

/** Where and as whom plugin events are recorded. */
export interface AuditContext {
  /** Where each run and every violation is recorded (`@codex/audit`'s AuditLogger fits). */
  readonly audit?: AuditSink;
  /** Profile recorded in audit entries (default `offline`). */
  readonly profile?: SecurityProfile;
  readonly sessionId?: string;
  readonly taskId?: string;
}

/** Writes one `plugin_run` entry (no-op without a sink). */
export async function auditPluginEvent(
  context: AuditContext,
  target: string,
  decision: AuditEventInput['decision'],
  reason: string,
  details: Record<string, string | number | boolean | null>,
): Promise<void> {
  if (!context.audit) return;
  await context.audit.log({
    profile: context.profile ?? 'offline',
    operation: 'plugin_run',
    target,
    decision,
    reason,
    details,
    ...(context.sessionId !== undefined ? { session_id: context.sessionId } : {}),
    ...(context.taskId !== undefined ? { task_id: context.taskId } : {}),
    agent_type: 'wasm-plugin',
  });
}
