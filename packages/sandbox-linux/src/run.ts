import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Assessment,
  admit,
  assembleResult,
  assessRung,
  type BackendStatus,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  findObservedDenials,
  type OutputStream,
  requestEnv,
  type SandboxRequest,
  type SandboxResult,
  SandboxSetupError,
} from '@codex/sandbox-contract';
import { runCaptured } from '@codex/sandbox-contract/process';
import { DEFAULT_DENY_READ, expandHome, isWithin, type SandboxPolicy } from '@codex/security-profile';
import {
  assessProxied,
  type EgressSandboxRequest,
  requireNetns,
  startEgressBridge,
} from './egress-bridge.js';
import { gitLayout } from './git-protect.js';
import { planLaunch } from './plan.js';
import type { LinuxProbe } from './probe.js';

/** An existing secret to mask: its real path and whether it is a directory. */
export interface MaskedPath {
  readonly path: string;
  readonly dir: boolean;
}

/**
 * The deny-read list of `policy` (the built-in one when the policy has none), `~` expanded
 * against `home`, reduced to what exists, by real path. What `codex sandbox status` lists as masked.
 */
export function secretsToMask(policy: SandboxPolicy, home = homedir()): MaskedPath[] {
  if (policy.skipSandbox) return [];
  const out: MaskedPath[] = [];
  for (const raw of policy.denyRead ?? DEFAULT_DENY_READ) {
    const p = expandHome(raw, home);
    // Most of the list does not exist on a given machine: ask without an exception first
    // (a thrown ENOENT per path was most of this function's cost, which every launch pays).
    if (!p.startsWith('/') || !existsSync(p)) continue;
    try {
      const real = realpathSync.native(p);
      const dir = lstatSync(real).isDirectory();
      if (!out.some((o) => o.path === real)) out.push({ path: real, dir });
    } catch {
      /* does not exist: nothing to hide */
    }
  }
  return out;
}

let maskDir: string | null = null;
/** A mode-000 empty directory and file, made once per process, bound over secrets. */
function maskSources(): { dir: string; file: string } {
  if (!maskDir) {
    const d = mkdtempSync(join(tmpdir(), 'codex-sbx-mask-'));
    mkdirSync(join(d, 'd'));
    writeFileSync(join(d, 'f'), '');
    chmodSync(join(d, 'd'), 0);
    chmodSync(join(d, 'f'), 0);
    chmodSync(d, 0o755);
    maskDir = d;
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return { dir: join(maskDir, 'd'), file: join(maskDir, 'f') };
}

function hostNamespaces(names: readonly string[]): string {
  return names.map((n) => readlinkSync(`/proc/self/ns/${n}`)).join(',');
}

function resolvConfUnderRun(): string | null {
  try {
    const r = realpathSync('/etc/resolv.conf');
    return isWithin(r, '/run') ? r : null;
  } catch {
    return null;
  }
}

/** Prefix of the line the helper prints when every layer is in place. */
export const READY_PREFIX = 'codex-sandbox-helper: ready ';

/** The shared fail-closed admission check (network mode, command, rung, isolation, guarantees). */

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
    // Right after a command exits, what is left is usually processes still finishing their
    // exit: look again after 1 ms first, so a normal run is not
    // held up by a fixed 5 ms; a tree that keeps forking gets the longer waits.
    await sleep(i < 5 ? 1 : i < 15 ? 5 : 20);
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
  const hygiene = requestEnv(request, process.env);

  const mechanisms = assessment.mechanisms;
  const sandboxed = !assessment.skipped && mechanisms.some((m) => m !== 'cgroup-pids');
  const home = homedir();
  // The launchers are never run from a place this run may write (a planted bwrap or helper
  // would run unconfined next time).
  for (const [name, p] of [
    ['helper', probe.helperPath],
    ['bwrap', mechanisms.includes('bwrap') ? probe.bwrapPath : null],
  ] as const) {
    if (sandboxed && p && policy.writableRoots.some((w) => isWithin(p, w.root))) {
      throw new SandboxSetupError(
        `sandbox setup failed: the ${name} at ${p} lies inside the writable root; install it elsewhere or set CODEX_SANDBOX_HELPER to a root-owned copy`,
        '',
      );
    }
  }
  // Git: what must stay read-only, what a linked worktree's commit writes, and protected names
  // that do not exist yet (created empty now, so that they are protected like the others).
  const git = sandboxed ? gitLayout(policy, home) : null;
  const protectedNow: string[] = [];
  if (git) {
    for (const p of git.create) {
      try {
        mkdirSync(p, { recursive: true });
      } catch (e) {
        throw new SandboxSetupError(
          `sandbox setup failed: cannot create protected ${p}: ${(e as NodeJS.ErrnoException).code}`,
          '',
        );
      }
    }
    protectedNow.push(...new Set([...git.protected, ...git.create]));
    protectedNow.sort();
  }
  const secrets = sandboxed ? secretsToMask(policy, home) : [];
  const useNs = mechanisms.includes('helper-ns') && !mechanisms.includes('bwrap');
  const nonce = sandboxed ? randomBytes(8).toString('hex') : null;
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
      !useNs &&
      mechanisms.includes('landlock')
    ) {
      privateTmpDir = mkdtempSync(join(tmpdir(), 'codex-sbx-tmp-'));
      const dir = privateTmpDir;
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    }
    // Egress (`proxied`): a per-run proxy on Unix sockets, bridged into the sandbox's netns.
    let egressEnv: Readonly<Record<string, string>> = {};
    let egressBinds: readonly string[] = [];
    let forwards: readonly string[] = [];
    if (policy.network.mode === 'proxied' && !assessment.skipped) {
      requireNetns(policy, mechanisms);
      const bridge = await startEgressBridge(request as EgressSandboxRequest, mechanisms);
      cleanups.push(() => bridge.close());
      ({ forwards, env: egressEnv, binds: egressBinds } = bridge);
    }
    const plan = planLaunch({
      policy,
      mechanisms,
      command: request.command,
      egressBinds,
      forwards,
      cwd,
      helperPath: probe.helperPath,
      bwrapPath: probe.bwrapPath,
      cgroupDir,
      privateTmpDir,
      protectedPaths: protectedNow,
      gitWritable: git?.writable ?? [],
      pinned: git?.pinned ?? [],
      denyRead: secrets,
      masks: secrets.length > 0 && (mechanisms.includes('bwrap') || useNs) ? maskSources() : null,
      nonce,
      hostNs: mechanisms.includes('bwrap')
        ? hostNamespaces(['pid', 'mnt', 'ipc', 'uts', ...(policy.network.mode === 'none' ? ['net'] : [])])
        : null,
      resolvConf: resolvConfUnderRun(),
      gate: request.startWhen !== undefined,
    });
    const env = { ...hygiene.env, ...egressEnv, ...plan.env };
    // Without the helper in the launch nothing can hold the command back: wait before spawning.
    if (request.startWhen && plan.gateFd === null) await request.startWhen;
    return await execute(plan.argv, {
      ...request,
      gate: plan.gateFd === null ? undefined : request.startWhen,
      cwd,
      timeoutMs,
      cap,
      env,
      cgroupDir,
      assessment,
      stripped: hygiene.stripped,
      cgroupProcsFd: plan.cgroupProcsFd,
      processLimit: cgroupDir ? `cgroup-v${probe.cgroup?.version} pids.max=${maxProcesses}` : 'none',
      nonce,
      secrets: secrets.map((x) => x.path),
      mustNotAppear: git?.mustNotAppear ?? [],
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
  /** Pass the cgroup's `cgroup.procs` to the launcher as fd 3 (the helper inside bwrap joins through it). */
  readonly cgroupProcsFd: boolean;
  readonly assessment: Assessment;
  readonly stripped: readonly string[];
  readonly processLimit: string;
  /** The helper's ready-line nonce (null: no helper in the launch). */
  readonly nonce: string | null;
  readonly secrets: readonly string[];
  readonly mustNotAppear: readonly string[];
  /** The helper waits on the descriptor after the cgroup's for this promise (see `--gate`). */
  readonly gate: Promise<unknown> | undefined;
}

/** Drops the helper's ready line from live stderr (it precedes anything the command prints). */
function readyFilter(
  nonce: string,
  forward: ((stream: OutputStream, chunk: Uint8Array) => void) | undefined,
): (stream: OutputStream, chunk: Uint8Array) => void {
  let pending: Buffer | null = Buffer.alloc(0);
  const marker = Buffer.from(`${READY_PREFIX}${nonce}`);
  return (stream, chunk) => {
    if (stream !== 'stderr' || pending === null) return forward?.(stream, chunk);
    pending = Buffer.concat([pending, chunk]);
    const at = pending.indexOf(marker);
    if (at >= 0) {
      const end = pending.indexOf(10, at);
      if (end < 0) return;
      const rest = Buffer.concat([pending.subarray(0, at), pending.subarray(end + 1)]);
      pending = null;
      if (rest.length > 0) forward?.('stderr', rest);
      return;
    }
    // Setup messages (bwrap, the helper) come before the marker; hold them at most 64 KiB.
    if (pending.length > 65536) {
      forward?.('stderr', pending);
      pending = null;
    }
  };
}

async function execute(argv: readonly string[], o: ExecOptions): Promise<SandboxResult> {
  // Spawn, output caps, timeout, abort and tree kill are the shared runner's; Linux adds the
  // per-run cgroup to what "the whole tree" means.
  const onOutput = o.nonce ? readyFilter(o.nonce, o.onOutput) : o.onOutput;
  const procsFd =
    o.cgroupProcsFd && o.cgroupDir ? openSync(join(o.cgroupDir, 'cgroup.procs'), constants.O_WRONLY) : null;
  let raw: Awaited<ReturnType<typeof runCaptured>>;
  try {
    raw = await runCaptured(argv, {
      cwd: o.cwd,
      env: o.env,
      timeoutMs: o.timeoutMs,
      maxOutputBytes: o.cap,
      ...(o.stdin ? { stdin: o.stdin } : {}),
      ...(onOutput ? { onOutput } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(procsFd === null ? {} : { extraFds: [procsFd] }),
      ...(o.gate ? { gate: o.gate } : {}),
      killTree: async (child) => {
        killGroup(child.pid);
        if (o.cgroupDir) await killCgroup(o.cgroupDir);
      },
    });
  } finally {
    if (procsFd !== null) closeSync(procsFd);
  }
  const { exitCode: code, stderr: rawStderr } = raw;
  // The rung is proven only by the helper's ready line: every layer was applied before exec.
  let proven = o.nonce === null;
  let stderr = rawStderr;
  if (o.nonce) {
    const re = new RegExp(`^${READY_PREFIX}${o.nonce}[^\n]*\n`, 'm');
    const m = re.exec(rawStderr);
    if (m) {
      proven = true;
      stderr = rawStderr.slice(0, m.index) + rawStderr.slice(m.index + m[0].length);
    }
  }
  const run = { ...raw, stderr };
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
  if (!proven && !raw.timedOut && !o.signal?.aborted && !raw.stderrTruncated) {
    throw new SandboxSetupError(
      `sandbox setup failed: the launch did not prove rung "${o.assessment.rung}" (no ready line from the helper)`,
      stderr,
    );
  }
  const observedDenials = findObservedDenials(stderr).map((d) =>
    d.kind === 'permission' && o.secrets.some((p) => d.evidence.includes(p))
      ? { ...d, kind: 'secret-read' as const }
      : d,
  );
  // A file whose creation would redirect git to other config is removed and reported.
  for (const p of o.mustNotAppear) {
    try {
      lstatSync(p);
    } catch {
      continue;
    }
    rmSync(p, { recursive: true, force: true });
    observedDenials.push({
      kind: 'permission',
      evidence: `codex: removed ${p}, created by the sandboxed command (it would redirect git to other config)`,
    });
  }
  return assembleResult(run, {
    assessment: o.assessment,
    strippedEnv: o.stripped,
    processLimit: o.processLimit,
    observedDenials,
  });
}
