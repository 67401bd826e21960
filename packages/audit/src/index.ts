export {
  CHECKPOINT_REASONS,
  type Checkpoint,
  type CheckpointProblem,
  type CheckpointProblemKind,
  type CheckpointRead,
  checkCheckpointLine,
  checkpointPath,
  readCheckpoints,
} from './checkpoint.js';
export type { AuditExportSink, CheckpointOptions } from './checkpoint-writer.js';
export { type AuditConfig, createAuditLoggerFromConfig, resolveAuditPath } from './config.js';
export {
  AUDIT_EXIT_LABELS,
  describeAuditEntry,
  describeAuditStats,
  describeExportVerify,
  describeVerify,
  type ExportVerifyJson,
  verifyExportJson,
  verifyLogJson,
} from './describe.js';
export {
  AuditBufferFullError,
  AuditClosedError,
  AuditCorruptTailError,
  AuditError,
  type AuditErrorCode,
  AuditExportFilesError,
  AuditExportKeysRequiredError,
  AuditIoError,
  AuditLockTimeoutError,
  AuditLogMissingError,
  AuditMissingKeyError,
  AuditTrustedKeyRequiredError,
  InvalidAuditEventError,
  InvalidAuditFilterError,
  InvalidAuditOptionsError,
  InvalidTimeSpecError,
} from './errors.js';
// The OTLP exporter is its own entry point, `@codex/audit/otlp`: the OpenTelemetry SDK takes
// about a second to import, which no other user of this package should pay.
export { OTLP_ATTRIBUTES } from './export/attributes.js';
export { type ExportVerifyResult, type HostVerifyResult, verifyExport } from './export/verify-export.js';
export { logFiles } from './files.js';
export { type FollowOptions, followEntries } from './follow.js';
export {
  type HostKeyOptions,
  hmacKeyFromEnv,
  hostCheckpointKey,
  readKeyFile,
  trustedCheckpointKeys,
} from './host-keys.js';
export type { LockOptions } from './lock.js';
export { AuditLogger } from './logger.js';
export { type AuditLoggerOptions, DURABILITIES, type Durability } from './logger-options.js';
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
export {
  type AuditSetup,
  auditHmacKey,
  auditKeyDir,
  auditLogPath,
  type CheckpointAuditOptions,
  type CheckpointAuditResult,
  checkpointAudit,
  type VerifyAuditOptions,
  type VerifyAuditOutcome,
  verifyAudit,
} from './setup.js';
export {
  CHECKPOINT_KEY_FILE,
  CHECKPOINT_PUBLIC_KEY_FILE,
  type CheckpointKey,
  checkpointKey,
  generateCheckpointKey,
  loadOrCreateCheckpointKey,
  publicKeyPem,
  trustedKeys,
} from './signing.js';
export { type AuditStats, auditStats } from './stats.js';
export { type AuditTail, type TailOptions, tailEntries } from './tail-entries.js';
export { parseTimeSpec } from './time.js';
export {
  type ChainHead,
  type TornTail,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyResult,
  verify,
} from './verify.js';
export {
  AUDIT_EXIT,
  type AuditFilterInput,
  auditExitCode,
  type CheckpointLogOptions,
  type CheckpointWritten,
  checkpointLog,
  type ExportExitCodes,
  exportExitCodes,
  parseAuditFilter,
  type VerifyLogOptions,
  type VerifyLogResult,
  verifyLog,
} from './verify-log.js';
