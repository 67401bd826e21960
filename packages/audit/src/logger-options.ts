import type { AuditExportSink, CheckpointOptions } from './checkpoint-writer.js';
import { InvalidAuditOptionsError } from './errors.js';
import type { LockOptions } from './lock.js';
import type { MaskOptions } from './mask.js';

/**
 * - `none`: entries are written to the OS in batches; nothing is fsynced until `close()`. A
 *   promise resolves once its batch reached the OS (survives a process crash, not a power cut).
 *   Entries still in memory are lost on SIGKILL.
 * - `batch`: group commit. A batch is written and fsynced once; every promise in it resolves
 *   after that fsync.
 * - `every`: a write starts as soon as `log()` is called (no batching window) and is fsynced
 *   before its promise resolves. Calls made while an fsync is running share the next one.
 */
export type Durability = 'none' | 'batch' | 'every';
export const DURABILITIES = ['none', 'batch', 'every'] as const satisfies readonly Durability[];

export interface AuditLoggerOptions {
  /** The JSON-lines file. Its directory is created if missing. */
  readonly path: string;
  /** `false` makes `log()` a no-op that touches nothing. Default `true`. */
  readonly enabled?: boolean;
  /** Default `batch`. */
  readonly durability?: Durability;
  /** Key for an HMAC-SHA-256 chain. Without it the chain is plain SHA-256. */
  readonly hmacKey?: string | Uint8Array;
  /** Entries per batch (one locked write, one fsync): a full batch is written at once. Default 1024. */
  readonly batchSize?: number;
  /** …or this long (ms) after its first entry (`none`, `batch`). Default 10. */
  readonly flushIntervalMs?: number;
  /** Bound of the in-memory buffer; beyond it `log()` rejects with AUDIT_BUFFER_FULL. Default 100 000. */
  readonly maxBufferedEntries?: number;
  /** Rotate the file before it would grow past this size. `0` never rotates. Default 64 MiB. */
  readonly maxFileBytes?: number;
  /** Home directory and user name to mask (default: the current user's). */
  readonly mask?: MaskOptions;
  readonly lock?: LockOptions;
  /** Clock, for tests. */
  readonly now?: () => Date;
  /** Signed checkpoints in `<path>.checkpoints` every N entries, T ms, on close and on request. */
  readonly checkpoint?: CheckpointOptions;
  /** Gets every written line and checkpoint (e.g. `createOtlpAuditExporter`). */
  readonly export?: AuditExportSink;
}

/** Checks an enabled logger's options, defaults already applied; throws INVALID_AUDIT_OPTIONS. */
export function validateLoggerOptions(
  path: unknown,
  durability: Durability,
  limits: { batchSize: number; flushIntervalMs: number; maxBuffered: number; maxFileBytes: number },
): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidAuditOptionsError('audit logger: path must be a non-empty string');
  }
  if (!(DURABILITIES as readonly string[]).includes(durability)) {
    throw new InvalidAuditOptionsError(
      `audit logger: durability must be one of ${DURABILITIES.join(', ')}, got "${String(durability)}"`,
    );
  }
  for (const [name, value, min] of [
    ['batchSize', limits.batchSize, 1],
    ['flushIntervalMs', limits.flushIntervalMs, 0],
    ['maxBufferedEntries', limits.maxBuffered, 1],
    ['maxFileBytes', limits.maxFileBytes, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new InvalidAuditOptionsError(`audit logger: ${name} must be an integer >= ${min}, got ${value}`);
    }
  }
}
