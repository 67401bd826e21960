import { InvalidPathError } from './errors.js';

/**
 * Pure path helpers (no `node:path`, so this package runs in browsers and editor hosts).
 * Both POSIX (`/home/a`) and Windows (`C:\Users\a`, `\\server\share`) absolute paths are understood.
 */

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
const WINDOWS_UNC = /^[\\/]{2}[^\\/]+[\\/][^\\/]+/;

const isSlash = (c: number) => c === 47 || c === 92; // '/' or '\\'

export function isWindowsPath(path: string): boolean {
  // Neither pattern can match unless the second character is ':' (drive) or a slash (UNC): the
  // policy engine asks this of every path it checks, so the regexes run only when they might.
  const c1 = path.charCodeAt(1);
  if (c1 === 58) return WINDOWS_DRIVE.test(path);
  return isSlash(c1) && isSlash(path.charCodeAt(0)) && WINDOWS_UNC.test(path);
}

/**
 * True when `path` is a POSIX absolute path already in normal form: no empty, `.` or `..`
 * segment, no trailing slash (but `/` itself), no NUL, and not a UNC path (`//server/share`).
 */
function isNormalPosix(path: string): boolean {
  if (path.charCodeAt(0) !== 47) return false;
  if (path.length === 1) return true;
  // `/\\server\\share` (a slash, then a backslash) is a UNC path: the Windows rules apply.
  if (path.charCodeAt(1) === 92) return false;
  let start = 1; // where the current segment begins
  for (let i = 1; i <= path.length; i++) {
    const c = i === path.length ? 47 : path.charCodeAt(i);
    if (c === 0) return false;
    if (c !== 47) continue;
    const len = i - start;
    if (len === 0) return false;
    if (path.charCodeAt(start) === 46 && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 46)))
      return false;
    start = i + 1;
  }
  return true;
}

export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || isWindowsPath(path);
}

/**
 * Normalises an absolute path: collapses `.`, `..`, repeated and trailing separators.
 * Windows paths keep `\` as separator and an upper-case drive letter. Throws {@link InvalidPathError}
 * for relative paths, NUL bytes, or `..` that would climb above the root.
 */
export function normalizeAbsolutePath(path: string): string {
  if (isNormalPosix(path)) return path;
  if (path.includes('\0')) throw new InvalidPathError(path, 'contains a NUL byte');
  if (!isAbsolutePath(path)) throw new InvalidPathError(path, 'must be absolute');
  const windows = isWindowsPath(path);
  let prefix: string;
  let rest: string;
  if (windows && WINDOWS_DRIVE.test(path)) {
    prefix = `${path[0]!.toUpperCase()}:\\`;
    rest = path.slice(3);
  } else if (windows) {
    const m = /^[\\/]{2}([^\\/]+)[\\/]([^\\/]+)/.exec(path)!;
    prefix = `\\\\${m[1]}\\${m[2]}\\`;
    rest = path.slice(m[0].length);
  } else {
    prefix = '/';
    rest = path;
  }
  const parts: string[] = [];
  for (const part of rest.split(windows ? /[\\/]+/ : /\/+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new InvalidPathError(path, "'..' climbs above the root");
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  const sep = windows ? '\\' : '/';
  return prefix + parts.join(sep);
}

/** Joins an absolute base with a relative child, then normalises. */
export function joinPath(base: string, child: string): string {
  const sep = isWindowsPath(base) ? '\\' : '/';
  return normalizeAbsolutePath(base.endsWith(sep) ? base + child : base + sep + child);
}

/**
 * True when `path` equals `root` or lies beneath it. Both must be normalised absolute paths.
 * Windows paths compare case-insensitively.
 */
export function isWithin(path: string, root: string): boolean {
  const windows = isWindowsPath(root);
  const p = windows ? path.toLowerCase() : path;
  const r = windows ? root.toLowerCase() : root;
  if (p === r) return true;
  const sep = windows ? '\\' : '/';
  return p.startsWith(r.endsWith(sep) ? r : r + sep);
}
