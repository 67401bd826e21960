/**
 * `@codex/sandbox-contract/testing` (Node only, for tests): the one escape suite every sandbox
 * backend runs. The cases (each an attempt to break out, with a control run that must escape
 * without the sandbox; Linux-, macOS- and Windows-only ones tagged with `backends`), the
 * fixtures they run against (a throwaway world, loopback listeners, a victim process, a
 * compiled probe), and {@link escapeSuite}, which returns the suite as data (names, skips, async
 * bodies) that {@link registerEscapeSuite} hands to a test runner's describe/it. This module
 * imports no test runner; the probes need a C compiler.
 */
export { type Category, describeOutput, ESCAPE_CASES, type EscapeCase, type EscapeContext } from './cases.js';
export { HARDENING_CASES } from './cases-hardening.js';
export { MACOS_CASES, NOT_ON_MACOS } from './cases-macos.js';
export { WINDOWS_CASES } from './cases-windows.js';
export {
  compilePortableProbe,
  compileProbes,
  isMountedOnHost,
  type Listeners,
  makeWindowsWorld,
  makeWorld,
  type Probes,
  processesMatching,
  removeTemplate,
  startListeners,
  startVictim,
  type Victim,
  type World,
  zombieByProc,
  zombieByPs,
} from './fixture.js';
export { CI, rungAvailable } from './rungs.js';
export {
  DARWIN_FIXTURES,
  type EscapeFixtures,
  type EscapeGroup,
  type EscapeSuite,
  type EscapeSuiteOptions,
  type EscapeTest,
  type EscapeTestContext,
  escapeSuite,
  LINUX_FIXTURES,
  registerEscapeSuite,
  type TestRunner,
  windowsFixtures,
} from './suite.js';
