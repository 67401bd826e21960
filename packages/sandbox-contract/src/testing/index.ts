// `@codex/sandbox-contract/testing`: the one escape-suite kit every sandbox backend's tests run.
// The cases (each an attempt to break out, with a control run that must escape without the
// sandbox), the fixtures they run against (a throwaway world, loopback listeners, a victim
// process, a compiled syscall probe) and a vitest runner for any SandboxBackend. Test-only: it
// needs vitest (an optional peer) and a C compiler for the probe.
export { type Category, describeOutput, ESCAPE_CASES, type EscapeCase, type EscapeContext } from './cases.js';
export { HARDENING_CASES } from './cases-hardening.js';
export {
  compileProbes,
  isMountedOnHost,
  type Listeners,
  makeWorld,
  type Probes,
  processesMatching,
  removeTemplate,
  startListeners,
  startVictim,
  type Victim,
  type World,
} from './fixture.js';
export { CI, rungAvailable } from './rungs.js';
export { defineEscapeSuite, type EscapeSuiteOptions } from './suite.js';
