import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { admit } from '@codex/sandbox-contract';
import { runCaptured } from '@codex/sandbox-contract/process';
import type { SandboxPolicy } from '@codex/security-profile';
import {
  type Assessment,
  assessRung,
  type BackendStatus,
  type SandboxRequest,
  type SandboxResult,
} from './contract.js';
import { findObservedDenials } from './denials.js';
import {
  assessProxied,
  type EgressSandboxRequest,
  requireNetns,
  startEgressBridge,
} from './egress-bridge.js';
import { sanitizeEnv } from './env.js';
import { SandboxSetupError } from './errors.js';
import { planLaunch } from './plan.js';
import type { LinuxProbe } from './probe.js';

/** The shared fail-closed admission check (network mode, command, rung, isolation, guarantees). */
export { admit } from '@codex/sandbox-contract';

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_MAX_PROCESSES = 256;
/** Exit status of the helper when it could not apply a layer (the command never ran). */
export const HELPER_SETUP_EXIT = 121;

let runCounter = 0;

/** Assessment of `rung` (default: the selected rung) for `policy`. */
export function assessLinux(policy: SandboxPolicy, status: BackendStatus, rung?: string): Assessment {
  return assessProxied(policy, assessRung(policy, status, rung ?? status.selected));
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Kills every process in the cgroup until it is empty (a fork bomb cannot outrun pids.max). */
async function killCgroup(dir: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    let pids: number[];
    try {
      pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return;
    }
    if (pids.length === 0) return;
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
    } catch {
      /* cgroup v1 has no cgroup.kill */
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* raced with exit */
      }
    }
    await sleep(i < 10 ? 5 : 20);
  }
}

async function removeCgroup(dir: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      await killCgroup(dir);
      await sleep(10);
    }
  }
}

/** Runs a request once admitted. */
export async function runLinux(request: SandboxRequest, probe: LinuxProbe): Promise<SandboxResult> {
  const assessment = admit(request, probe.status, { networkModes: ['none', 'full', 'proxied'] });
  const { policy } = request;
  const cwd = request.cwd ?? process.cwd();
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cap = request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const maxProcesses = request.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const hygiene =
    request.envHygiene === false
      ? {
          env: Object.fromEntries(
            Object.entries(request.env ?? process.env).filter(([, v]) => v !== undefined),
          ) as Record<string, string>,
          stripped: [],
        }
      : sanitizeEnv(request.env ?? process.env, request.envHygiene);

  const mechanisms = assessment.mechanisms;
  let cgroupDir: string | null = null;
  let privateTmpDir: string | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    if (mechanisms.includes('cgroup-pids') && probe.cgroup) {
      cgroupDir = join(
        probe.cgroup.parent,
        `codex-sbx-${process.pid}-${++runCounter}-${Date.now().toString(36)}`,
      );
      mkdirSync(cgroupDir);
      const dir = cgroupDir;
      cleanups.push(() => removeCgroup(dir));
      writeFileSync(join(cgroupDir, 'pids.max'), String(maxProcesses));
    }
    if (
      !assessment.skipped &&
      policy.privateTmp &&
      !mechanisms.includes('bwrap') &&
      mechanisms.includes('landlock')
    ) {
      privateTmpDir = mkdtempSync(join(tmpdir(), 'codex-sbx-tmp-'));
      const dir = privateTmpDir;
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    }
    // Egress (`proxied`): a per-run proxy on Unix sockets, bridged into the sandbox's netns.
    let command = request.command;
    let egressEnv: Readonly<Record<string, string>> = {};
    let egressBinds: readonly string[] = [];
    if (policy.network.mode === 'proxied' && !assessment.skipped) {
      requireNetns(policy, mechanisms);
      const bridge = await startEgressBridge(request as EgressSandboxRequest, mechanisms);
      cleanups.push(() => bridge.close());
      ({ command, env: egressEnv, binds: egressBinds } = bridge);
    }
    const plan = planLaunch({
      policy,
      mechanisms,
      command,
      egressBinds,
      cwd,
      helperPath: probe.helperPath,
      bwrapPath: probe.bwrapPath,
      cgroupDir,
      privateTmpDir,
    });
    const env = { ...hygiene.env, ...egressEnv, ...plan.env };
    return await execute(plan.argv, {
      ...request,
      cwd,
      timeoutMs,
      cap,
      env,
      cgroupDir,
      assessment,
      stripped: hygiene.stripped,
      processLimit: cgroupDir ? `cgroup-v${probe.cgroup?.version} pids.max=${maxProcesses}` : 'none',
    });
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

interface ExecOptions extends SandboxRequest {
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly cap: number;
  readonly env: Record<string, string>;
  readonly cgroupDir: string | null;
  readonly assessment: Assessment;
  readonly stripped: readonly string[];
  readonly processLimit: string;
}

async function execute(argv: readonly string[], o: ExecOptions): Promise<SandboxResult> {
  // Spawn, output caps, timeout, abort and tree kill are the shared runner's; Linux adds the
  // per-run cgroup to what "the whole tree" means.
  const run = await runCaptured(argv, {
    cwd: o.cwd,
    env: o.env,
    timeoutMs: o.timeoutMs,
    maxOutputBytes: o.cap,
    ...(o.stdin ? { stdin: o.stdin } : {}),
    ...(o.onOutput ? { onOutput: o.onOutput } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    killTree: async (child) => {
      killGroup(child.pid);
      if (o.cgroupDir) await killCgroup(o.cgroupDir);
    },
  });
  const { exitCode: code, stderr } = run;
  const setupFailure = /^(codex-sandbox-helper|bwrap): /m.exec(stderr);
  if (
    setupFailure &&
    ((code === HELPER_SETUP_EXIT && stderr.includes('codex-sandbox-helper: ')) ||
      (code === 1 && /^bwrap: /.test(stderr)))
  ) {
    throw new SandboxSetupError(
      `sandbox setup failed: ${stderr.split('\n').find((l) => /^(codex-sandbox-helper|bwrap): /.test(l))}`,
      stderr,
    );
  }
  return {
    ...run,
    assessment: o.assessment,
    strippedEnv: o.stripped,
    observedDenials: findObservedDenials(stderr),
    processLimit: o.processLimit,
  };
}
