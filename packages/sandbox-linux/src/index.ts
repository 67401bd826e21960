// The Linux backend. The OS-neutral contract (request and result types, errors, env hygiene,
// rung selection, admission) is @codex/sandbox-contract's: import it from there.
export { createLinuxSandbox, linuxSandbox } from './backend.js';
export { diagnoseUserns, type HostDiagnosis, type HostFacts } from './diagnose.js';
export type { EgressSandboxRequest } from './egress-bridge.js';
export { type GitLayout, gitLayout } from './git-protect.js';
export { expandWithExclusions, type LaunchPlan, planLaunch, protectedPaths } from './plan.js';
export { LINUX_RUNGS, type LinuxProbe, probeLinux } from './probe.js';
export { invalidateProbeCache } from './probe-cache.js';
export {
  DEFAULT_MAX_PROCESSES,
  HELPER_SETUP_EXIT,
  type MaskedPath,
  secretsToMask,
} from './run.js';
export { BWRAP_PATHS, findTrustedBwrap, untrustedReason } from './trust.js';
