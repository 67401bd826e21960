export { createTerminalFilter, stripTerminalControls } from '@codex/sandbox-contract';
export { createLinuxSandbox, linuxSandbox } from './backend.js';
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
} from './contract.js';
export { findObservedDenials } from './denials.js';
export { diagnoseUserns, type HostDiagnosis, type HostFacts } from './diagnose.js';
export {
  bridgeScriptPath,
  EGRESS_HTTP_PORT,
  EGRESS_SOCKS_PORT,
  type EgressBridge,
  type EgressSandboxRequest,
  requireNetns,
  startEgressBridge,
} from './egress-bridge.js';
export { DEFAULT_ENV_HYGIENE, sanitizeEnv } from './env.js';
export {
  InvalidCommandError,
  InvalidRungError,
  SandboxDegradedError,
  SandboxSetupError,
  SandboxUnavailableError,
  UnsupportedPolicyError,
} from './errors.js';
export { AGENT_NAMES, type GitLayout, gitLayout } from './git-protect.js';
export {
  expandWithExclusions,
  HOST_SOCKET_DIRS,
  type LaunchPlan,
  planLaunch,
  protectedPaths,
  WRITABLE_DEVICES,
} from './plan.js';
export {
  FORCE_RUNG_ENV,
  findHelper,
  HELPER_NS_ENV,
  helperCflags,
  LINUX_RUNGS,
  type LinuxProbe,
  locateHelper,
  probeLinux,
} from './probe.js';
export {
  cachedProbe,
  invalidateProbeCache,
  PROBE_CACHE_ENV,
  PROBE_CACHE_TTL_MS,
  probeCacheKey,
  probeCachePath,
} from './probe-cache.js';
export {
  admit,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_PROCESSES,
  DEFAULT_TIMEOUT_MS,
  HELPER_SETUP_EXIT,
  type MaskedPath,
  READY_PREFIX,
  secretsToMask,
} from './run.js';
export { BWRAP_PATHS, findTrustedBwrap, untrustedReason } from './trust.js';
