// The Linux backend. The OS-neutral contract (request and result types, errors, env hygiene,
// rung selection, admission) is @codex/sandbox-contract's: import it from there.
export { createLinuxSandbox, linuxSandbox } from './backend.js';
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
export { AGENT_NAMES, type GitLayout, gitLayout } from './git-protect.js';
export { helperCflags } from './helper-build.js';
export {
  expandWithExclusions,
  HOST_SOCKET_DIRS,
  type LaunchPlan,
  planLaunch,
  protectedPaths,
  WRITABLE_DEVICES,
} from './plan.js';
export {
  findHelper,
  HELPER_NS_ENV,
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
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_PROCESSES,
  HELPER_SETUP_EXIT,
  type MaskedPath,
  READY_PREFIX,
  secretsToMask,
} from './run.js';
export { BWRAP_PATHS, findTrustedBwrap, untrustedReason } from './trust.js';
