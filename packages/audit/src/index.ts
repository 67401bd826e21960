export {
  AuditBufferFullError,
  AuditClosedError,
  AuditCorruptTailError,
  AuditError,
  type AuditErrorCode,
  AuditIoError,
  AuditLockTimeoutError,
  AuditMissingKeyError,
  InvalidAuditEventError,
  InvalidAuditOptionsError,
  InvalidTimeSpecError,
} from './errors.js';
export { logFiles } from './files.js';
export { type FollowOptions, followEntries } from './follow.js';
export type { LockOptions } from './lock.js';
export {
  type AuditConfig,
  AuditLogger,
  type AuditLoggerOptions,
  createAuditLoggerFromConfig,
  DURABILITIES,
  type Durability,
  resolveAuditPath,
} from './logger.js';
export {
  createMasker,
  HOME_PLACEHOLDER,
  type Masker,
  type MaskOptions,
  maskText,
  REDACTED,
  redactSecrets,
  USER_PLACEHOLDER,
} from './mask.js';
export {
  AuditDestination,
  type AuditDestinationOptions,
  auditDestination,
  pinoObjectToEvent,
} from './pino.js';
export {
  type AuditFilter,
  AuditReader,
  type AuditRecord,
  type CorruptLine,
  type ReadOptions,
  readEntries,
} from './reader.js';
export {
  AUDIT_SCHEMA_VERSION,
  type AuditEntry,
  auditEntrySchema,
  CHAIN_ALGORITHMS,
  type ChainAlgorithm,
  DECISIONS,
  GENESIS_HASH,
  OPERATIONS,
  PROFILES,
} from './schema.js';
export { type AuditStats, auditStats } from './stats.js';
export { parseTimeSpec } from './time.js';
export {
  type TornTail,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyResult,
  verify,
} from './verify.js';
