export {
  createMacosSandbox,
  type MacosLaunchPlan,
  macosSandbox,
  planMacosLaunch,
} from './backend.js';
export { checkSeatbeltProfile, type SeatbeltExpectations } from './check.js';
export type { SandboxMacosErrorCode } from './errors.js';
export { SbplParseError, SbplPathError, SeatbeltProfileRejectedError } from './errors.js';
export {
  MACOS_RUNGS,
  type MacosProbe,
  type MacosProbeOptions,
  probeMacos,
  SANDBOX_EXEC_PATH,
} from './probe.js';
export {
  DEVICE_WRITE_LITERALS,
  DEVICE_WRITE_REGEXES,
  DEVICE_WRITE_SUBPATHS,
  generateSeatbeltProfile,
  MACH_SERVICES,
  NETWORK_MACH_SERVICES,
  type SeatbeltOptions,
  SYSCTL_NAMES,
  SYSCTL_PREFIXES,
} from './profile.js';
export { canonicalizePolicy, canonicalPath, resolveProtectedPaths } from './resolve.js';
export { parseSbpl, renderSbpl, type SbplNode, sbplString } from './sbpl.js';
