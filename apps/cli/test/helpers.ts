import { type ChildProcessByStdio, type ChildProcessWithoutNullStreams, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export const BIN = fileURLToPath(new URL('../dist/bin.cjs', import.meta.url));

type Main = (argv: string[], version: string, io: object) => Promise<number>;

/**
 * dist/main.cjs's `main`, loaded as bin.cjs loads it (the file is one function expression), for a
 * test that passes its own streams.
 */
export function loadMain(): Main {
  const file = join(dirname(BIN), 'main.cjs');
  const wrapper = new Script(readFileSync(file, 'latin1'), { filename: file }).runInThisContext() as (
    ...args: unknown[]
  ) => void;
  const module = { exports: {} as { main: Main } };
  wrapper(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports.main;
}

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

/**
 * Reads a child's stdout only after `delayMs` of not reading it, then to the end: a consumer that
 * starts late. Resolves with the exit code (at 'close') and everything written.
 */
export async function readLate(
  child: ChildProcessWithoutNullStreams | ChildProcessByStdio<Writable | null, Readable, null>,
  delayMs = 300,
): Promise<{ code: number | null; out: string }> {
  child.stdout.pause();
  await new Promise((r) => setTimeout(r, delayMs));
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stdout.resume();
  const code = await new Promise<number | null>((r) => child.once('close', r));
  return { code, out: Buffer.concat(chunks).toString() };
}

/** @codex/wasm-plugin's script that builds its example and hostile plugins from C/WAT sources. */
export const BUILD_PLUGINS = join(
  dirname(createRequire(import.meta.url).resolve('@codex/wasm-plugin/package.json')),
  'scripts',
  'build-plugins.mjs',
);

/**
 * The plugin tools this machine lacks (clang for wasm32-wasi, wat2wasm), '' when it has them
 * all. Always '' under CI=true, where the build itself then fails loudly instead of skipping.
 */
export async function pluginToolsMissing(): Promise<string> {
  if (process.env.CI === 'true') return '';
  const { missingTools } = (await import(BUILD_PLUGINS)) as { missingTools: () => string[] };
  return missingTools().join(', ');
}

let full: boolean | undefined;

/**
 * Whether this machine's sandbox offers the full rung (bwrap + Landlock + seccomp + cgroups).
 * Tests of what the full rung does skip without it outside CI=true; CI=true requires it. What a
 * machine without it gets is tested everywhere by test/degraded.test.ts, which hides bwrap.
 */
export function fullRung(): boolean {
  if (full !== undefined) return full;
  const r = codex(['sandbox', 'status', '--json']);
  const status = JSON.parse(r.stdout) as {
    best: string;
    mechanisms: { id: string; available: boolean; reason?: string }[];
  };
  full = status.best === 'full';
  if (!full && process.env.CI === 'true') {
    const missing = status.mechanisms.filter((m) => !m.available).map((m) => `${m.id}: ${m.reason}`);
    throw new Error(
      `CI=true requires the full sandbox rung; best here is ${status.best} (${missing.join('; ')})`,
    );
  }
  return full;
}
