// Compiles native/codex-sandbox-win.c into dist/codex-sandbox-win.exe with a MinGW-w64 compiler
// found on this machine: x86_64-w64-mingw32-gcc (Debian package mingw-w64) when cross-compiling,
// or gcc on Windows. Never downloads anything. Without a compiler it says so and exits 0 (the
// probe then reports the helper as missing); CODEX_REQUIRE_WINDOWS_HELPER=1 makes that an error.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native', 'codex-sandbox-win.c');
const out = join(root, 'dist', 'codex-sandbox-win.exe');
const candidates =
  process.platform === 'win32' ? ['gcc', 'x86_64-w64-mingw32-gcc'] : ['x86_64-w64-mingw32-gcc'];

function works(cc) {
  try {
    execFileSync(cc, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const cc = candidates.find(works);
if (!cc) {
  const msg = `codex-sandbox-win: no MinGW-w64 compiler (${candidates.join(', ')}); helper not built`;
  if (process.env.CODEX_REQUIRE_WINDOWS_HELPER === '1') {
    console.error(msg);
    process.exit(1);
  }
  console.warn(msg);
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
execFileSync(
  cc,
  [
    '-municode',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-static',
    '-o',
    out,
    src,
    '-ladvapi32',
    '-lshell32',
    '-luserenv',
  ],
  { stdio: 'inherit' },
);
console.log(`built ${out} with ${cc}`);
