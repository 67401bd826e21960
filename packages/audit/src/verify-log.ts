// What `codex audit` does beyond parsing flags and printing, for any caller: a query filter from
// raw string lists, one signed checkpoint of a log's head, a verification of a log (with its
// signed checkpoints) and the exit codes of a verification (see docs/audit.md).
import type { KeyObject } from 'node:crypto';
import {
  type CheckpointProblem,
  type CheckpointRead,
  checkpointPath,
  readCheckpoints,
} from './checkpoint.js';
import { AuditLogMissingError, AuditTrustedKeyRequiredError, InvalidAuditFilterError } from './errors.js';
import type { ExportVerifyResult, HostVerifyResult } from './export/verify-export.js';
import { logFiles } from './files.js';
import { AuditLogger } from './logger.js';
import type { AuditFilter } from './reader.js';
import { DECISIONS, OPERATIONS, PROFILES } from './schema.js';
import type { CheckpointKey } from './signing.js';
import { parseTimeSpec } from './time.js';
import { type VerifyResult, verify } from './verify.js';

/** Exit codes of a verification beyond 0 (intact) and 2 (usage); see docs/audit.md. */
export const AUDIT_EXIT = {
  /** Tampering or corruption found (also any other failure). */
  TAMPERED: 1,
  /** Only a torn final line: a writer crashed mid-line. Not tampering. */
  TORN_TAIL: 3,
  /** A log file could not be read (missing, permissions). */
  UNREADABLE: 4,
  /** The log ends before the seq its latest signed checkpoint recorded: entries were cut off. */
  TRUNCATED: 5,
  /** An entry covered by a signed checkpoint was changed, removed or inserted. */
  EDITED_BEFORE_CHECKPOINT: 6,
  /** Checkpoints were expected (a trusted key exists) but the log has none. */
  MISSING_CHECKPOINT: 7,
  /** A checkpoint does not verify: bad signature, unknown key, malformed, or out of order. */
  FORGED_CHECKPOINT: 8,
} as const;

/** Raw filter values as a command line gives them: lists may hold comma-separated values. */
export interface AuditFilterInput {
  readonly decision?: readonly string[] | undefined;
  readonly operation?: readonly string[] | undefined;
  readonly profile?: readonly string[] | undefined;
  readonly session?: readonly string[] | undefined;
  readonly task?: readonly string[] | undefined;
  /** A duration back from `now` (90s, 15m, 1h, 2d, 1w) or an ISO 8601 date. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

function oneOf<T extends string>(
  field: string,
  values: readonly string[] | undefined,
  allowed: readonly T[],
) {
  if (values === undefined) return undefined;
  const list = values.flatMap((v) => v.split(',')).filter((v) => v !== '');
  for (const v of list) {
    if (!(allowed as readonly string[]).includes(v)) throw new InvalidAuditFilterError(field, v, allowed);
  }
  return list as T[];
}

/**
 * An {@link AuditFilter} from raw values; throws `AUDIT_INVALID_FILTER` for an unknown decision,
 * operation or profile and `AUDIT_INVALID_TIME` for a time it cannot read.
 */
export function parseAuditFilter(input: AuditFilterInput, now: number = Date.now()): AuditFilter {
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
  const decision = oneOf('decision', input.decision, DECISIONS);
  const operation = oneOf('operation', input.operation, OPERATIONS);
  const profile = oneOf('profile', input.profile, PROFILES);
  if (decision) filter.decision = decision;
  if (operation) filter.operation = operation;
  if (profile) filter.profile = profile;
  if (input.session) filter.session = input.session;
  if (input.task) filter.task = input.task;
  if (typeof input.since === 'string') filter.since = parseTimeSpec(input.since, now);
  if (typeof input.until === 'string') filter.until = parseTimeSpec(input.until, now);
  return filter;
}

export interface CheckpointLogOptions {
  /** The P-256 key that signs the checkpoint. */
  readonly key: CheckpointKey;
  /** The log's HMAC key, if its chain is keyed. */
  readonly hmacKey?: string | undefined;
}

/** The checkpoint written by {@link checkpointLog}: the head it signed and the file it went to. */
export interface CheckpointWritten {
  readonly seq: number;
  readonly hash: string;
  readonly file: string;
}

/** Signs the log's current head now (reason `manual`); `AUDIT_IO` when there is no log at `path`. */
export async function checkpointLog(path: string, options: CheckpointLogOptions): Promise<CheckpointWritten> {
  if ((await logFiles(path)).length === 0) throw new AuditLogMissingError(path);
  const { key, hmacKey } = options;
  const logger = new AuditLogger({
    path,
    checkpoint: { key },
    ...(hmacKey === undefined ? {} : { hmacKey }),
  });
  let head: { seq: number; hash: string };
  try {
    head = await logger.checkpoint('manual');
  } finally {
    await logger.close();
  }
  return { ...head, file: checkpointPath(path) };
}

export interface VerifyLogOptions {
  /** The files to check, oldest first; default: `live` with its rotated files. */
  readonly files?: readonly string[] | undefined;
  /** The live log: where the default files and checkpoint file are found. */
  readonly live: string;
  readonly hmacKey?: string | undefined;
  /** The first file may start mid-chain (rotated files removed). */
  readonly partial?: boolean | undefined;
  /** Trusted checkpoint keys: with them the entries are checked against the signed checkpoints. */
  readonly trusted?: ReadonlyMap<string, KeyObject> | undefined;
  /** The checkpoint file (default `<live>.checkpoints`); needs `trusted`. */
  readonly checkpointFile?: string | undefined;
}

export interface VerifyLogResult {
  readonly result: VerifyResult;
  /** The signed checkpoints read, when a trusted key was given. */
  readonly checkpoints?: CheckpointRead | undefined;
  /** The exit code (0 intact, else one of {@link AUDIT_EXIT}). */
  readonly exitCode: number;
}

/**
 * Verifies a log's hash chain and, with trusted keys, its signed checkpoints. No log at all is an
 * `unreadable` problem (exit code 4), not an exception.
 */
export async function verifyLog(options: VerifyLogOptions): Promise<VerifyLogResult> {
  const { live, hmacKey, trusted } = options;
  const files =
    options.files !== undefined && options.files.length > 0 ? options.files : await logFiles(live);
  if (files.length === 0) {
    const result: VerifyResult = {
      ok: false,
      intact: false,
      status: 'tampered',
      files: [live],
      entries: 0,
      problem: { kind: 'unreadable', file: live, line: 0, message: `no audit log at ${live}` },
    };
    return { result, exitCode: auditExitCode(result) };
  }
  let checkpoints: CheckpointRead | undefined;
  if (trusted !== undefined || options.checkpointFile !== undefined) {
    if (trusted === undefined) throw new AuditTrustedKeyRequiredError();
    checkpoints = await readCheckpoints(options.checkpointFile ?? checkpointPath(live), trusted);
  }
  const result = await verify(files, {
    ...(hmacKey === undefined ? {} : { hmacKey }),
    ...(options.partial ? { partial: true } : {}),
    ...(checkpoints === undefined ? {} : { checkpoints: checkpoints.checkpoints }),
  });
  return { result, checkpoints, exitCode: auditExitCode(result, checkpoints) };
}

/** The exit code of a verification (see {@link AUDIT_EXIT} and docs/audit.md for the order). */
export function auditExitCode(
  r: VerifyResult,
  cps?: { readonly checkpoints: readonly unknown[]; readonly problem?: CheckpointProblem | undefined },
): number {
  if (cps?.problem)
    return cps.problem.kind === 'unreadable' ? AUDIT_EXIT.UNREADABLE : AUDIT_EXIT.FORGED_CHECKPOINT;
  if (r.problem?.kind === 'unreadable') return AUDIT_EXIT.UNREADABLE;
  if (r.problem?.beforeCheckpoint) {
    return r.problem.kind === 'truncated' && r.problem.message.includes('signed checkpoint')
      ? AUDIT_EXIT.TRUNCATED
      : AUDIT_EXIT.EDITED_BEFORE_CHECKPOINT;
  }
  if (r.problem) return AUDIT_EXIT.TAMPERED;
  if (cps !== undefined && cps.checkpoints.length === 0 && r.entries > 0)
    return AUDIT_EXIT.MISSING_CHECKPOINT;
  if (r.status === 'torn-tail') return AUDIT_EXIT.TORN_TAIL;
  return 0;
}

/** A merged export's hosts with each one's exit code, and the most serious of them. */
export interface ExportExitCodes {
  readonly hosts: readonly (HostVerifyResult & { readonly exitCode: number })[];
  readonly exitCode: number;
}

const SEVERITY: readonly number[] = [
  AUDIT_EXIT.FORGED_CHECKPOINT,
  AUDIT_EXIT.UNREADABLE,
  AUDIT_EXIT.EDITED_BEFORE_CHECKPOINT,
  AUDIT_EXIT.TRUNCATED,
  AUDIT_EXIT.TAMPERED,
  AUDIT_EXIT.MISSING_CHECKPOINT,
  AUDIT_EXIT.TORN_TAIL,
];

/** The exit code of each host of a {@link verifyExport} result and of the export as a whole. */
export function exportExitCodes(r: ExportVerifyResult): ExportExitCodes {
  const hosts = r.hosts.map((h) => {
    const cps = { checkpoints: new Array<null>(h.checkpoints).fill(null), problem: h.checkpointProblem };
    return { ...h, exitCode: auditExitCode(h.result, cps) };
  });
  let exitCode: number = r.problem ? AUDIT_EXIT.TAMPERED : 0;
  for (const c of SEVERITY) if (hosts.some((h) => h.exitCode === c) && exitCode === 0) exitCode = c;
  return { hosts, exitCode };
}
