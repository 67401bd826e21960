import { CodexError } from '@codex/security-profile';

/**
 * Errors thrown or rejected by `@codex/audit`: a `CodexError` like every `@codex/*` error, with a
 * stable {@link AuditErrorCode} that callers branch on; messages may change.
 */
export class AuditError extends CodexError {
  declare readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export type AuditErrorCode =
  | 'AUDIT_INVALID_EVENT'
  | 'AUDIT_INVALID_OPTIONS'
  | 'AUDIT_CLOSED'
  | 'AUDIT_BUFFER_FULL'
  | 'AUDIT_LOCK_TIMEOUT'
  | 'AUDIT_CORRUPT_TAIL'
  | 'AUDIT_IO'
  | 'AUDIT_INVALID_TIME'
  | 'AUDIT_MISSING_KEY'
  | 'AUDIT_INVALID_FILTER';

/** `log()` was given an event that does not match `AuditEventInput` (bad operation, decision…). */
export class InvalidAuditEventError extends AuditError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super('AUDIT_INVALID_EVENT', `invalid audit event: ${field}: ${problem}`);
    this.field = field;
  }
}

/** Logger options that make no sense (negative sizes, empty path…). */
export class InvalidAuditOptionsError extends AuditError {
  constructor(message: string) {
    super('AUDIT_INVALID_OPTIONS', message);
  }
}

/** `log()` after `close()`. */
export class AuditClosedError extends AuditError {
  constructor(path: string) {
    super('AUDIT_CLOSED', `audit logger for ${path} is closed`);
  }
}

/** The bounded in-memory buffer is full: the disk cannot keep up. Fail-safe callers deny. */
export class AuditBufferFullError extends AuditError {
  readonly limit: number;
  constructor(path: string, limit: number) {
    super('AUDIT_BUFFER_FULL', `audit buffer for ${path} is full (${limit} entries waiting to be written)`);
    this.limit = limit;
  }
}

/** The cross-process lock could not be taken in time. */
export class AuditLockTimeoutError extends AuditError {
  readonly lockPath: string;
  constructor(lockPath: string, waitedMs: number, holder: string) {
    super(
      'AUDIT_LOCK_TIMEOUT',
      `could not lock ${lockPath} within ${waitedMs} ms (held by ${holder || 'unknown'})`,
    );
    this.lockPath = lockPath;
  }
}

/** The last complete line of the log is not an audit entry, so the chain cannot be continued. */
export class AuditCorruptTailError extends AuditError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(
      'AUDIT_CORRUPT_TAIL',
      `${file}: cannot continue the hash chain: the last line ${problem}; run "codex audit verify" and move the file aside`,
    );
    this.file = file;
  }
}

/** Reading or writing the log failed. `cause` holds the system error. */
export class AuditIoError extends AuditError {
  readonly file: string;
  constructor(file: string, action: string, cause: unknown) {
    const sys = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
    super('AUDIT_IO', `${file}: cannot ${action} (${sys})`, { cause });
    this.file = file;
  }
}

/** A time such as `--since 1h` or an ISO date that cannot be parsed. */
export class InvalidTimeSpecError extends AuditError {
  constructor(input: string) {
    super(
      'AUDIT_INVALID_TIME',
      `invalid time "${input}": use an ISO 8601 date or a duration such as 90s, 15m, 1h, 2d, 1w`,
    );
  }
}

/** The config names an HMAC key variable that is not set. Fail-safe: no silent downgrade. */
export class AuditMissingKeyError extends AuditError {
  /** `source` is what named the variable: the config key by default, or a flag such as `--key-env`. */
  constructor(envName: string, source = 'audit.hmac_key_env') {
    super('AUDIT_MISSING_KEY', `${source} names ${envName}, but ${envName} is not set or empty`);
  }
}

/** A query filter value outside its allowed set (an unknown decision, operation or profile). */
export class InvalidAuditFilterError extends AuditError {
  readonly field: string;
  readonly value: string;
  readonly allowed: readonly string[];
  constructor(field: string, value: string, allowed: readonly string[]) {
    super('AUDIT_INVALID_FILTER', `invalid ${field} "${value}"; valid values: ${allowed.join(', ')}`);
    this.field = field;
    this.value = value;
    this.allowed = allowed;
  }
}

/** A checkpoint file was named for verification, but no trusted key to check its signatures. */
export class AuditTrustedKeyRequiredError extends InvalidAuditOptionsError {
  constructor() {
    super('a checkpoint file needs a trusted checkpoint key to verify against');
  }
}

/** A merged export is verified on its own: log files were given with it. */
export class AuditExportFilesError extends InvalidAuditOptionsError {
  constructor() {
    super('a merged export is verified on its own, without log files');
  }
}

/** A merged export was to be verified without a trusted key of its hosts to check it against. */
export class AuditExportKeysRequiredError extends InvalidAuditOptionsError {
  constructor() {
    super("a merged export needs the hosts' trusted checkpoint keys");
  }
}

/** There is no audit log (neither the live file nor a rotated one) at the path. */
export class AuditLogMissingError extends AuditError {
  readonly path: string;
  constructor(path: string) {
    super('AUDIT_IO', `no audit log at ${path}`);
    this.path = path;
  }
}
