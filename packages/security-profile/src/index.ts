export {
  AUDIT_DECISIONS,
  AUDIT_OPERATIONS,
  type AuditDecision,
  type AuditEventInput,
  type AuditOperation,
  type AuditSink,
} from './audit-sink.js';
export {
  APPROVAL_MODES,
  type ApprovalMode,
  approvalConfigSchema,
  auditConfigSchema,
  type CodexConfig,
  type CodexConfigInput,
  codexConfigSchema,
  configSyntaxError,
  DEFAULT_APPROVAL_MODE,
  defaultConfig,
  egressConfigSchema,
  egressListsFor,
  parseApprovalMode,
  parseConfig,
  policyConfigSchema,
  profileSchema,
  sandboxConfigSchema,
  toConfigIssues,
} from './config.js';
export { deferred } from './deferred.js';
export {
  EGRESS_PRESET_NAMES,
  EGRESS_PRESETS,
  type EgressLists,
  type EgressMethods,
  type EgressPreset,
  egressPatternProblem,
  expandEgressPatterns,
  READ_ONLY_METHODS,
} from './egress.js';
export type { SecurityProfileErrorCode } from './errors.js';
export {
  CodexError,
  ConfigError,
  type ConfigIssue,
  InvalidPathError,
  PolicyConflictError,
  UnknownApprovalModeError,
  UnknownProfileError,
} from './errors.js';
export { importOptional, isModuleNotFound, OptionalDependencyMissingError } from './optional.js';
export { isAbsolutePath, isWindowsPath, isWithin, joinPath, normalizeAbsolutePath } from './paths.js';
export {
  isWritable,
  type NetworkPolicy,
  PROTECTED_SUBPATHS,
  type SandboxPolicy,
  type SandboxPolicyOptions,
  toSandboxPolicy,
  type WritableRoot,
} from './policy.js';
export {
  CAPABILITIES,
  capabilitiesOf,
  DEFAULT_PROFILE,
  isSecurityProfile,
  type NetworkAccess,
  type ProfileCapabilities,
  parseProfile,
  profileAliases,
  profileWithin,
  SECURITY_PROFILES,
  type SecurityProfile,
  type SpawnScope,
  type WriteScope,
} from './profiles.js';
export { DEFAULT_DENY_READ, DEFAULT_ENV_ALLOW, expandHome, resolveDenyRead } from './secrets.js';
export { plainText, type Styler, type TextStyle, textTable } from './style.js';
