// Compiles native/codex-sandbox-helper.c with the machine's C compiler into dist/ (after tsup:
// the compile itself is src/helper-build.ts, built to dist/helper-build.js, the same the probe's
// run-time fallback uses, with the flags of native/build.json: one build path). Never downloads
// anything.
//
// A failed compilation is an error (exit 1) and leaves no binary behind: an older helper in
// dist/ is removed first, so a stale binary can never pass for the current source. Without any
// C compiler the helper is simply not built (exit 0, said loudly; the probe then offers only the
// `none` rung and says why) unless CI=true or CODEX_REQUIRE_HELPER=1, where that is an error too.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileHelper, HELPER_NAME, helperFlags, helperSource } from '../dist/helper-build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { cflags, staticFlags } = helperFlags();
const out = process.env.CODEX_HELPER_OUT || join(root, 'dist', HELPER_NAME);
const required = process.env.CI === 'true' || process.env.CODEX_REQUIRE_HELPER === '1';
mkdirSync(dirname(out), { recursive: true });

if (process.platform !== 'linux') {
  console.log(`codex-sandbox-helper: not built (platform ${process.platform} is not linux)`);
  process.exit(0);
}
rmSync(out, { force: true });
const r = compileHelper({
  source: helperSource(),
  out,
  cflags,
  staticFlags,
  cc: process.env.CC,
  build: true,
});
if (r.ok) {
  const linkFlags = r.linked === 'static' ? ` ${staticFlags.join(' ')}` : '';
  console.log(
    `codex-sandbox-helper: built ${out} with ${r.cc} ${cflags.join(' ')}${linkFlags} (${r.linked})`,
  );
  process.exit(0);
}
if (r.cc !== null) {
  console.error(
    `codex-sandbox-helper: BUILD FAILED: ${r.cc} ${cflags.join(' ')} exited ${r.status ?? r.error}`,
  );
  process.exit(1);
}
console.error(
  'codex-sandbox-helper: NOT BUILT: no C compiler (cc, gcc, clang) found; only the "none" rung will be offered',
);
process.exit(required ? 1 : 0);
