// The shipped form of the CLI: dist/bin.cjs (the entry) and dist/main.cjs (the CLI and every
// @codex/* library in one file), and the compiled-code cache bin.cjs keeps for it.
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, codex } from './helpers.js';

const MAIN = join(BIN, '..', 'main.cjs');

let xdg: string;
beforeEach(() => {
  xdg = mkdtempSync(join(tmpdir(), 'codex-xdg-'));
});
afterEach(() => rmSync(xdg, { recursive: true, force: true }));

/** Runs codex with the cache under `xdg` and its outcome printed; returns the outcome lines. */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = codex(args, { env: { XDG_CACHE_HOME: xdg, CODEX_DEBUG_COMPILE_CACHE: '1', ...env } });
  const cache = [...r.stderr.matchAll(/^codex: compile cache: (\S+)/gm)].map((m) => m[1]);
  const stderr = r.stderr.replace(/^codex: compile cache: .*\n/gm, '');
  return { ...r, stderr, cache };
}

function entries(): string[] {
  const root = join(xdg, 'codex', 'v8-cache');
  return existsSync(root)
    ? readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.bin'))
    : [];
}
const entryPath = (name: string) =>
  join(xdg, 'codex', 'v8-cache', entries().find((e) => e.endsWith(`/${name}.bin`))!);

describe('the shipped files', () => {
  it('bin.cjs requires only Node built-ins, and --version touches no cache', () => {
    const text = readFileSync(BIN, 'utf8');
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    for (const id of required) expect(isBuiltin(id), id).toBe(true);
    expect(run(['--version']).cache).toEqual([]);
    expect(existsSync(join(xdg, 'codex'))).toBe(false);
  });

  it('main.cjs is ASCII, holds every @codex library, and imports dynamically only through bin.cjs', () => {
    const text = readFileSync(MAIN, 'latin1');
    expect(/[^\x00-\x7f]/.test(text)).toBe(false); // bin.cjs reads it as latin1
    // One function expression (CommonJS's wrapper, written out), which bin.cjs compiles as it is.
    expect(text.startsWith('(function (exports, require, module, __filename, __dirname) {\n')).toBe(true);
    expect(text).toMatch(/\n\}\)\n\/\/# sourceMappingURL=main\.cjs\.map\n?$/);
    expect(text).not.toMatch(/require\("@codex\//);
    // One import() is left: the fallback of codexImport, for a main.cjs loaded without bin.cjs.
    expect(text.match(/(?<![\w$.])import\(/g)).toHaveLength(1);
    expect(text).toMatch(/Symbol\.for\("codex\.import"\)\];return \w+\?\w+\(\w+\):import\(\w+\)/);
  });
});

describe('the compiled-code cache', () => {
  it('a command writes its entry at exit and the next run uses it, with the same output', () => {
    const first = run(['profile', 'list']);
    expect(first.status).toBe(0);
    expect(first.cache).toEqual(['miss', 'wrote']);
    const second = run(['profile', 'list']);
    expect(second.cache).toEqual(['hit']);
    expect({ ...second, cache: [] }).toEqual({ ...first, cache: [] });
    // Private to the user: directories 0700, entries 0600.
    const path = entryPath('profile');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(xdg, 'codex', 'v8-cache')).mode & 0o777).toBe(0o700);
  });

  it('a command that switches V8 to baseline wasm (a script for the bash parser) still hits its entry', () => {
    const args = ['policy', 'check', '--script', 'for f in a b; do echo "$f"; done'];
    expect(run(args).cache).toEqual(['miss', 'wrote']);
    const flags = () => readFileSync(entryPath('policy')).toString('latin1').split('\n')[0];
    expect(flags()).toBe('--liftoff-only');
    const again = run(args);
    expect(again.cache).toEqual(['hit']);
    expect(again.stdout).toMatch(/^allow/);
    // Argv needs no parser, so no flag (and no node:v8) on a fresh entry for it.
    rmSync(join(xdg, 'codex'), { recursive: true });
    expect(run(['policy', 'check', '--', 'ls', '-la']).cache).toEqual(['miss', 'wrote']);
    expect(flags()).toBe('');
  });

  it('a run that shows help or fails on its flags leaves the command entry to a run that works', () => {
    // Help has its own entry (it runs none of the command's work) ...
    expect(run(['policy', '--help']).cache).toEqual(['miss', 'wrote']);
    expect(entries().map((e) => e.split('/').pop())).toEqual(['help.bin']);
    expect(run(['exec', '-h']).cache).toEqual(['hit']);
    // ... a usage error writes nothing ...
    const bad = run(['policy', 'check', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.cache).toEqual(['miss', 'not']);
    expect(entries().map((e) => e.split('/').pop())).toEqual(['help.bin']);
    // ... and the first real run writes the command's entry, which the next run uses.
    expect(run(['policy', 'check', '--', 'ls']).cache).toEqual(['miss', 'wrote']);
    expect(run(['policy', 'check', '--', 'ls']).cache).toEqual(['hit']);
    // `--help` after `--` belongs to the command being checked: that is the command's own run.
    expect(run(['policy', 'check', '--', 'ls', '--help']).cache).toEqual(['hit']);
  });

  it('a damaged entry is refused and rewritten; the command runs as before', () => {
    const first = run(['profile', 'list']);
    const path = entryPath('profile');
    const bytes = readFileSync(path);
    // Given to V8, this data aborts the process ("Fatal error ... unreachable code"): the digest
    // in the entry's header keeps it from V8.
    bytes.fill(0x41, 200);
    writeFileSync(path, bytes);
    const second = run(['profile', 'list']);
    expect(second.cache).toEqual(['rejected', 'wrote']);
    expect(second.stdout).toBe(first.stdout);
    expect(run(['profile', 'list']).cache).toEqual(['hit']);
    writeFileSync(path, 'not an entry');
    expect(run(['profile', 'list']).cache).toEqual(['miss', 'wrote']);
  });

  it('an entry others could have written is never read; a shared directory gets no entry', () => {
    run(['profile', 'list']);
    const path = entryPath('profile');
    chmodSync(path, 0o620);
    expect(run(['profile', 'list']).cache).toEqual(['miss', 'wrote']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const dir = join(path, '..');
    rmSync(path);
    chmodSync(dir, 0o777);
    expect(run(['profile', 'list']).cache).toEqual(['miss']);
    expect(existsSync(path)).toBe(false);
  });

  it('a symlink or a second hard link in place of an entry is never read', () => {
    run(['profile', 'list']);
    const path = entryPath('profile');
    const elsewhere = join(xdg, 'elsewhere.bin');
    renameSync(path, elsewhere);
    symlinkSync(elsewhere, path);
    expect(run(['profile', 'list']).cache).toEqual(['miss', 'wrote']);
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    rmSync(path);
    linkSync(elsewhere, path);
    expect(run(['profile', 'list']).cache).toEqual(['miss', 'wrote']);
    expect(statSync(path).nlink).toBe(1);
  });

  it('CODEX_COMPILE_CACHE=0 and NODE_DISABLE_COMPILE_CACHE turn it off', () => {
    expect(run(['profile', 'list'], { CODEX_COMPILE_CACHE: '0' }).cache).toEqual(['off']);
    expect(run(['profile', 'list'], { NODE_DISABLE_COMPILE_CACHE: '1' }).cache).toEqual(['off']);
    expect(existsSync(join(xdg, 'codex'))).toBe(false);
  });
});
