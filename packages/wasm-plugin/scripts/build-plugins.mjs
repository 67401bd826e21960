#!/usr/bin/env node
// Builds the example and hostile plugins in ../plugins from source:
//   *.c   → clang --target=wasm32-wasi -O2 (Debian: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)
//   *.wat → wat2wasm                        (Debian: wabt)
//   *.wat with a sibling *.wit → a WASI 0.2 component: wat2wasm, then jco's wasm-tools
//         componentEmbed (the world) + componentNew (npm: @bytecodealliance/jco-transpile)
// Usage: node scripts/build-plugins.mjs [outDir]   (default: plugins/build)
// Also importable: `await buildPlugins(outDir)` resolves to { name: absolutePath }.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PLUGIN_SOURCES = resolve(here, '..', 'plugins');

export async function buildPlugins(outDir = join(PLUGIN_SOURCES, 'build')) {
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
      const wit = join(PLUGIN_SOURCES, `${name}.wit`);
      if (existsSync(wit)) {
        const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
        const embedded = await componentEmbed({
          binary: readFileSync(out),
          witSource: readFileSync(wit, 'utf8'),
          world: name,
        });
        writeFileSync(out, await componentNew(embedded));
      }
      built[name] = out;
    }
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildPlugins(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const [name, path] of Object.entries(built)) console.log(`${name}\t${path}`);
}
