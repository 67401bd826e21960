export { type AdmitOptions, admit, selectRung } from './admit.js';
export {
  type Assessment,
  assessRung,
  type BackendStatus,
  type CapturedRun,
  describeAssessment,
  type EnvHygieneOptions,
  GUARANTEES,
  type Guarantee,
  HARD_GUARANTEES,
  type HostDiagnosisEntry,
  type MechanismStatus,
  type ObservedDenial,
  type OutputStream,
  type RungStatus,
  requiredGuarantees,
  type SandboxBackend,
  type SandboxRequest,
  type SandboxResult,
} from './contract.js';
export { findObservedDenials } from './denials.js';
export { describeBackendStatus, sandboxResultJson } from './describe.js';
export { DEFAULT_ENV_HYGIENE, requestEnv, sanitizeEnv } from './env.js';
export type { SandboxContractErrorCode } from './errors.js';
export {
  InvalidCommandError,
  InvalidRungError,
  SandboxDegradedError,
  SandboxSetupError,
  SandboxUnavailableError,
  UnsupportedPolicyError,
} from './errors.js';
export {
  type GitConfigEntry,
  type GitConfigFile,
  GitConfigSyntaxError,
  gitConfigValue,
  hooksPathFromGitConfig,
  parseGitConfig,
  readGitConfig,
} from './git.js';
export { assembleResult } from './result.js';
export { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, FORCE_RUNG_ENV, forcedRung } from './rungs.js';
export { createTerminalFilter, stripTerminalControls } from './terminal.js';
