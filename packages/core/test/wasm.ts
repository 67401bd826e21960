// Test plugins for core's tests: built from @codex/wasm-plugin's C sources with clang (wasm32-wasi).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const SOURCES = join(
  dirname(createRequire(import.meta.url).resolve('@codex/wasm-plugin/package.json')),
  'plugins',
);

/** clang with the wasm32-wasi target and libc is missing; never under CI=true (CI requires it). */
export function clangMissing(): boolean {
  if (process.env.CI === 'true') return false;
  try {
    const libc = execFileSync('clang', ['--target=wasm32-wasi', '-print-file-name=libc.a'], {
      encoding: 'utf8',
    }).trim();
    return libc === '' || libc === 'libc.a';
  } catch {
    return true;
  }
}

/** Builds the plugin `<name>.c` of @codex/wasm-plugin into `<dir>/<name>.wasm`; returns its path. */
export function buildPlugin(name: string, dir: string): string {
  const out = join(dir, `${name}.wasm`);
  execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-s', '-o', out, join(SOURCES, `${name}.c`)]);
  return out;
}
