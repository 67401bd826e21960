// The wasm-plugin package's example plugin sources, and whether this machine can build them.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** `@codex/wasm-plugin`'s `plugins/` folder (C and WAT sources). */
export const SOURCES = join(
  dirname(createRequire(import.meta.url).resolve('@codex/wasm-plugin/package.json')),
  'plugins',
);

/** clang with the wasm32-wasi target and libc; required under CI=true. */
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
