// A backend's status and a run's result for people and for JSON: what `codex sandbox status`
// prints and what `codex exec --json` / `codex sandbox run --json` report, for any host.
import { plainText, type Styler, textTable } from '@codex/security-profile';
import { type Assessment, type BackendStatus, describeAssessment, type SandboxResult } from './contract.js';

/**
 * The status in words: the backend, a table of mechanisms (available, why), a table of rungs (the
 * selected one starred), and, given the assessment of a profile, what it gets here (notes, what is
 * not enforced, which of `masked` are unreadable inside), then the host diagnosis with its fixes.
 */
export function describeBackendStatus(
  status: BackendStatus,
  effective: Assessment | null,
  masked: readonly string[] = [],
  style: Styler = plainText,
): string[] {
  const mark = (ok: boolean) => (ok ? style('ok', 'yes') : style('error', 'no'));
  const rung = (r: BackendStatus['rungs'][number]) =>
    `${r.id}${r.id === status.selected ? ' *' : ''}${r.diagnostic ? ' (diagnostic)' : ''}`;
  const forced = status.forced ? ` (forced by CODEX_SANDBOX_RUNG=${status.forced})` : '';
  const lines = [
    `Sandbox backend: ${status.backend} (${status.platform})`,
    '',
    textTable([
      ['MECHANISM', 'AVAILABLE', 'WHY'],
      ...status.mechanisms.map((m) => [m.id, mark(m.available), m.reason]),
    ]),
    '',
    textTable([
      ['RUNG', 'AVAILABLE', 'MECHANISMS', 'MISSING'],
      ...status.rungs.map((r) => [
        rung(r),
        mark(r.available),
        r.mechanisms.join('+') || '-',
        r.missing.join(', ') || '-',
      ]),
    ]),
    style('dim', `* selected rung${forced}; best available: ${status.best}`),
  ];
  if (effective) lines.push('', ...describeEffective(effective, masked, style));
  for (const d of status.diagnosis ?? [])
    lines.push(style('warning', `Host: ${d.mechanism}: ${d.message}`), `  fix: ${d.fix}`);
  return lines;
}

function describeEffective(effective: Assessment, masked: readonly string[], style: Styler): string[] {
  const lines = [describeAssessment(effective), ...effective.notes.map((n) => `  - ${n}`)];
  if (effective.unenforced.length > 0) {
    const missing = effective.unenforced.join(', ');
    lines.push(
      style('error', `  codex refuses this profile here unless --allow-degraded (missing: ${missing})`),
    );
  }
  if (masked.length > 0) {
    const on = (effective.enforced.secrets?.length ?? 0) > 0;
    lines.push(`${on ? 'Masked (unreadable inside)' : 'NOT masked on this rung'}: ${masked.join(', ')}`);
  }
  return lines;
}

/** A run's result as JSON: exit, signal, timeout, time, output (and truncation), rung, denials. */
export function sandboxResultJson(r: SandboxResult): Record<string, unknown> {
  const { exitCode, signal, timedOut, stdout, stderr, stdoutTruncated, stderrTruncated } = r;
  return {
    ...{ exitCode, signal, timedOut, durationMs: Math.round(r.durationMs), stdout, stderr },
    ...{ stdoutTruncated, stderrTruncated, sandbox: r.assessment, processLimit: r.processLimit },
    ...{ strippedEnv: r.strippedEnv, observedDenials: r.observedDenials },
  };
}
