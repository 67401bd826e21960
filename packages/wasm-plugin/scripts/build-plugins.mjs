#!/usr/bin/env node
// Builds the example and hostile plugins in ../plugins from source:
//   *.c   → clang --target=wasm32-wasi -O2 (Debian: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)
//   *.wat → wat2wasm                        (Debian: wabt)
// Usage: node scripts/build-plugins.mjs [outDir]   (default: plugins/build)
// Also importable: `await buildPlugins(outDir)` returns { name: absolutePath }.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PLUGIN_SOURCES = resolve(here, '..', 'plugins');

export function buildPlugins(outDir = join(PLUGIN_SOURCES, 'build')) {
  mkdirSync(outDir, { recursive: true });
  const built = {};
  for (const file of readdirSync(PLUGIN_SOURCES).sort()) {
    const src = join(PLUGIN_SOURCES, file);
    if (file.endsWith('.c')) {
      const name = basename(file, '.c');
      const out = join(outDir, `${name}.wasm`);
      execFileSync('clang', ['--target=wasm32-wasi', '-O2', '-Wall', '-Werror', '-s', '-o', out, src], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      built[name] = out;
    } else if (file.endsWith('.wat')) {
      const name = basename(file, '.wat');
      const out = join(outDir, `${name}.wasm`);
      execFileSync('wat2wasm', [src, '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
      built[name] = out;
    }
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = buildPlugins(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const [name, path] of Object.entries(built)) console.log(`${name}\t${path}`);
}
