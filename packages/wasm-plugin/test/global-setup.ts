import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the package (the worker thread runs dist/worker.js) and every test plugin from source
 * with clang/wat2wasm, so CI exercises the toolchain on each run. Outside CI=true a machine
 * without clang (wasm32-wasi) or wabt builds what it can; the files that need plugins are then
 * skipped with the reason, and test/toolchain.test.ts checks the build script's message.
 */
export default async function setup(project: TestProject): Promise<void> {
  execFileSync('pnpm', ['exec', 'tsup', '--silent'], { cwd: root, stdio: 'inherit' });
  const script = join(root, 'scripts', 'build-plugins.mjs');
  const { buildPlugins, TOOLS } = (await import(script)) as {
    // With skipMissing the result lists what was left out; without it (CI=true) a missing tool
    // throws and the result is the plain { name: path } map.
    buildPlugins: (out: string, o: { skipMissing: boolean }) => Promise<{ missing?: string[] }>;
    TOOLS: Record<string, string>;
  };
  const { missing = [] } = await buildPlugins(join(root, 'plugins', 'build'), {
    skipMissing: process.env.CI !== 'true',
  });
  const reason = missing.map((t) => `${t} (Debian: ${TOOLS[t]})`).join(', ');
  if (reason)
    console.warn(
      `wasm-plugin tests: plugin toolchain missing: ${reason}; tests that run plugins are skipped`,
    );
  project.provide('pluginToolchainMissing', reason);
}

declare module 'vitest' {
  export interface ProvidedContext {
    pluginToolchainMissing: string;
  }
}
