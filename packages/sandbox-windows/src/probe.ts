import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BackendStatus,
  forcedRung,
  type MechanismStatus,
  type RungStatus,
  selectRung,
} from '@codex/sandbox-contract';

export const HELPER_NAME = 'codex-sandbox-win.exe';

export const WINDOWS_RUNGS = [
  { id: 'appcontainer', label: 'AppContainer + Job Object', mechanisms: ['appcontainer', 'job-object'] },
  {
    id: 'restricted-token',
    label: 'restricted token + Job Object (no AppContainer: network NOT blocked)',
    mechanisms: ['restricted-token', 'job-object'],
  },
  { id: 'job-only', label: 'Job Object only (limits, no isolation)', mechanisms: ['job-object'] },
  { id: 'none', label: 'no sandbox', mechanisms: [] },
] as const;

const PROVIDES: Record<string, MechanismStatus['provides']> = {
  appcontainer: ['filesystem-write', 'protected-paths', 'network', 'process-isolation'],
  'restricted-token': ['filesystem-write', 'protected-paths'],
  'job-object': ['process-limit'],
};
const LABELS: Record<string, string> = {
  appcontainer: 'AppContainer',
  'restricted-token': 'restricted token (write-restricted)',
  'job-object': 'Job Object',
};

/** Where the package build puts the helper (dist/, next to this module once bundled). */
export function defaultHelperPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, HELPER_NAME), join(here, '..', 'dist', HELPER_NAME)];
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export interface WindowsProbeOptions {
  readonly refresh?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The platform to assume (default `process.platform`). `win32` with a `launcher` runs under wine. */
  readonly platform?: string;
  readonly helperPath?: string;
  /** Prefix for running the helper, e.g. `['wine64']` on Linux. */
  readonly launcher?: readonly string[];
}

export interface WindowsProbe {
  readonly status: BackendStatus;
  readonly helperPath: string | null;
  readonly launcher: readonly string[];
}

/** Parses the helper's `--probe` output (`name=ok` or `name=unavailable <reason>` per line). */
export function parseHelperProbe(text: string): Record<string, { ok: boolean; reason: string }> {
  const out: Record<string, { ok: boolean; reason: string }> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([a-z-]+)=(ok|unavailable)\s*(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = { ok: m[2] === 'ok', reason: m[3] ?? '' };
  }
  return out;
}

function runHelperProbe(argv: readonly string[]): Promise<{ out: string; error: string | null }> {
  return new Promise((done) => {
    execFile(argv[0]!, [...argv.slice(1), '--probe'], { timeout: 60_000 }, (err, stdout, stderr) =>
      done({ out: String(stdout), error: err ? String(stderr).trim().split('\n')[0] || err.message : null }),
    );
  });
}

let cached: { key: string; value: Promise<WindowsProbe> } | undefined;

/** Probes AppContainer, restricted tokens and Job Objects by asking the helper to try each. */
export function probeWindows(options: WindowsProbeOptions = {}): Promise<WindowsProbe> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const helper = options.helperPath ?? defaultHelperPath();
  const launcher = options.launcher ?? [];
  const forced = forcedRung(env, WINDOWS_RUNGS, 'Windows');
  const key = [platform, helper, ...launcher, forced].join('\0');
  if (!options.refresh && cached?.key === key) return cached.value;
  const value = (async (): Promise<WindowsProbe> => {
    let results: Record<string, { ok: boolean; reason: string }> = {};
    let common: string | null = null;
    if (platform !== 'win32')
      common = `AppContainer and Job Objects exist only on Windows (this is ${platform})`;
    else if (!existsSync(helper)) common = `helper ${helper} not built (needs a C compiler: mingw-w64 gcc)`;
    else {
      const r = await runHelperProbe([...launcher, helper]);
      if (r.error) common = `helper --probe failed: ${r.error}`;
      else results = parseHelperProbe(r.out);
    }
    const mechanisms: MechanismStatus[] = ['appcontainer', 'restricted-token', 'job-object'].map((id) => {
      const r = results[id === 'job-object' ? 'job' : id];
      return {
        id,
        label: LABELS[id]!,
        available: common === null && r?.ok === true,
        reason: common ?? (r ? (r.ok ? 'the helper created one' : r.reason) : 'not reported by the helper'),
        provides: PROVIDES[id]!,
      };
    });
    const ok = (m: string) => mechanisms.find((x) => x.id === m)?.available === true;
    const rungs: RungStatus[] = WINDOWS_RUNGS.map((r) => ({
      id: r.id,
      label: r.label,
      mechanisms: [...r.mechanisms],
      available: r.mechanisms.every(ok),
      missing: r.mechanisms.filter((m) => !ok(m)),
    }));
    return {
      status: {
        backend: 'windows',
        platform: `${platform}-${process.arch}`,
        mechanisms,
        rungs,
        forced,
        ...selectRung(rungs, forced, 'none'),
      },
      helperPath: common === null ? helper : null,
      launcher,
    };
  })();
  cached = { key, value };
  return value;
}
