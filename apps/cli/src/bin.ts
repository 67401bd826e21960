#!/usr/bin/env node
// The process entry. It must stay tiny: `codex --version` is answered here without loading
// anything else, so it costs about as much as `node -e 0`.
//
// Everything else is in one file, dist/main.cjs (see tsup.config.ts). This entry compiles it with
// V8's code cache: the compiled code of the functions a command ran is kept on disk, per command,
// and the next run of that command skips parsing and compiling them. On this project's 2-core
// machine that is about a third of `codex exec -- true`'s own time (docs/benchmarks.md).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
// Built into this file (tsup.config.ts): the same rules as the sandbox probe's cache.
import { ownCacheDir, privateDir, readPrivateFile, writePrivateFile } from '@codex/sandbox-contract/state';

declare const __CODEX_VERSION__: string;

/** main.ts's `main`: it sets `process.exitCode` itself. */
type Main = (argv: string[], version: string) => Promise<number>;

/** Set to `0` to compile without the cache. Node's own `NODE_DISABLE_COMPILE_CACHE` is honoured too. */
const CACHE_ENV = 'CODEX_COMPILE_CACHE';
/** Set to `1` to have the cache's outcome (hit, miss, rejected, off) printed on stderr. */
const DEBUG_ENV = 'CODEX_DEBUG_COMPILE_CACHE';

const debug = (msg: string) => {
  if (process.env[DEBUG_ENV] === '1') process.stderr.write(`codex: compile cache: ${msg}\n`);
};

/**
 * Where compiled code is kept: the user's own cache directory (`ownCacheDir`: never the shared
 * temp directory), unless switched off. The sandboxes keep it read-only inside a writable
 * workspace (`codexCacheDir` in `toSandboxPolicy`'s `protectedPaths`). Every directory on the way
 * must be private to us and every entry a private regular file (`privateDir`, `readPrivateFile`):
 * this is code this process will run.
 */
function cacheRoot(env: NodeJS.ProcessEnv): string | undefined {
  if (env[CACHE_ENV] === '0' || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  return ownCacheDir(env);
}

/**
 * The first word that looks like a command: each command keeps the code it runs. A run that asks
 * for help keeps its own entry: it runs none of the command's work, and an entry made by it would
 * leave every later run of the command compiling that work itself (measured: `codex policy check`
 * 9-14 ms slower, every run, after a first `codex policy --help`).
 */
function commandName(argv: readonly string[]): string {
  const dashdash = argv.indexOf('--');
  const head = dashdash === -1 ? argv : argv.slice(0, dashdash);
  if (head.includes('--help') || head.includes('-h')) return 'help';
  const word = head.find((a) => !a.startsWith('-'));
  return word && /^[a-z][a-z-]{0,23}$/.test(word) ? word : 'other';
}

function run(main: Main): void {
  Promise.resolve()
    .then(() => main(process.argv.slice(2), __CODEX_VERSION__))
    .then(undefined, (error: unknown) => {
      process.stderr.write(`codex: error: ${String(error)}\n`);
      process.exitCode = 1;
    });
}

/** node:v8 costs ~5 ms to load: only when a flag must be set. */
const setFlagsFromString = (flags: string) =>
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);

/** The only V8 flag a command may set (run-flags.ts `oneShotWasm`); a cache entry records it. */
const KNOWN_FLAGS = new Set(['', '--liftoff-only']);
const FLAGS_MARK = Symbol.for('codex.v8Flags');

/**
 * A cache entry: a line with the V8 flags the command set, a line with the SHA-256 of the rest,
 * then V8's cached data. V8 does not check that data (a damaged entry crashes the process), so
 * the digest is checked first. It guards against damage, not an attacker: one who can write here
 * could write the digest too, which is why the entry and its directories must be private.
 */
function parseEntry(buf: Buffer | undefined): { flags: string; data: Buffer; intact: boolean } | undefined {
  const nl1 = buf?.indexOf(10) ?? -1;
  const nl2 = nl1 < 0 ? -1 : (buf?.indexOf(10, nl1 + 1) ?? -1);
  if (!buf || nl2 < 0) return undefined;
  const flags = buf.subarray(0, nl1).toString('latin1');
  if (!KNOWN_FLAGS.has(flags)) return undefined;
  const data = buf.subarray(nl2 + 1);
  return { flags, data, intact: buf.subarray(nl1 + 1, nl2).toString('latin1') === sha256(data) };
}

function formatEntry(flags: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${flags}\n${sha256(data)}\n`, 'latin1'), data]);
}

const sha256 = (data: Buffer) =>
  (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(data).digest('hex');

/** Saves the command's compiled code when the process ends (so the functions it ran are in it). */
function saveAtExit(script: Script, root: string, dir: string, cachePath: string): void {
  process.once('exit', (code) => {
    // A usage or configuration error (exit 2) stopped before the command's work: the entry is
    // left to a run that does it, for the reason given at commandName.
    if (code === 2) return debug('not written: usage error');
    try {
      const flags = String((globalThis as Record<symbol, unknown>)[FLAGS_MARK] ?? '');
      const dirs = [root, join(root, 'v8-cache'), dir];
      if (dirs.every(privateDir) && KNOWN_FLAGS.has(flags)) {
        writePrivateFile(cachePath, formatEntry(flags, script.createCachedData()));
        debug(`wrote ${cachePath}`);
      }
    } catch (error) {
      debug(`not written: ${String(error)}`);
    }
  });
}

/**
 * Compiles the bundle (one function expression, see tsup.config.ts) with the command's cached
 * code when there is a usable entry under `root`; without `root`, plainly.
 */
function compile(file: string, root: string | undefined): Script {
  // The bundle as latin1: the build keeps it ASCII (checked in test/bundle.test.ts), and latin1
  // makes a one-byte string without a UTF-8 decode.
  const fd = openSync(file, 'r');
  const st = fstatSync(fd);
  const source = Buffer.allocUnsafe(st.size);
  readSync(fd, source, 0, st.size, 0);
  closeSync(fd);
  if (!root) {
    debug('off');
    return new Script(source.toString('latin1'), { filename: file });
  }
  const key = `${process.version}-${process.arch}-${st.size}-${Math.trunc(st.mtimeMs)}-${st.ino}`;
  const dir = join(root, 'v8-cache', key);
  const cachePath = join(dir, `${commandName(process.argv.slice(2))}.bin`);
  const found = parseEntry(readPrivateFile(cachePath));
  const entry = found?.intact ? found : undefined;
  // V8 accepts cached code only under the flags it was made with: set the command's flag first.
  if (entry?.flags) setFlagsFromString(entry.flags);
  const script = new Script(source.toString('latin1'), {
    filename: file,
    ...(entry ? { cachedData: entry.data } : {}),
  });
  const hit = entry !== undefined && script.cachedDataRejected !== true;
  debug(`${hit ? 'hit' : found ? 'rejected' : 'miss'} ${cachePath}`);
  if (!hit) saveAtExit(script, root, dir, cachePath);
  return script;
}

function start(): void {
  const file = join(__dirname, 'main.cjs');
  const script = compile(file, cacheRoot(process.env));
  // The bundle's dynamic imports (scripts/bundle-plugin.ts `codexImport`) run here: V8 loses the
  // import callback of code that comes from the cache.
  (globalThis as Record<symbol, unknown>)[Symbol.for('codex.import')] = (spec: string) => import(spec);
  const module = { exports: {} as { main: Main } };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  run(module.exports.main);
}

const first = process.argv[2];
if ((first === '--version' || first === '-V') && process.argv.length === 3) {
  process.stdout.write(`codex ${__CODEX_VERSION__}\n`);
} else {
  try {
    start();
  } catch (error) {
    process.stderr.write(`codex: error: failed to start: ${String(error)}\n`);
    process.exitCode = 1;
  }
}
