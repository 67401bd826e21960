// What `codex audit checkpoint|verify|tail|query|stats` composes from the `[audit]` config, CODEX_HOME,
// the working directory, the environment and its flags, before any reading or signing: which log,
// which HMAC key, which key directory, which trusted keys. The command only parses flags and prints.
import { join } from 'node:path';
import { type AuditConfig, resolveAuditPath } from './config.js';
import { AuditExportFilesError, AuditExportKeysRequiredError } from './errors.js';
import { type ExportVerifyResult, verifyExport } from './export/verify-export.js';
import { hmacKeyFromEnv, hostCheckpointKey, trustedCheckpointKeys } from './host-keys.js';
import { type CheckpointWritten, checkpointLog, type VerifyLogResult, verifyLog } from './verify-log.js';

/** Where a caller finds the log and its keys: `codex` gives its config, CODEX_HOME, cwd and env. */
export interface AuditSetup {
  /** The `[audit]` table: `path` (relative to `home`) and `hmac_key_env`. */
  readonly config: Pick<AuditConfig, 'path' | 'hmac_key_env'>;
  /** CODEX_HOME: the configured log and the host's checkpoint key live under it. */
  readonly home: string;
  /** Files named by the caller (a log, a key, an export) are relative to this. */
  readonly cwd: string;
  /** Where the HMAC key variable is read. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The directory of the host's checkpoint key pair: `<home>/audit`, next to the default log. */
export function auditKeyDir(home: string): string {
  return join(home, 'audit');
}

/** The log `file` names (relative to `cwd`), else the configured one (relative to `home`). */
export function auditLogPath(setup: AuditSetup, file?: string): string {
  if (file !== undefined) return resolveAuditPath({ path: file }, setup.cwd);
  return resolveAuditPath(setup.config, setup.home);
}

/**
 * The HMAC key from the variable `keyEnv` names (a flag: errors name `--key-env`), else from the
 * one `[audit].hmac_key_env` names; `undefined` when neither names one. `AUDIT_MISSING_KEY` when
 * the named variable is unset or empty.
 */
export function auditHmacKey(setup: AuditSetup, keyEnv?: string): string | undefined {
  if (keyEnv !== undefined) return hmacKeyFromEnv(keyEnv, setup.env, '--key-env');
  return hmacKeyFromEnv(setup.config.hmac_key_env, setup.env);
}

export interface CheckpointAuditOptions {
  /** The log (relative to `cwd`); default: the configured one. */
  readonly file?: string | undefined;
  /** A P-256 private key PEM that signs (relative to `cwd`); default: the host key. */
  readonly key?: string | undefined;
  /** The variable that holds the HMAC key; default: `[audit].hmac_key_env`. */
  readonly keyEnv?: string | undefined;
  /** Called once the host key was created (first use), before the log is read. */
  readonly onKeyCreated?: ((keyDir: string) => void) | undefined;
}

/** The checkpoint {@link checkpointAudit} wrote, with the hint of the key that signed it. */
export interface CheckpointAuditResult extends CheckpointWritten {
  readonly keyHint: string;
}

/**
 * Signs the head of the log now, as `codex audit checkpoint` does: the HMAC key first (so a missing
 * one is `AUDIT_MISSING_KEY` before any key is created), then the signing key, then the log
 * (`AUDIT_IO` when there is none).
 */
export async function checkpointAudit(
  setup: AuditSetup,
  options: CheckpointAuditOptions = {},
): Promise<CheckpointAuditResult> {
  const path = auditLogPath(setup, options.file);
  const hmacKey = auditHmacKey(setup, options.keyEnv);
  const keyDir = auditKeyDir(setup.home);
  const { key, created } = hostCheckpointKey(options.key, { keyDir, cwd: setup.cwd });
  if (created) options.onKeyCreated?.(keyDir);
  const written = await checkpointLog(path, { key, hmacKey });
  return { ...written, keyHint: key.hint };
}

export interface VerifyAuditOptions {
  /** Log files, oldest first (relative to `cwd`); default: the configured log with its rotated files. */
  readonly files?: readonly string[] | undefined;
  /** A merged OTLP export to verify host by host instead of a log (needs trusted keys, no `files`). */
  readonly export?: string | undefined;
  /** The variable that holds the HMAC key; default: `[audit].hmac_key_env`. */
  readonly keyEnv?: string | undefined;
  /** Trusted public key PEMs (relative to `cwd`); default: the host's own public key, if any. */
  readonly pubkeys?: readonly string[] | undefined;
  /** The first file may start mid-chain (rotated files removed). Logs only. */
  readonly partial?: boolean | undefined;
  /** The checkpoint file (relative to `cwd`; default `<log>.checkpoints`). Logs only. */
  readonly checkpoints?: string | undefined;
}

/** What {@link verifyAudit} checked: a log (with its exit code) or a merged export. */
export type VerifyAuditOutcome =
  | ({ readonly kind: 'log' } & VerifyLogResult)
  | { readonly kind: 'export'; readonly result: ExportVerifyResult };

/**
 * Verifies what `codex audit verify` is asked to: the keys first (`AUDIT_MISSING_KEY`,
 * `AUDIT_INVALID_OPTIONS` for an unreadable PEM), then a merged export
 * ({@link AuditExportFilesError} with log files, {@link AuditExportKeysRequiredError} without a
 * trusted key) or the log, whose live file is the last one given, else the configured log.
 */
export async function verifyAudit(
  setup: AuditSetup,
  options: VerifyAuditOptions = {},
): Promise<VerifyAuditOutcome> {
  const given = options.files ?? [];
  const hmacKey = auditHmacKey(setup, options.keyEnv);
  const trusted = trustedCheckpointKeys(options.pubkeys ?? [], {
    keyDir: auditKeyDir(setup.home),
    cwd: setup.cwd,
  });
  if (options.export !== undefined) {
    if (given.length > 0) throw new AuditExportFilesError();
    if (trusted === undefined) throw new AuditExportKeysRequiredError();
    const result = await verifyExport(resolveAuditPath({ path: options.export }, setup.cwd), {
      trusted,
      ...(hmacKey === undefined ? {} : { hmacKey }),
    });
    return { kind: 'export', result };
  }
  const files = given.map((f) => auditLogPath(setup, f));
  const v = await verifyLog({
    live: files.at(-1) ?? auditLogPath(setup),
    files,
    hmacKey,
    partial: options.partial === true,
    trusted,
    ...(options.checkpoints === undefined
      ? {}
      : { checkpointFile: auditLogPath(setup, options.checkpoints) }),
  });
  return { kind: 'log', ...v };
}
