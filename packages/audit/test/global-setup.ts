import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Several tests run the *built* package in child processes (concurrency, crash, ESM/CJS
 * consumers). Rebuild first when dist is missing or older than src, so they never test stale code.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
  let built = 0;
  try {
    built = Math.min(
      statSync(join(root, 'dist/index.js')).mtimeMs,
      statSync(join(root, 'dist/index.cjs')).mtimeMs,
    );
  } catch {}
  if (built < newest(join(root, 'src'))) {
    const tsup = join(dirname(createRequire(join(root, 'package.json')).resolve('tsup')), 'cli-default.js');
    execFileSync(process.execPath, [tsup], { cwd: root, stdio: 'ignore' });
  }
}
