// The shared escape table (@codex/sandbox-contract/testing) run against the
// macOS backend, plus cases only Seatbelt can express. The Linux runner cannot be used as-is on
// macOS (its probe needs Linux headers, its victim reads /proc, it chowns a setuid copy as
// root), so this runner supplies macOS fixtures and reuses the cases, the workspace builder and
// the loopback listeners.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendStatus, SandboxBackend, SandboxResult } from '@codex/sandbox-contract';
import {
  describeOutput,
  ESCAPE_CASES,
  type EscapeCase,
  type EscapeContext,
  makeWorld,
  type Probes,
  startListeners,
  type Victim,
} from '@codex/sandbox-contract/testing';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Cases of the shared table that cannot mean anything on macOS, with the reason (shown as a skip). */
export const NOT_ON_MACOS: Readonly<Record<string, string>> = {
  'works: cat /etc/os-release': 'macOS has no /etc/os-release',
};

const seatbelt = (a: { mechanisms: readonly string[] }) => a.mechanisms.includes('seatbelt');
const contains = (p: string, s: string) => {
  try {
    return execFileSync('cat', [p], { encoding: 'utf8' }).includes(s);
  } catch {
    return false;
  }
};

/** What only Seatbelt expresses (the shared table keys these on Linux mechanisms). */
export const MACOS_CASES: readonly EscapeCase[] = [
  {
    id: 'macos: signal a process outside (kill -TERM)',
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    enforced: seatbelt,
    command: (c) => ['kill', '-TERM', String(c.victim.pid)],
    escaped: (c) => !c.victim.alive(),
  },
  {
    id: 'macos: write into the shared /tmp',
    category: 'filesystem',
    profiles: ['offline', 'workspace-write'],
    enforced: seatbelt,
    command: (c) => ['sh', '-c', `echo x > /tmp/codex-escape-${c.world.marker}`],
    escaped: (c) => existsSync(`/tmp/codex-escape-${c.world.marker}`),
    undoControl: (c) => rmSync(`/tmp/codex-escape-${c.world.marker}`, { force: true }),
  },
  {
    id: 'macos: install a LaunchAgent (persistence)',
    category: 'filesystem',
    profiles: ['offline', 'workspace-net'],
    enforced: seatbelt,
    command: (c) => [
      'sh',
      '-c',
      `mkdir -p "$HOME/Library/LaunchAgents" && echo x > "$HOME/Library/LaunchAgents/codex-escape-${c.world.marker}.plist"`,
    ],
    escaped: (c) =>
      existsSync(join(homedir(), 'Library', 'LaunchAgents', `codex-escape-${c.world.marker}.plist`)),
    undoControl: (c) =>
      rmSync(join(homedir(), 'Library', 'LaunchAgents', `codex-escape-${c.world.marker}.plist`), {
        force: true,
      }),
  },
  {
    id: 'macos: AF_INET socket + connect via the probe under offline',
    category: 'network',
    profiles: ['offline'],
    needs: ['nc'],
    enforced: seatbelt,
    command: (c) => ['nc', '-z', '-w', '3', '127.0.0.1', String(c.net.tcpPort)],
    escaped: (c) => c.net.tcpHits() > 0,
  },
  {
    id: 'macos: append to .git/config through a ../ws path',
    category: 'protected-paths',
    profiles: ['workspace-write'],
    enforced: (a) => seatbelt(a) && (a.enforced['protected-paths']?.length ?? 0) > 0,
    command: (c) => ['sh', '-c', `cd ${c.world.ws}/../ws && echo "# ${c.world.marker}" >> .git/config`],
    escaped: (c) => contains(join(c.world.ws, '.git', 'config'), c.world.marker),
  },
];

function compileProbe(): Probes {
  const dir = mkdtempSync('/var/tmp/codex-esc-bin-');
  const probe = join(dir, 'portable-probe');
  execFileSync('cc', ['-O1', '-o', probe, join(dirname(fileURLToPath(import.meta.url)), 'portable-probe.c')]);
  return { probe, setuidProbe: probe, dir };
}

function startVictim(): Victim {
  const secret = `codex-victim-secret-${randomBytes(6).toString('hex')}`;
  const child: ChildProcess = spawn('sleep', ['300'], {
    env: { ...process.env, CODEX_VICTIM: secret },
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  return {
    pid: child.pid!,
    secret,
    alive: () => {
      if (exited) return false;
      try {
        return !execFileSync('ps', ['-o', 'stat=', '-p', String(child.pid)], { encoding: 'utf8' }).startsWith(
          'Z',
        );
      } catch {
        return false;
      }
    },
    stop: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

function have(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let probes: Probes | undefined;

async function runCase(
  backend: SandboxBackend,
  c: EscapeCase,
  profile: EscapeCase['profiles'][number],
  rung: string,
): Promise<{ escaped: boolean; result: SandboxResult }> {
  const world = makeWorld();
  const net = await startListeners();
  let victim: Victim | undefined;
  const ctx: EscapeContext = {
    world,
    net,
    probes: probes!,
    get victim() {
      victim ??= startVictim();
      return victim;
    },
  };
  try {
    c.setup?.(ctx);
    const policy = toSandboxPolicy(profile, { workspaceRoots: [world.ws], explicit: true });
    const result = await backend.run({
      policy,
      command: c.command(ctx),
      cwd: world.ws,
      rung,
      allowDegraded: true,
      timeoutMs: c.limits?.timeoutMs ?? 20_000,
      ...(c.limits?.maxProcesses ? { maxProcesses: c.limits.maxProcesses } : {}),
      ...(c.limits?.maxOutputBytes ? { maxOutputBytes: c.limits.maxOutputBytes } : {}),
    });
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

/** Registers the suite: every applicable case × profile against the Seatbelt rung, with controls. */
export function defineDarwinEscapeSuite(backend: SandboxBackend): void {
  const cases = [...ESCAPE_CASES, ...MACOS_CASES].filter(
    (c) => !c.backends || c.backends.includes(backend.id),
  );
  describe(`escape suite: ${backend.id} backend`, () => {
    let status: BackendStatus;
    beforeAll(async () => {
      status = await backend.probe();
      probes = compileProbe();
    });
    afterAll(() => {
      if (probes) rmSync(probes.dir, { recursive: true, force: true });
    });
    it('Seatbelt is available on this macOS runner (the suite must not silently run unsandboxed)', () => {
      expect(
        status.rungs.find((r) => r.id === 'seatbelt')?.available,
        JSON.stringify(status.mechanisms),
      ).toBe(true);
    });
    for (const c of cases) {
      describe(`[${c.category}] ${c.id}`, () => {
        const reason = NOT_ON_MACOS[c.id];
        const missing = (c.needs ?? []).filter((b) => !have(b));
        if (reason || missing.length > 0) {
          it.skip(reason ?? `needs ${missing.join(', ')} (not installed)`, () => {});
          return;
        }
        let controlEscaped = true;
        if (c.control !== false) {
          it('control: the same command escapes without a sandbox', async (t) => {
            const { escaped, result } = await runCase(backend, c, c.profiles[0]!, 'none');
            controlEscaped = escaped;
            // On macOS the runner is not root: some controls (e.g. writing /etc) are denied by
            // plain permissions. That case then proves nothing here; say so instead of passing.
            if (!escaped)
              t.skip(
                `control did not escape on this machine, so the case proves nothing: ${describeOutput(result)}`,
              );
          });
        }
        for (const profile of c.profiles) {
          it(`${profile} @ seatbelt`, async (t) => {
            if (!controlEscaped) return t.skip('control did not escape here');
            const policy = toSandboxPolicy(profile, {
              workspaceRoots: ['/nonexistent-for-assess'],
              explicit: true,
            });
            if (!c.enforced(backend.assess(policy, status, 'seatbelt')))
              return t.skip('not enforced by rung seatbelt');
            const { escaped, result } = await runCase(backend, c, profile, 'seatbelt');
            expect(
              escaped,
              `${c.category === 'positive' ? 'broke a command that must work' : 'ESCAPED'}: ${describeOutput(result)}`,
            ).toBe(false);
          });
        }
      });
    }
  });
}
