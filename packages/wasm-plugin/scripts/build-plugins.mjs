#!/usr/bin/env node
// Builds the example and hostile plugins in ../plugins from source:
//   *.c   → clang --target=wasm32-wasi -O2 (Debian: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)
//   *.wat → wat2wasm                        (Debian: wabt)
//   *.wat with a sibling *.wit → a WASI 0.2 component: wat2wasm, then jco's wasm-tools
//         componentEmbed (the world) + componentNew (npm: @bytecodealliance/jco-transpile)
// Usage: node scripts/build-plugins.mjs [outDir]   (default: plugins/build)
// Also importable: `await buildPlugins(outDir)` resolves to { name: absolutePath }.
// A missing tool is an error naming it and its Debian package; with `{ skipMissing: true }` the
// plugins that need it are left out and listed in the result's `missing` instead (the test suite
// does that outside CI=true, so a machine without clang or wabt runs the rest).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PLUGIN_SOURCES = resolve(here, '..', 'plugins');

/** The tools the plugins are built with, and the Debian packages that provide them. */
export const TOOLS = {
  clang: 'clang, lld, wasi-libc, libclang-rt-14-dev-wasm32',
  wat2wasm: 'wabt',
};

/** Which of TOOLS are missing here (clang must also have the wasm32-wasi target and libc). */
export function missingTools() {
  const missing = [];
  const probe = spawnSync('clang', ['--target=wasm32-wasi', '-print-file-name=libc.a'], { encoding: 'utf8' });
  const libc = probe.status === 0 ? probe.stdout.trim() : '';
  if (!libc || libc === 'libc.a') missing.push('clang');
  if (spawnSync('wat2wasm', ['--version']).status !== 0) missing.push('wat2wasm');
  return missing;
}

export async function buildPlugins(outDir = join(PLUGIN_SOURCES, 'build'), { skipMissing = false } = {}) {
  mkdirSync(outDir, { recursive: true });
  const absent = missingTools();
  if (absent.length > 0 && !skipMissing) {
    const list = absent.map((t) => `${t} (Debian: ${TOOLS[t]})`).join(', ');
    throw new Error(`build-plugins: missing ${list}; install them or run .ci/install-apt`);
  }
  const built = {};
  const skipped = [];
  for (const file of readdirSync(PLUGIN_SOURCES).sort()) {
    const src = join(PLUGIN_SOURCES, file);
    const tool = file.endsWith('.c') ? 'clang' : file.endsWith('.wat') ? 'wat2wasm' : undefined;
    if (tool && absent.includes(tool)) {
      skipped.push(file);
      continue;
    }
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
  return skipMissing ? { built, missing: absent, skipped } : built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const built = await buildPlugins(process.argv[2] ? resolve(process.argv[2]) : undefined);
    for (const [name, path] of Object.entries(built)) console.log(`${name}\t${path}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
