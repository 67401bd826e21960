// Compiles native/codex-sandbox-helper.c with the machine's C compiler into dist/. Never
// downloads anything. The flags come from native/build.json, the same list the run-time
// fallback (src/probe.ts) uses: one build path.
//
// A failed compilation is an error (exit 1) and leaves no binary behind: an older helper in
// dist/ is removed first, so a stale binary can never pass for the current source. Without any
// C compiler the helper is simply not built (exit 0, said loudly; the probe then offers only the
// `none` rung and says why) unless CI=true or CODEX_REQUIRE_HELPER=1, where that is an error too.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'codex-sandbox-helper.c');
const { cflags } = JSON.parse(readFileSync(join(root, 'native', 'build.json'), 'utf8'));
const out = process.env.CODEX_HELPER_OUT || join(root, 'dist', 'codex-sandbox-helper');
const required = process.env.CI === 'true' || process.env.CODEX_REQUIRE_HELPER === '1';
mkdirSync(dirname(out), { recursive: true });

if (process.platform !== 'linux') {
  console.log(`codex-sandbox-helper: not built (platform ${process.platform} is not linux)`);
  process.exit(0);
}
rmSync(out, { force: true });
const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
for (const cc of candidates) {
  const tmp = `${out}.tmp-${process.pid}`;
  const r = spawnSync(cc, [...cflags, '-o', tmp, source], { stdio: 'inherit' });
  if (r.error?.code === 'ENOENT') continue;
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    console.error(
      `codex-sandbox-helper: BUILD FAILED: ${cc} ${cflags.join(' ')} exited ${r.status ?? r.error}`,
    );
    process.exit(1);
  }
  chmodSync(tmp, 0o755);
  // Atomic replace so a concurrently running sandbox never executes a half-written file.
  renameSync(tmp, out);
  console.log(`codex-sandbox-helper: built ${out} with ${cc} ${cflags.join(' ')}`);
  process.exit(0);
}
console.error(
  'codex-sandbox-helper: NOT BUILT: no C compiler (cc, gcc, clang) found; only the "none" rung will be offered',
);
process.exit(required ? 1 : 0);
