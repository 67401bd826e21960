// A reusable escape suite: give it any SandboxBackend and the rungs to exercise. The macOS and
// Windows backends can call defineEscapeSuite with their own rungs; cases they cannot express
// declare `backends`.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendStatus, SandboxBackend, SandboxResult } from '../contract.js';
import { describeOutput, ESCAPE_CASES, type EscapeCase, type EscapeContext } from './cases.js';
import {
  compileProbes,
  makeWorld,
  type Probes,
  removeTemplate,
  startListeners,
  startVictim,
  type Victim,
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

export interface EscapeSuiteOptions {
  /** Rungs to run every case against (each must be available, or its tests are skipped). */
  readonly rungs: readonly string[];
  /** The rung that means "no sandbox" for the control runs. */
  readonly controlRung: string;
  readonly cases?: readonly EscapeCase[];
}

async function runCase(
  backend: SandboxBackend,
  c: EscapeCase,
  profile: EscapeCase['profiles'][number],
  rung: string,
  control = false,
): Promise<{ escaped: boolean; result: SandboxResult }> {
  const world = makeWorld();
  const net = await startListeners();
  let victim: Victim | undefined;
  const ctx: EscapeContext = {
    world,
    net,
    probes: currentProbes!,
    get victim() {
      victim ??= startVictim();
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

let currentProbes: Probes | undefined;

export function defineEscapeSuite(backend: SandboxBackend, options: EscapeSuiteOptions): void {
  const cases = (options.cases ?? ESCAPE_CASES).filter((c) => !c.backends || c.backends.includes(backend.id));
  describe(`escape suite: ${backend.id} backend`, () => {
    let status: BackendStatus;
    beforeAll(async () => {
      status = await backend.probe();
      currentProbes = compileProbes();
    });
    afterAll(() => {
      if (currentProbes) rmSync(currentProbes.dir, { recursive: true, force: true });
      removeTemplate();
    });

    it('has at least 50 distinct cases', () => {
      expect(new Set(cases.map((c) => c.id)).size).toBeGreaterThanOrEqual(50);
    });

    for (const c of cases) {
      const missing = (c.needs ?? []).filter((b) => !have(b));
      describe(`[${c.category}] ${c.id}`, () => {
        if (missing.length > 0) {
          it.skip(`needs ${missing.join(', ')} (not installed)`, () => {});
          return;
        }
        if (c.control !== false) {
          it('control: the same command escapes without a sandbox', async (t) => {
            const lacks = c.hostLacks?.(currentProbes!);
            if (lacks) return t.skip(lacks);
            const { escaped, result } = await runCase(backend, c, c.profiles[0]!, options.controlRung, true);
            expect(
              escaped,
              `control did not escape, so the case would prove nothing: ${describeOutput(result)}`,
            ).toBe(true);
          });
        }
        for (const profile of c.profiles) {
          for (const rung of options.rungs) {
            it(`${profile} @ ${rung}`, async (t) => {
              // Unavailable here (no bwrap, no Landlock…): skipped, the other rungs still run; under
              // CI=true it is a failure, so CI keeps proving every rung.
              if (!rungAvailable(status, rung)) return t.skip(`rung ${rung} unavailable here`);
              const lacks = c.hostLacks?.(currentProbes!);
              if (lacks) return t.skip(lacks);
              const policy = toSandboxPolicy(profile, {
                workspaceRoots: ['/nonexistent-for-assess'],
                explicit: true,
              });
              if (!c.enforced(backend.assess(policy, status, rung)))
                return t.skip(`not enforced by rung ${rung}`);
              const outcome = await runCase(backend, c, profile, rung).catch((e: unknown) => e as Error);
              if (outcome instanceof Error) {
                // A proxied profile needs a private network namespace: a rung without one must
                // refuse to run at all (fail closed), never run with the host's network.
                expect(policy.network.mode, String(outcome)).toBe('proxied');
                expect((outcome as { code?: string }).code).toBe('SANDBOX_UNSUPPORTED_POLICY');
                return;
              }
              const { escaped, result } = outcome;
              expect(
                escaped,
                `${c.category === 'positive' ? 'broke a command that must work' : 'ESCAPED'}: ${describeOutput(result)}`,
              ).toBe(false);
            });
          }
        }
      });
    }
  });
}
