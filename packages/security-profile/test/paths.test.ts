import { describe, expect, it } from 'vitest';
import { isWindowsPath, normalizeAbsolutePath } from '../src/index.js';

/** The normalisation spelled out plainly: split, drop `.` and empty parts, pop on `..`. */
function reference(path: string): string | Error {
  if (path.includes('\0')) return new Error('nul');
  const drive = /^[A-Za-z]:[\\/]/.test(path);
  const unc = /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.exec(path);
  if (!drive && !unc && !path.startsWith('/')) return new Error('relative');
  const windows = drive || unc !== null;
  const prefix = drive
    ? `${path[0]!.toUpperCase()}:\\`
    : unc
      ? `\\\\${unc[0].slice(2).replace('/', '\\')}\\`
      : '/';
  const rest = drive ? path.slice(3) : unc ? path.slice(unc[0].length) : path;
  const parts: string[] = [];
  for (const part of rest.split(windows ? /[\\/]+/ : /\/+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return new Error('climbs');
      parts.pop();
    } else parts.push(part);
  }
  return prefix + parts.join(windows ? '\\' : '/');
}

/** Every string of length 1..`max` over `alphabet`. */
function* strings(alphabet: string, max: number): Generator<string> {
  let level = [''];
  for (let n = 1; n <= max; n++) {
    const next: string[] = [];
    for (const s of level) for (const c of alphabet) next.push(s + c);
    yield* next;
    level = next;
  }
}

describe('normalizeAbsolutePath', () => {
  it('agrees with the plain reference on every path of up to 6 of / \\ . : C a NUL', () => {
    const wrong: string[] = [];
    let n = 0;
    for (const path of strings('/\\.:Ca\0', 6)) {
      const want = reference(path);
      let got: string | Error;
      try {
        got = normalizeAbsolutePath(path);
      } catch (error) {
        got = error as Error;
      }
      if (want instanceof Error ? !(got instanceof Error) : got !== want) wrong.push(JSON.stringify(path));
      n++;
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(n).toBeGreaterThan(130_000);
  });

  it('returns a path already in normal form unchanged (the fast path) and normalises the rest', () => {
    expect(normalizeAbsolutePath('/home/me/proj')).toBe('/home/me/proj');
    expect(normalizeAbsolutePath('/')).toBe('/');
    expect(normalizeAbsolutePath('/home/.me/..proj/...')).toBe('/home/.me/..proj/...');
    expect(normalizeAbsolutePath('/home/me/./proj/')).toBe('/home/me/proj');
    expect(normalizeAbsolutePath('/home/me/../you')).toBe('/home/you');
    expect(normalizeAbsolutePath('//server/share/x')).toBe('\\\\server\\share\\x');
    expect(() => normalizeAbsolutePath('/home/\0/x')).toThrow(/NUL/);
    expect(() => normalizeAbsolutePath('/..')).toThrow(/climbs above the root/);
  });
});

describe('isWindowsPath', () => {
  it('is a drive path or a UNC path, nothing else', () => {
    for (const p of ['C:\\x', 'c:/x', '\\\\srv\\share', '//srv/share/x'])
      expect(isWindowsPath(p), p).toBe(true);
    for (const p of ['/x', 'C:', 'C:x', '//srv', '\\\\srv', '', 'a', '/:x', '1:\\x'])
      expect(isWindowsPath(p), p).toBe(false);
  });
});
