import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `codex` with an isolated CODEX_HOME (created unless given). */
export function codex(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; home?: string } = {},
): RunResult {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'codex-home-'));
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      input: opts.input,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home, ...opts.env },
      timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (!opts.home) rmSync(home, { recursive: true, force: true });
  }
}
