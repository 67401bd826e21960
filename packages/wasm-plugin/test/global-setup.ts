import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds the package (the worker thread runs dist/worker.js) and every test plugin from source
 * with clang/wat2wasm, so CI exercises the toolchain on each run.
 */
export default function setup(): void {
  execFileSync('pnpm', ['exec', 'tsup', '--silent'], { cwd: root, stdio: 'inherit' });
  execFileSync('node', ['scripts/build-plugins.mjs', join(root, 'plugins', 'build')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
