import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import {
  type BackendStatus,
  forcedRung,
  type MechanismStatus,
  type RungStatus,
  selectRung,
} from '@codex/sandbox-contract';

/** Absolute, never looked up in PATH (a PATH entry must not be able to replace it). */
export const SANDBOX_EXEC_PATH = '/usr/bin/sandbox-exec';

export const MACOS_RUNGS = [
  { id: 'seatbelt', label: 'Seatbelt (sandbox-exec)', mechanisms: ['seatbelt'] },
  { id: 'none', label: 'no sandbox (timeout, output caps and process-group kill only)', mechanisms: [] },
] as const;

export interface MacosProbeOptions {
  readonly refresh?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For tests on other systems: the platform to assume (default `process.platform`). */
  readonly platform?: string;
  /** For tests: another sandbox-exec binary (default {@link SANDBOX_EXEC_PATH}). */
  readonly sandboxExecPath?: string;
}

export interface MacosProbe {
  readonly status: BackendStatus;
  /** The sandbox-exec that worked, or null. */
  readonly sandboxExecPath: string | null;
}

/** A trivial profile: proves sandbox_init works here (it fails inside an already sandboxed process). */
const PROBE_PROFILE = '(version 1)(allow default)';

function trySandboxExec(path: string): Promise<string | null> {
  return new Promise((done) => {
    execFile(path, ['-p', PROBE_PROFILE, '/usr/bin/true'], { timeout: 10_000 }, (err, _out, stderr) => {
      if (!err) return done(null);
      const why = String(stderr).trim().split('\n')[0] || err.message;
      done(`${path} cannot apply a profile here: ${why}`);
    });
  });
}

let cached: { key: string; value: Promise<MacosProbe> } | undefined;

/**
 * Probes Seatbelt: on macOS, `/usr/bin/sandbox-exec` must exist and apply a trivial profile.
 * Never throws for a missing mechanism (it is reported); throws {@link InvalidRungError} for an
 * unknown forced rung.
 */
export function probeMacos(options: MacosProbeOptions = {}): Promise<MacosProbe> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const path = options.sandboxExecPath ?? SANDBOX_EXEC_PATH;
  const forced = forcedRung(env, MACOS_RUNGS, 'macOS');
  const key = `${platform}\0${path}\0${forced}`;
  if (!options.refresh && cached?.key === key) return cached.value;
  const value = (async (): Promise<MacosProbe> => {
    let reason: string | null;
    if (platform !== 'darwin') {
      reason = `Seatbelt exists only on macOS (this is ${platform})`;
    } else {
      try {
        accessSync(path, constants.X_OK);
        reason = await trySandboxExec(path);
      } catch {
        reason = `${path} is missing or not executable`;
      }
    }
    const seatbelt: MechanismStatus = {
      id: 'seatbelt',
      label: 'Seatbelt',
      available: reason === null,
      reason: reason ?? `${path} applies profiles`,
      // Seatbelt has no per-sandbox process count (RLIMIT_NPROC is per user), no private /tmp
      // and no syscall filter in the Linux sense: those guarantees are reported as missing.
      // `file-write*` denied outside the roots covers mode, owner, times and xattrs (metadata);
      // `(deny file-read* …)` covers the deny-read list. Host sockets are not restricted yet.
      provides: [
        'filesystem-write',
        'protected-paths',
        'network',
        'process-isolation',
        'metadata',
        'secrets',
      ],
      details: { sandboxExec: path },
    };
    const rungs: RungStatus[] = MACOS_RUNGS.map((r) => ({
      id: r.id,
      label: r.label,
      mechanisms: [...r.mechanisms],
      available: r.mechanisms.every(() => seatbelt.available),
      missing: r.mechanisms.filter(() => !seatbelt.available),
    }));
    return {
      status: {
        backend: 'macos',
        platform: `${platform}-${process.arch}`,
        mechanisms: [seatbelt],
        rungs,
        forced,
        ...selectRung(rungs, forced, 'none'),
      },
      sandboxExecPath: seatbelt.available ? path : null,
    };
  })();
  cached = { key, value };
  return value;
}
