import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Assessment,
  admit,
  assembleResult,
  assessRung,
  type BackendStatus,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  requestEnv,
  type SandboxBackend,
  type SandboxRequest,
  type SandboxResult,
  SandboxSetupError,
} from '@codex/sandbox-contract';
import { runCaptured } from '@codex/sandbox-contract/process';
import { DEFAULT_DENY_READ, expandHome, type SandboxPolicy } from '@codex/security-profile';
import { checkSeatbeltProfile } from './check.js';
import { SeatbeltProfileRejectedError } from './errors.js';
import { type MacosProbe, type MacosProbeOptions, probeMacos } from './probe.js';
import { generateSeatbeltProfile } from './profile.js';
import { canonicalizePolicy, canonicalPath, resolveProtectedPaths } from './resolve.js';

export interface MacosLaunchPlan {
  readonly argv: readonly string[];
  readonly profile: string | null;
  readonly env: Readonly<Record<string, string>>;
  readonly tmpDir: string | null;
}

/**
 * Builds what will be spawned: `sandbox-exec -p <profile> -- <command…>` with a checked profile,
 * or the bare command when the sandbox is skipped or the rung is `none`. The profile is checked
 * with {@link checkSeatbeltProfile} before use; a finding is a {@link SeatbeltProfileRejectedError}.
 */
export function planMacosLaunch(input: {
  readonly policy: SandboxPolicy;
  readonly assessment: Assessment;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly sandboxExecPath: string | null;
  readonly tmpDir: string | null;
}): MacosLaunchPlan {
  if (input.assessment.skipped || !input.assessment.mechanisms.includes('seatbelt')) {
    return { argv: input.command, profile: null, env: input.env, tmpDir: null };
  }
  if (!input.sandboxExecPath)
    throw new SandboxSetupError('Seatbelt selected but sandbox-exec is not available');
  const policy = canonicalizePolicy(input.policy);
  const home = homedir();
  const denyRead = [...new Set((policy.denyRead ?? DEFAULT_DENY_READ).map((p) => expandHome(p, home)))]
    .filter((p) => p.startsWith('/'))
    .map(canonicalPath);
  const options = {
    extraProtectedPaths: resolveProtectedPaths(policy),
    ...(input.tmpDir ? { tmpDir: canonicalPath(input.tmpDir) } : {}),
    ...(denyRead.length > 0 ? { denyRead } : {}),
  };
  const profile = generateSeatbeltProfile(policy, options);
  const violations = checkSeatbeltProfile(profile, policy, options);
  if (violations.length > 0) throw new SeatbeltProfileRejectedError(violations);
  const env = input.tmpDir ? { ...input.env, TMPDIR: `${options.tmpDir}/` } : input.env;
  return {
    argv: [input.sandboxExecPath, '-p', profile, '--', ...input.command],
    profile,
    env,
    tmpDir: input.tmpDir,
  };
}

/** Adds what only the macOS backend knows: why Seatbelt is missing, and how /tmp is handled. */
function withMacosNotes(a: Assessment, policy: SandboxPolicy, status: BackendStatus): Assessment {
  if (a.skipped) return a;
  const notes = [...a.notes];
  const seatbelt = status.mechanisms.find((m) => m.id === 'seatbelt');
  if (!a.mechanisms.includes('seatbelt') && seatbelt && !seatbelt.available) {
    notes.unshift(`Seatbelt unavailable: ${seatbelt.reason}`);
  }
  if (a.mechanisms.includes('seatbelt') && policy.privateTmp) {
    notes.push('private-tmp: /tmp stays read-only; TMPDIR is a fresh directory removed on exit');
  }
  return { ...a, notes };
}

/** sandbox-exec's own failures (bad profile, sandbox_init refused) start with its name. */
const SETUP_FAILURE = /^sandbox-exec: /m;

async function runMacos(request: SandboxRequest, probe: MacosProbe): Promise<SandboxResult> {
  const assessment = withMacosNotes(admit(request, probe.status), request.policy, probe.status);
  const hygiene = requestEnv(request, process.env);
  const sandboxed = !assessment.skipped && assessment.mechanisms.includes('seatbelt');
  // Seatbelt cannot give a private /tmp; a fresh TMPDIR is the next best thing (/tmp stays read-only).
  const tmpDir =
    sandboxed && request.policy.privateTmp ? mkdtempSync(join(tmpdir(), 'codex-sbx-tmp-')) : null;
  try {
    const plan = planMacosLaunch({
      policy: request.policy,
      assessment,
      command: request.command,
      env: hygiene.env,
      sandboxExecPath: probe.sandboxExecPath,
      tmpDir,
    });
    const r = await runCaptured(plan.argv, {
      cwd: request.cwd ?? process.cwd(),
      env: plan.env,
      timeoutMs: request.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxOutputBytes: request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      ...(request.stdin ? { stdin: request.stdin } : {}),
      ...(request.onOutput ? { onOutput: request.onOutput } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (sandboxed && r.exitCode !== 0 && SETUP_FAILURE.test(r.stderr) && !r.stdout) {
      const line = r.stderr.split('\n').find((l) => SETUP_FAILURE.test(l));
      throw new SandboxSetupError(`sandbox setup failed: ${line}`, r.stderr);
    }
    return assembleResult(r, { assessment, strippedEnv: hygiene.stripped, processLimit: 'none' });
  } finally {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * The macOS backend: Seatbelt through `/usr/bin/sandbox-exec -p`, degrading to `none` (and
 * refusing non-trusted profiles unless `allowDegraded`) when sandbox-exec is missing or refuses.
 */
export function createMacosSandbox(options: Omit<MacosProbeOptions, 'refresh'> = {}): SandboxBackend {
  const get = (refresh = false) => probeMacos({ ...options, refresh });
  return {
    id: 'macos',
    async probe(o = {}): Promise<BackendStatus> {
      return (await get(o.refresh === true)).status;
    },
    assess(policy: SandboxPolicy, status: BackendStatus, rung?: string): Assessment {
      return withMacosNotes(assessRung(policy, status, rung ?? status.selected), policy, status);
    },
    async run(request: SandboxRequest): Promise<SandboxResult> {
      const status = await get();
      // sandbox-exec applies the profile at exec: there is nothing to set up ahead of the go-ahead.
      if (request.startWhen) await request.startWhen;
      return runMacos(request, status);
    },
  };
}

/** The default backend instance (probes `process.env`). */
export const macosSandbox: SandboxBackend = createMacosSandbox();
