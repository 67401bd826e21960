// The escape-suite kit itself: which cases and rungs each backend gets, and the Windows table run
// end to end against a stand-in Windows backend (real files and a real listener, the sandbox
// simulated), so the Windows suite's logic is checked here without Windows.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  admit,
  assessRung,
  type BackendStatus,
  type SandboxBackend,
  type SandboxResult,
} from '../src/index.js';
import {
  ESCAPE_CASES,
  type EscapeSuite,
  type EscapeTestContext,
  escapeSuite,
  MACOS_CASES,
  NOT_ON_MACOS,
  registerEscapeSuite,
  type TestRunner,
  WINDOWS_CASES,
  windowsFixtures,
} from '../src/testing/index.js';

const LINUX_RUNGS = ['full', 'landlock-seccomp', 'bwrap-seccomp', 'seccomp', 'landlock-only', 'bwrap-only'];
const WINDOWS_RUNGS = ['appcontainer', 'restricted-token'];
const CONTROL = 'control: the same command escapes without a sandbox';

const unprobed = (id: string): SandboxBackend => ({
  id,
  probe: () => Promise.reject(new Error('not probed in this test')),
  assess: () => {
    throw new Error('not assessed in this test');
  },
  run: () => Promise.reject(new Error('not run in this test')),
});

/** `group > test` names of a suite. */
const names = (s: EscapeSuite) => [
  ...s.tests.map((t) => t.name),
  ...s.groups.flatMap((g) => g.tests.map((t) => `${g.name} > ${t.name}`)),
];

/** A stand-in for the Windows backend: the real admission and assessment, the helper simulated. */
function fakeWindows(o: { leaky?: boolean } = {}): SandboxBackend {
  const mechanism = (id: string, provides: BackendStatus['mechanisms'][number]['provides']) => ({
    id,
    label: id,
    available: true,
    reason: 'stand-in',
    provides,
  });
  const rung = (id: string, mechanisms: string[]) => ({
    id,
    label: id,
    mechanisms,
    available: true,
    missing: [],
  });
  const status: BackendStatus = {
    backend: 'windows',
    platform: 'win32',
    mechanisms: [
      mechanism('appcontainer', ['filesystem-write', 'protected-paths', 'network', 'process-isolation']),
      mechanism('restricted-token', ['filesystem-write', 'protected-paths']),
      mechanism('job-object', ['process-limit']),
    ],
    rungs: [
      rung('appcontainer', ['appcontainer', 'job-object']),
      rung('restricted-token', ['restricted-token', 'job-object']),
      rung('none', []),
    ],
    best: 'appcontainer',
    forced: null,
    selected: 'appcontainer',
  };
  const under = (p: string, root: string) => p === root || p.startsWith(root + sep);
  return {
    id: 'windows',
    probe: async () => status,
    assess: (policy, s, r) => assessRung(policy, s, r ?? s.selected),
    async run(request): Promise<SandboxResult> {
      const assessment = admit(request, status);
      const sandboxed = assessment.mechanisms.length > 0;
      const [, op, arg = ''] = request.command;
      let stdout = '';
      let timedOut = false;
      if (op === 'write') {
        const allowed =
          !sandboxed ||
          o.leaky ||
          request.policy.writableRoots.some(
            (w) => under(arg, w.root) && !w.readOnlySubpaths.some((ro) => under(arg, ro)),
          );
        if (allowed) writeFileSync(arg, '');
        stdout = allowed ? 'ESCAPED\n' : 'DENIED 5\n';
      } else if (op === 'connect') {
        if (assessment.mechanisms.includes('appcontainer')) stdout = 'DENIED 10013\n';
        else {
          await new Promise<void>((resolve, reject) => {
            const socket = connect(Number(arg), '127.0.0.1', () => {
              socket.destroy();
              resolve();
            });
            socket.once('error', reject);
          });
          stdout = 'ESCAPED\n';
        }
      } else if (op === 'spawn') {
        const cap = sandboxed ? (request.maxProcesses ?? 256) - 1 : Number(arg);
        stdout = `STARTED ${Math.min(Number(arg), cap)}\n`;
      } else if (op === 'sleep') {
        timedOut = (request.timeoutMs ?? 0) < Number(arg);
      }
      return {
        exitCode: 0,
        signal: null,
        stdout,
        stderr: '',
        stdoutTruncated: false,
        stderrTruncated: false,
        timedOut,
        durationMs: 1,
        assessment,
        strippedEnv: [],
        observedDenials: [],
        processLimit: 'none',
      };
    },
  };
}

/** Registers `suite` with a recording runner, then runs it: test path → passed, skipped or the error. */
async function run(suite: EscapeSuite): Promise<Map<string, string>> {
  const path: string[] = [];
  const tests: { name: string; body?: (t: EscapeTestContext) => Promise<void> }[] = [];
  const hooks: { before: (() => Promise<void>)[]; after: (() => void)[] } = { before: [], after: [] };
  const it = Object.assign(
    (name: string, body: (t: EscapeTestContext) => Promise<void>) => {
      tests.push({ name: [...path, name].join(' > '), body });
    },
    { skip: (name: string) => tests.push({ name: [...path, name].join(' > ') }) },
  );
  const runner: TestRunner = {
    describe: (name, body) => {
      path.push(name);
      body();
      path.pop();
    },
    it,
    beforeAll: (fn) => hooks.before.push(fn),
    afterAll: (fn) => hooks.after.push(fn),
  };
  registerEscapeSuite(suite, runner);
  const results = new Map<string, string>();
  for (const fn of hooks.before) await fn();
  try {
    for (const t of tests) {
      if (!t.body) {
        results.set(t.name, 'skipped');
        continue;
      }
      let outcome = 'passed';
      await t
        .body({
          skip: (note) => {
            outcome = `skipped: ${note}`;
          },
        })
        .catch((e: unknown) => {
          outcome = `failed: ${(e as Error).message}`;
        });
      results.set(t.name, outcome);
    }
  } finally {
    for (const fn of hooks.after) fn();
  }
  return results;
}

const probeDir = () => mkdtempSync(join(tmpdir(), 'codex-kit-test-'));

describe('@codex/sandbox-contract/testing', () => {
  it('imports no test runner: a backend hands its tests to its own describe/it', () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'testing');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /from '(vitest|jest|mocha)|@jest\//.test(readFileSync(join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('Linux: the shared and Linux-only cases, each a control and every profile × rung', () => {
    const suite = escapeSuite(unprobed('linux'), { rungs: LINUX_RUNGS, controlRung: 'none', minCases: 50 });
    expect(suite.name).toBe('escape suite: linux backend');
    expect(suite.tests.map((t) => t.name)).toEqual(['has at least 50 distinct cases']);
    const mine = ESCAPE_CASES.filter((c) => !c.backends || c.backends.includes('linux'));
    expect(mine.length).toBeGreaterThanOrEqual(50);
    expect(suite.groups.map((g) => g.name)).toEqual(mine.map((c) => `[${c.category}] ${c.id}`));
    expect(suite.groups.some((g) => g.name.includes('macos: '))).toBe(false);
    for (const [i, g] of suite.groups.entries()) {
      const c = mine[i]!;
      if (g.tests.length === 1 && g.tests[0]!.skipped) continue; // a binary it needs is missing
      expect(g.tests.map((t) => t.name)).toEqual([
        ...(c.control === false ? [] : [CONTROL]),
        ...c.profiles.flatMap((p) => LINUX_RUNGS.map((r) => `${p} @ ${r}`)),
      ]);
    }
  });

  it('macOS: the shared and Seatbelt-only cases against seatbelt; what means nothing there is skipped', () => {
    const suite = escapeSuite(unprobed('macos'), {
      rungs: ['seatbelt'],
      controlRung: 'none',
      notHere: NOT_ON_MACOS,
      controlNotEscaped: 'skip',
      requireRung: 'seatbelt',
    });
    expect(suite.tests.map((t) => t.name)).toEqual([
      'rung seatbelt is available on this runner (the suite must not silently run unsandboxed)',
    ]);
    const mine = ESCAPE_CASES.filter((c) => !c.backends || c.backends.includes('macos'));
    expect(suite.groups.map((g) => g.name)).toEqual(mine.map((c) => `[${c.category}] ${c.id}`));
    for (const c of MACOS_CASES) expect(mine).toContain(c);
    expect(mine.some((c) => c.backends?.includes('linux'))).toBe(false);
    for (const [id, why] of Object.entries(NOT_ON_MACOS)) {
      const g = suite.groups.find((x) => x.name.endsWith(`] ${id}`))!;
      expect(g.tests).toEqual([expect.objectContaining({ name: why, skipped: true })]);
    }
  });

  it('Windows: its own table; a case runs only at the rungs it names', () => {
    const suite = escapeSuite(unprobed('windows'), {
      rungs: WINDOWS_RUNGS,
      controlRung: 'none',
      cases: WINDOWS_CASES,
      requireRung: 'appcontainer',
    });
    const each = (profiles: string[], rungs = WINDOWS_RUNGS) =>
      profiles.flatMap((p) => rungs.map((r) => `${p} @ ${r}`));
    const expected: Record<string, string[]> = {
      '[filesystem] create a file outside the workspace': [
        CONTROL,
        ...each(['offline', 'workspace-write', 'workspace-net']),
      ],
      '[filesystem] create a file in the workspace under a read-only profile': [
        CONTROL,
        ...each(['offline', 'net-read-only']),
      ],
      '[protected-paths] overwrite .git\\config': [CONTROL, ...each(['workspace-write', 'workspace-net'])],
      '[protected-paths] create a git hook': [CONTROL, ...each(['workspace-write'])],
      '[protected-paths] write into .codex': [CONTROL, ...each(['workspace-write'])],
      '[positive] works: writing inside the workspace under workspace-write': each(['workspace-write']),
      '[network] TCP connect to a 127.0.0.1 listener': [
        CONTROL,
        ...each(['offline', 'workspace-write'], ['appcontainer']),
      ],
      '[limits] the active-process limit contains a burst of processes': each(['offline'], ['appcontainer']),
      '[limits] the timeout kills the whole job': each(['offline'], ['appcontainer']),
    };
    expect(Object.fromEntries(suite.groups.map((g) => [g.name, g.tests.map((t) => t.name)]))).toEqual(
      expected,
    );
    expect(suite.tests.map((t) => t.name)).toEqual([
      'rung appcontainer is available on this runner (the suite must not silently run unsandboxed)',
    ]);
    // The POSIX table is not the Windows backend's, and the Windows table is no other backend's.
    expect(
      escapeSuite(unprobed('linux'), { rungs: ['full'], controlRung: 'none', cases: WINDOWS_CASES }).groups,
    ).toEqual([]);
  });

  it('Windows: the table passes against a backend that contains every effect, and catches one that does not', async () => {
    const options = {
      rungs: WINDOWS_RUNGS,
      controlRung: 'none',
      cases: WINDOWS_CASES,
      requireRung: 'appcontainer',
      fixtures: windowsFixtures(() => join(probeDir(), 'win-probe.exe')),
    };
    const good = await run(escapeSuite(fakeWindows(), options));
    expect(good.size).toBe(names(escapeSuite(unprobed('windows'), options)).length);
    // Proxied profiles (workspace-net, net-read-only) are refused by admission: fail-closed passes.
    expect([...good].filter(([, outcome]) => outcome !== 'passed')).toEqual([]);

    const leaky = await run(escapeSuite(fakeWindows({ leaky: true }), options));
    const failed = [...leaky].filter(([, outcome]) => outcome.startsWith('failed'));
    expect(failed.map(([name]) => name)).toContain(
      'escape suite: windows backend > [filesystem] create a file outside the workspace > offline @ appcontainer',
    );
    expect(failed.every(([, outcome]) => outcome.startsWith('failed: ESCAPED'))).toBe(true);
  });
});
