import { chmodSync, chownSync, linkSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  codexCacheDir,
  ownCacheDir,
  privateDir,
  readPrivateFile,
  writePrivateFile,
} from '../src/state-dirs.js';

const posix = process.platform !== 'win32';
const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'codex-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!posix)('codex state: where it lives', () => {
  it('the user cache is XDG_CACHE_HOME (absolute) or ~/.cache; without a home there is none of our own', () => {
    expect(ownCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/codex');
    expect(ownCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: '/x' })).toBe('/x/codex');
    expect(ownCacheDir({ HOME: '/home/u', XDG_CACHE_HOME: 'relative' })).toBe('/home/u/.cache/codex');
    expect(ownCacheDir({})).toBeUndefined();
    // The path the sandboxes protect still exists without a home: under the temp directory.
    expect(codexCacheDir({})).toBe(join(tmpdir(), '.cache', 'codex'));
  });
});

describe.skipIf(!posix)('codex state: private files', () => {
  it('a private file is written whole (mode 0600) and read back', () => {
    const d = scratch();
    const f = join(d, 'entry');
    writePrivateFile(f, 'data');
    expect(readPrivateFile(f)?.toString()).toBe('data');
  });
  it('is never read through a symlink, a second hard link, or when group/other may write it', () => {
    const d = scratch();
    const f = join(d, 'entry');
    writePrivateFile(f, 'data');
    symlinkSync(f, join(d, 'link'));
    expect(readPrivateFile(join(d, 'link'))).toBeUndefined();
    linkSync(f, join(d, 'hard'));
    expect(readPrivateFile(f)).toBeUndefined();
    rmSync(join(d, 'hard'));
    chmodSync(f, 0o620);
    expect(readPrivateFile(f)).toBeUndefined();
    chmodSync(f, 0o600);
    expect(readPrivateFile(f)?.toString()).toBe('data');
  });
  it.skipIf(process.getuid?.() !== 0)('is never read when another user owns it (run as root: chown)', () => {
    const d = scratch();
    const f = join(d, 'entry');
    writeFileSync(f, 'data', { mode: 0o600 });
    chownSync(f, 65534, 65534);
    expect(readPrivateFile(f)).toBeUndefined();
  });
  it('privateDir makes a 0700 directory and refuses one others may write, or a symlink', () => {
    const d = scratch();
    expect(privateDir(join(d, 'a', 'b'))).toBe(true);
    const open = join(d, 'open');
    expect(privateDir(open)).toBe(true);
    chmodSync(open, 0o777);
    expect(privateDir(open)).toBe(false);
    symlinkSync(join(d, 'a'), join(d, 'alias'));
    expect(privateDir(join(d, 'alias'))).toBe(false);
  });
});
