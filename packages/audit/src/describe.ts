// Verification results, entries and statistics in words, for people: what `codex audit` prints,
// for any host that shows an audit log (a terminal, an editor panel, a report). Markup goes
// through a `Styler`, so the caller decides what `error` or `dim` looks like.
import { plainText, type Styler } from '@codex/security-profile';
import type { CheckpointRead } from './checkpoint.js';
import type { ExportVerifyResult } from './export/verify-export.js';
import type { AuditEntry } from './schema.js';
import type { AuditStats } from './stats.js';
import type { VerifyResult } from './verify.js';
import { AUDIT_EXIT, type ExportExitCodes, exportExitCodes } from './verify-log.js';

/** The word for each failing exit code of a verification (see {@link AUDIT_EXIT}). */
export const AUDIT_EXIT_LABELS: Readonly<Record<number, string>> = {
  [AUDIT_EXIT.TAMPERED]: 'TAMPERED',
  [AUDIT_EXIT.TORN_TAIL]: 'TORN TAIL',
  [AUDIT_EXIT.UNREADABLE]: 'UNREADABLE',
  [AUDIT_EXIT.TRUNCATED]: 'TRUNCATED',
  [AUDIT_EXIT.EDITED_BEFORE_CHECKPOINT]: 'EDITED BEFORE CHECKPOINT',
  [AUDIT_EXIT.MISSING_CHECKPOINT]: 'MISSING CHECKPOINT',
  [AUDIT_EXIT.FORGED_CHECKPOINT]: 'FORGED CHECKPOINT',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One entry on one line: time, seq, decision (styled), operation, profile, who, target, reason. */
export function describeAuditEntry(e: AuditEntry, style: Styler = plainText): string {
  const tone = e.decision === 'denied' ? 'error' : e.decision === 'allowed' ? 'ok' : 'warning';
  const who = [e.session_id, e.task_id, e.agent_type].filter((x) => x !== null).join('/') || '-';
  const reason = e.reason ? style('dim', `  (${e.reason})`) : '';
  return `${e.timestamp}  #${e.seq}  ${style(tone, e.decision.padEnd(17))}  ${e.operation.padEnd(14)}  ${e.profile.padEnd(
    15,
  )}  ${who}  ${e.target}${reason}`;
}

/** The result of {@link verifyLog} as one JSON document (what `codex audit verify --json` prints). */
export function verifyLogJson(r: VerifyResult, exitCode: number, cps?: CheckpointRead): object {
  const checkpointFile =
    cps === undefined
      ? undefined
      : {
          count: cps.checkpoints.length,
          missingFile: cps.missing,
          ...(cps.problem ? { problem: cps.problem } : {}),
        };
  return { ...r, ...(checkpointFile ? { checkpointFile } : {}), exitCode };
}

/** The `--json` document of a merged export's verification (see {@link verifyExportJson}). */
export interface ExportVerifyJson extends ExportExitCodes {
  readonly file: string;
  readonly problem?: ExportVerifyResult['problem'];
}

/**
 * A merged export's verification as `codex audit verify --export --json` prints it: the file, its
 * problem if any, each host with its exit code, and the export's exit code (the most serious).
 */
export function verifyExportJson(r: ExportVerifyResult): ExportVerifyJson {
  const { hosts, exitCode } = exportExitCodes(r);
  const problem = r.problem ? { problem: r.problem } : {};
  return { file: r.file, ...problem, hosts, exitCode };
}

/**
 * A verification in words: the verdict (OK, TAMPERED, TORN TAIL…) with the place of the problem,
 * then what was verified; one or two lines.
 */
export function describeVerify(
  r: VerifyResult,
  exitCode: number,
  cps?: CheckpointRead,
  style: Styler = plainText,
): string[] {
  const label = style('error', AUDIT_EXIT_LABELS[exitCode] ?? 'FAILED');
  const span = r.entries > 0 ? ` (seq ${r.firstSeq}..${r.lastSeq}, ${r.chain} chain)` : '';
  const where = plural(r.files.length, 'file');
  const last = cps?.checkpoints.at(-1);
  const cpNote =
    cps === undefined
      ? style('dim', '; no trusted checkpoint key: lines cut from the end cannot be detected')
      : `; ${plural(cps.checkpoints.length, 'signed checkpoint')}${last ? ` up to seq ${last.seq}` : ''}`;
  const problem = cps?.problem ?? r.problem;
  if (problem) {
    const head = `${label}: ${problem.file}:${problem.line}: ${problem.kind}: ${problem.message}`;
    if (cps?.problem) return [head];
    return [head, `${r.entries} entries verified before the problem, in ${where}${cpNote}`];
  }
  if (exitCode === AUDIT_EXIT.MISSING_CHECKPOINT) {
    const why = cps?.missing ? 'no checkpoint file' : 'the checkpoint file is empty';
    return [`${label}: ${why}; ${r.entries} entries${span} are covered by no signed checkpoint`];
  }
  if (r.tornTail) {
    const t = r.tornTail;
    return [
      `${style('warning', 'TORN TAIL')}: ${t.file}:${t.line}: last line incomplete (${t.bytes} bytes): a writer stopped mid-line; not tampering`,
      `${r.entries} entries intact${span} in ${where}${cpNote}`,
    ];
  }
  return [`${style('ok', 'OK')}: ${r.entries} entries intact${span} in ${where}${cpNote}`];
}

/**
 * A merged export's verification in words, one line per host, and the exit code of the whole
 * (the most serious host's; see {@link exportExitCodes}).
 */
export function describeExportVerify(
  r: ExportVerifyResult,
  style: Styler = plainText,
): { lines: string[]; exitCode: number } {
  const { hosts, exitCode } = exportExitCodes(r);
  const lines: string[] = [];
  if (r.problem)
    lines.push(`${style('error', 'TAMPERED')}: ${r.file}:${r.problem.line}: ${r.problem.message}`);
  for (const h of hosts) {
    const res = h.result;
    const at = `host ${h.host} (${h.log})`;
    const label = style('error', AUDIT_EXIT_LABELS[h.exitCode] ?? 'FAILED');
    const span = res.entries > 0 ? ` seq ${res.firstSeq}..${res.lastSeq}` : '';
    const retries = h.duplicates ? `, ${h.duplicates} duplicate records (retries)` : '';
    const tail = `${res.entries} entries${span}, ${plural(h.checkpoints, 'checkpoint')}${retries}`;
    const p = h.checkpointProblem ?? res.problem;
    if (p) {
      const seq = h.checkpointProblem || res.problem?.seq === undefined ? '' : `, seq ${res.problem.seq}`;
      lines.push(`${label}: ${at}: export line ${p.line}${seq}: ${p.kind}: ${p.message}`);
    } else if (h.exitCode === AUDIT_EXIT.MISSING_CHECKPOINT) {
      lines.push(`${label}: ${at}: no signed checkpoint; ${tail}`);
    } else {
      lines.push(`${style('ok', 'OK')}: ${at}: ${tail}`);
    }
  }
  if (hosts.length === 0 && !r.problem) lines.push(style('dim', `no audit records in ${r.file}`));
  return { lines, exitCode };
}

/** Statistics as `[name, value]` rows: totals, then the counts by decision, operation and profile. */
export function describeAuditStats(s: AuditStats): [string, string][] {
  const rows: [string, string][] = [
    ['files', String(s.files.length)],
    ['entries', String(s.entries)],
    ['corrupt lines', String(s.corrupt.length)],
    ['first', s.first ?? '-'],
    ['last', s.last ?? '-'],
    ['sessions', String(s.sessions)],
    ['tasks', String(s.tasks)],
  ];
  const groups = [
    ['decision', s.byDecision],
    ['operation', s.byOperation],
    ['profile', s.byProfile],
  ] as const;
  for (const [title, counts] of groups) {
    for (const [k, v] of Object.entries(counts).sort((a, b) => b[1] - a[1]))
      rows.push([`${title} ${k}`, String(v)]);
  }
  return rows;
}
