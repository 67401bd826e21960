export {
  createWindowsSandbox,
  DEFAULT_MAX_PROCESSES,
  HELPER_SETUP_EXIT,
  HELPER_TIMEOUT_EXIT,
  resolveGitdirTargets,
  type WindowsSandboxOptions,
  windowsSandbox,
} from './backend.js';
export type { SandboxWindowsErrorCode } from './errors.js';
export { WindowsCommandNotFoundError, WindowsQuotingError } from './errors.js';
export {
  DEFAULT_MEMORY_MB,
  planWindowsLaunch,
  type WindowsMode,
  type WindowsPlan,
  type WindowsPlanInput,
} from './plan.js';
export {
  defaultHelperPath,
  HELPER_NAME,
  parseHelperProbe,
  probeWindows,
  WINDOWS_RUNGS,
  type WindowsProbe,
  type WindowsProbeOptions,
} from './probe.js';
export {
  buildWindowsCommandLine,
  isBatchFile,
  parseWindowsCommandLine,
  quoteWindowsArg,
  quoteWindowsProgram,
  resolveWindowsCommand,
} from './quote.js';
