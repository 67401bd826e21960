// A reusable escape suite: give it any SandboxBackend, the rungs to exercise and the host's
// fixtures, and it returns the tests as data (names, skips, async bodies). A test file hands them
// to its runner's describe/it with registerEscapeSuite; this module imports no test runner. Cases
// a backend cannot express declare `backends`.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { toSandboxPolicy } from '@codex/security-profile';
import type { BackendStatus, SandboxBackend, SandboxResult } from '../contract.js';
import { describeOutput, ESCAPE_CASES, type EscapeCase, type EscapeContext } from './cases.js';
import {
  compilePortableProbe,
  compileProbes,
  makeWindowsWorld,
  makeWorld,
  type Probes,
  removeTemplate,
  startListeners,
  startVictim,
  type Victim,
  type World,
  zombieByPs,
} from './fixture.js';
import { rungAvailable } from './rungs.js';

function have(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What a test body gets from the runner (vitest's test context fits). */
export interface EscapeTestContext {
  /** Marks the running test skipped, with the reason. */
  skip(note?: string): void;
}

/** One test: `it(name, (t) => run(t))`, or `it.skip(name)` when `skipped`. */
export interface EscapeTest {
  readonly name: string;
  /** Nothing to run: the name says why (a binary that is not installed, a case meaningless here). */
  readonly skipped: boolean;
  run(t: EscapeTestContext): Promise<void>;
}

/** The tests of one case, under `describe(name)`. */
export interface EscapeGroup {
  readonly name: string;
  readonly tests: readonly EscapeTest[];
}

/**
 * The whole suite as data: `describe(name)` with `beforeAll(setup)` and `afterAll(teardown)`,
 * the suite-level `tests`, then one `describe` per group.
 */
export interface EscapeSuite {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): void;
  readonly tests: readonly EscapeTest[];
  readonly groups: readonly EscapeGroup[];
}

/** Host-side fixtures that depend on the OS the tests run on. */
export interface EscapeFixtures {
  /** Compiles the test programs the cases run (`c.probes`). */
  compileProbes(): Probes;
  /** Starts a process outside the sandbox (`c.victim`). */
  startVictim(): Victim;
  /** A fresh world for one run. */
  makeWorld(): World;
}

/** Linux: the syscall probe with its setuid copy, a victim watched through /proc. */
export const LINUX_FIXTURES: EscapeFixtures = {
  compileProbes,
  startVictim: () => startVictim(),
  makeWorld,
};

/** macOS: the portable probe (not root: no setuid copy), a victim watched with ps (no /proc). */
export const DARWIN_FIXTURES: EscapeFixtures = {
  compileProbes: compilePortableProbe,
  startVictim: () => startVictim(zombieByPs),
  makeWorld,
};

/**
 * Windows: `compileProbe` builds the backend's test program into a fresh directory and returns
 * its path; the world is {@link makeWindowsWorld}; no Windows case uses a victim process.
 */
export function windowsFixtures(compileProbe: () => string): EscapeFixtures {
  return {
    compileProbes: () => {
      const probe = compileProbe();
      return { probe, setuidProbe: probe, dir: dirname(probe) };
    },
    startVictim: () => {
      throw new Error('the Windows escape cases use no victim process');
    },
    makeWorld: makeWindowsWorld,
  };
}

export interface EscapeSuiteOptions {
  /** Rungs to run every case against (unavailable here: skipped; under CI=true: a failure). */
  readonly rungs: readonly string[];
  /** The rung that means "no sandbox" for the control runs. */
  readonly controlRung: string;
  /** Default {@link ESCAPE_CASES}; either way only the cases whose `backends` include the backend's id. */
  readonly cases?: readonly EscapeCase[];
  /** Default {@link LINUX_FIXTURES}. */
  readonly fixtures?: EscapeFixtures;
  /** Case id → why it cannot mean anything on this OS (the case is registered as skipped). */
  readonly notHere?: Readonly<Record<string, string>>;
  /**
   * `fail` (default): a control that does not escape fails, since the case would prove nothing.
   * `skip`: the case is skipped instead (a runner that is not root cannot write /etc even
   * unsandboxed).
   */
  readonly controlNotEscaped?: 'fail' | 'skip';
  /** A rung that must be available: a suite-level test fails otherwise (never silently unsandboxed). */
  readonly requireRung?: string;
  /** A suite-level test that the suite has at least this many distinct cases. */
  readonly minCases?: number;
}

interface SuiteState {
  probes: Probes | undefined;
  status: BackendStatus | undefined;
}

async function runCase(
  backend: SandboxBackend,
  fixtures: EscapeFixtures,
  probes: Probes,
  c: EscapeCase,
  profile: EscapeCase['profiles'][number],
  rung: string,
  control = false,
): Promise<{ escaped: boolean; result: SandboxResult }> {
  const world = fixtures.makeWorld();
  const net = await startListeners();
  let victim: Victim | undefined;
  const ctx: EscapeContext = {
    world,
    net,
    probes,
    get victim() {
      victim ??= fixtures.startVictim();
      return victim;
    },
  };
  try {
    c.setup?.(ctx);
    const sandboxed = toSandboxPolicy(profile, {
      workspaceRoots: [world.ws],
      explicit: true,
      // The built-in list plus this world's own secrets (config `sandbox.deny_read`).
      denyRead: [world.secrets, world.secretFile],
    });
    // The control run has no sandbox, so no network namespace for the egress proxy: a proxied
    // profile (which the unsandboxed rung rightly refuses) gets the host's network there.
    const policy =
      control && sandboxed.network.mode === 'proxied'
        ? { ...sandboxed, network: { mode: 'full' as const } }
        : sandboxed;
    const running = backend.run({
      policy,
      command: c.command(ctx),
      cwd: world.ws,
      rung,
      allowDegraded: true,
      timeoutMs: c.limits?.timeoutMs ?? 20_000,
      ...(c.limits?.maxProcesses ? { maxProcesses: c.limits.maxProcesses } : {}),
      ...(c.limits?.maxOutputBytes ? { maxOutputBytes: c.limits.maxOutputBytes } : {}),
    });
    await c.during?.(ctx);
    const result = await running;
    // Let a connection or datagram that is in flight land before looking at the listeners.
    if (c.category === 'network' || c.category === 'process') await new Promise((r) => setTimeout(r, 50));
    const escaped = c.escaped(ctx, result);
    if (rung === 'none' && escaped) c.undoControl?.(ctx);
    return { escaped, result };
  } finally {
    victim?.stop();
    await net.close();
    world.cleanup();
  }
}

const skipped = (name: string): EscapeTest => ({ name, skipped: true, run: async () => {} });

/** The escape suite of `backend`: every applicable case × profile × rung, each case with a control run. */
export function escapeSuite(backend: SandboxBackend, options: EscapeSuiteOptions): EscapeSuite {
  const fixtures = options.fixtures ?? LINUX_FIXTURES;
  const cases = (options.cases ?? ESCAPE_CASES).filter((c) => !c.backends || c.backends.includes(backend.id));
  const state: SuiteState = { probes: undefined, status: undefined };
  const status = (): BackendStatus => state.status!;
  const probes = (): Probes => state.probes!;

  const tests: EscapeTest[] = [];
  const required = options.requireRung;
  if (required !== undefined) {
    tests.push({
      name: `rung ${required} is available on this runner (the suite must not silently run unsandboxed)`,
      skipped: false,
      run: async () => {
        if (status().rungs.find((r) => r.id === required)?.available !== true)
          throw new Error(`rung ${required} is unavailable here: ${JSON.stringify(status().mechanisms)}`);
      },
    });
  }
  const min = options.minCases;
  if (min !== undefined) {
    tests.push({
      name: `has at least ${min} distinct cases`,
      skipped: false,
      run: async () => {
        const n = new Set(cases.map((c) => c.id)).size;
        if (n < min) throw new Error(`only ${n} distinct cases`);
      },
    });
  }

  const groups = cases.map((c): EscapeGroup => {
    const name = `[${c.category}] ${c.id}`;
    const reason = options.notHere?.[c.id];
    const missing = (c.needs ?? []).filter((b) => !have(b));
    if (reason || missing.length > 0) {
      return { name, tests: [skipped(reason ?? `needs ${missing.join(', ')} (not installed)`)] };
    }
    const group: EscapeTest[] = [];
    let controlEscaped = true;
    if (c.control !== false) {
      group.push({
        name: 'control: the same command escapes without a sandbox',
        skipped: false,
        run: async (t) => {
          const lacks = c.hostLacks?.(probes());
          if (lacks) return t.skip(lacks);
          const run = await runCase(
            backend,
            fixtures,
            probes(),
            c,
            c.profiles[0]!,
            options.controlRung,
            true,
          );
          controlEscaped = run.escaped;
          if (run.escaped) return;
          if (options.controlNotEscaped === 'skip') {
            return t.skip(
              `control did not escape on this machine, so the case proves nothing: ${describeOutput(run.result)}`,
            );
          }
          throw new Error(
            `control did not escape, so the case would prove nothing: ${describeOutput(run.result)}`,
          );
        },
      });
    }
    for (const profile of c.profiles) {
      for (const rung of options.rungs.filter((r) => !c.rungs || c.rungs.includes(r))) {
        group.push({
          name: `${profile} @ ${rung}`,
          skipped: false,
          run: async (t) => {
            if (options.controlNotEscaped === 'skip' && !controlEscaped)
              return t.skip('control did not escape here');
            // Unavailable here (no bwrap, no Landlock…): skipped, the other rungs still run; under
            // CI=true it is a failure, so CI keeps proving every rung.
            if (!rungAvailable(status(), rung)) return t.skip(`rung ${rung} unavailable here`);
            const lacks = c.hostLacks?.(probes());
            if (lacks) return t.skip(lacks);
            const policy = toSandboxPolicy(profile, {
              workspaceRoots: ['/nonexistent-for-assess'],
              explicit: true,
            });
            if (!c.enforced(backend.assess(policy, status(), rung)))
              return t.skip(`not enforced by rung ${rung}`);
            const outcome = await runCase(backend, fixtures, probes(), c, profile, rung).catch(
              (e: unknown) => e as Error,
            );
            if (outcome instanceof Error) {
              // A proxied profile needs a private network namespace: a rung without one must
              // refuse to run at all (fail closed), never run with the host's network.
              const code = (outcome as { code?: string }).code;
              if (policy.network.mode !== 'proxied' || code !== 'SANDBOX_UNSUPPORTED_POLICY') throw outcome;
              return;
            }
            if (outcome.escaped) {
              throw new Error(
                `${c.category === 'positive' ? 'broke a command that must work' : 'ESCAPED'}: ${describeOutput(outcome.result)}`,
              );
            }
          },
        });
      }
    }
    return { name, tests: group };
  });

  return {
    name: `escape suite: ${backend.id} backend`,
    setup: async () => {
      state.status = await backend.probe();
      state.probes = fixtures.compileProbes();
    },
    teardown: () => {
      if (state.probes) rmSync(state.probes.dir, { recursive: true, force: true });
      removeTemplate();
    },
    tests,
    groups,
  };
}

/** The part of a test runner (vitest, jest…) the suite is registered with. */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it: {
    (name: string, body: (t: EscapeTestContext) => Promise<void>): void;
    skip(name: string, body: () => void): void;
  };
  beforeAll(fn: () => Promise<void>): void;
  afterAll(fn: () => void): void;
}

/**
 * Registers `suite` with a test runner: `registerEscapeSuite(escapeSuite(backend, options),
 * { describe, it, beforeAll, afterAll })` with vitest's functions.
 */
export function registerEscapeSuite(suite: EscapeSuite, runner: TestRunner): void {
  const { describe, it } = runner;
  const add = (t: EscapeTest) => (t.skipped ? it.skip(t.name, () => {}) : it(t.name, (ctx) => t.run(ctx)));
  describe(suite.name, () => {
    runner.beforeAll(suite.setup);
    runner.afterAll(suite.teardown);
    for (const t of suite.tests) add(t);
    for (const group of suite.groups) describe(group.name, () => group.tests.forEach(add));
  });
}
