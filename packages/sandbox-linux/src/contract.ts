// The OS-neutral sandbox contract lives in @codex/sandbox-contract, shared with the macOS and
// Windows backends; this module re-exports it so existing imports keep working.
export {
  type Assessment,
  assessRung,
  type BackendStatus,
  describeAssessment,
  type EnvHygieneOptions,
  GUARANTEES,
  type Guarantee,
  HARD_GUARANTEES,
  type MechanismStatus,
  type ObservedDenial,
  type OutputStream,
  type RungStatus,
  requiredGuarantees,
  type SandboxBackend,
  type SandboxRequest,
  type SandboxResult,
} from '@codex/sandbox-contract';
