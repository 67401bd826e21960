// Locating the helper and a way to run Windows programs here: natively on Windows, under wine64
// on Linux when it is installed (Debian package wine64), otherwise not at all (tests skip, visibly).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const HELPER = join(root, 'dist', 'codex-sandbox-win.exe');

export function findCompiler(): string | null {
  for (const cc of process.platform === 'win32'
    ? ['gcc', 'x86_64-w64-mingw32-gcc']
    : ['x86_64-w64-mingw32-gcc']) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      /* next */
    }
  }
  return null;
}

export function findWine(): string | null {
  if (process.platform === 'win32') return null;
  for (const w of ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine']) if (existsSync(w)) return w;
  return null;
}

/** How to run a Windows executable here, or null. */
export function windowsRunner(): {
  launcher: string[];
  env: NodeJS.ProcessEnv;
  toWin: (p: string) => string;
} | null {
  if (process.platform === 'win32') return { launcher: [], env: process.env, toWin: (p) => p };
  const wine = findWine();
  if (!wine) return null;
  const prefix = process.env.WINEPREFIX ?? join(tmpdir(), 'codex-wineprefix');
  return {
    launcher: [wine],
    env: { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all' },
    toWin: (p) => `Z:${p.replace(/\//g, '\\')}`,
  };
}

/** Compiles test/native/win-probe.c (the test program) into a fresh directory. */
export function buildWinProbe(cc: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'codex-win-probe-'));
  const out = join(dir, 'win-probe.exe');
  execFileSync(cc, [
    '-municode',
    '-O1',
    '-o',
    out,
    join(root, 'test', 'native', 'win-probe.c'),
    '-lshell32',
    '-lws2_32',
  ]);
  return out;
}
