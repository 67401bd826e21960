import type { CodexError, SecurityProfile } from '@codex/security-profile';
import type { RunReport } from '@codex/supervisor';

function errorJson(error: CodexError | undefined) {
  if (!error) return undefined;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(error)) {
    if (k !== 'name' && k !== 'code' && k !== 'message' && (typeof v !== 'object' || v === null))
      extra[k] = v;
  }
  return { code: error.code, message: error.message, ...extra };
}

/** The machine-readable form of a supervisor run (`codex supervise --json`). */
export function reportJson(report: RunReport, profile: SecurityProfile) {
  return {
    runId: report.runId,
    name: report.name ?? null,
    status: report.status,
    profile,
    engine: report.engine,
    strategy: report.strategy,
    failure: report.failure,
    maxConcurrent: report.maxConcurrent,
    peakConcurrency: report.peakConcurrency,
    durationMs: Math.round(report.durationMs * 10) / 10,
    startOrder: report.startOrder,
    tasks: report.tasks.map((t) => ({
      id: t.taskId,
      agent: t.agent,
      agentType: t.agentType,
      status: t.status,
      durationMs: Math.round(t.durationMs * 10) / 10,
      startedAt: t.startedAt === undefined ? null : new Date(t.startedAt).toISOString(),
      finishedAt: new Date(t.finishedAt).toISOString(),
      progress: t.progress,
      ...(t.score === undefined ? {} : { score: t.score }),
      decisions: t.decisions,
      output: t.output ?? null,
      error: errorJson(t.error) ?? null,
      worker: t.worker ?? null,
      attempts: t.attempts,
    })),
    merged: report.merged ?? null,
    mergeError: errorJson(report.mergeError) ?? null,
    cancelReason: report.cancelReason ?? null,
    cleanupErrors: report.cleanupErrors,
    mailboxes: report.mailboxes,
  };
}
