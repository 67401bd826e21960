// Compiles native/codex-sandbox-helper.c with the machine's C compiler into dist/.
// Never downloads anything. Without a compiler it prints why and exits 0: the probe then
// reports the Landlock and seccomp layers as unavailable (honest degradation), never faked.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'codex-sandbox-helper.c');
const out = join(root, 'dist', 'codex-sandbox-helper');
mkdirSync(dirname(out), { recursive: true });

if (process.platform !== 'linux') {
  console.log(`codex-sandbox-helper: not built (platform ${process.platform} is not linux)`);
  process.exit(0);
}
const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
for (const cc of candidates) {
  const tmp = `${out}.tmp-${process.pid}`;
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, source], { stdio: 'inherit' });
  if (r.error?.code === 'ENOENT') continue;
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    console.error(
      `codex-sandbox-helper: ${cc} failed (exit ${r.status}); Landlock/seccomp will be reported unavailable`,
    );
    process.exit(0);
  }
  // Atomic replace so a concurrently running sandbox never executes a half-written file.
  renameSync(tmp, out);
  console.log(`codex-sandbox-helper: built ${out} with ${cc}`);
  process.exit(0);
}
console.error(
  'codex-sandbox-helper: no C compiler (cc, gcc, clang) found; Landlock/seccomp will be reported unavailable',
);
