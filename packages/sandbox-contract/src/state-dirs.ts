import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * Codex's per-user cache when it lies in the user's own space: `$XDG_CACHE_HOME/codex` (when
 * that is absolute), else `~/.cache/codex`; `%LOCALAPPDATA%\codex` on Windows. Without a home it
 * is `undefined`, never the shared temp directory: a directory there can be taken over by whoever
 * owns its parent, so nothing that must be trusted (compiled code, the probe) is kept there.
 */
export function ownCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform === 'win32') return env.LOCALAPPDATA ? join(env.LOCALAPPDATA, 'codex') : undefined;
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  const base = xdg ?? (env.HOME ? join(env.HOME, '.cache') : undefined);
  return base ? join(base, 'codex') : undefined;
}

/**
 * Codex's per-user cache ({@link ownCacheDir}), or without a home `.cache/codex` under the temp
 * directory. It holds the sandbox probe, the helper fallback and the CLI's compiled code, so the
 * sandboxes keep it read-only inside a writable workspace (the path to protect always exists).
 */
export function codexCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = ownCacheDir(env);
  if (own) return own;
  const os = process.getBuiltinModule('node:os') as typeof import('node:os');
  return join(os.tmpdir(), '.cache', 'codex');
}

/**
 * A file or directory only this user can have written: ours and not writable by group or
 * others (on Windows, only its kind is checked; the ACLs of the user's profile apply).
 */
export function privateTo(st: Stats, dir: boolean): boolean {
  const kind = dir ? st.isDirectory() : st.isFile();
  if (process.platform === 'win32') return kind;
  return kind && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

/** Creates `path` (mode 0700) when missing; true when it is then a directory private to us, not a link. */
export function privateDir(path: string): boolean {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return privateTo(lstatSync(path), true);
  } catch {
    return false;
  }
}

/**
 * The content of `path` when it is a regular file private to us with a single link, opened
 * without following a symlink (a planted link or a hard link to someone else's file is never
 * read); else `undefined`.
 */
export function readPrivateFile(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const st = fstatSync(fd);
    if (!privateTo(st, false) || st.nlink !== 1) return undefined;
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) return undefined;
      off += n;
    }
    return buf;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `path` whole or not at all (a temporary file renamed over it), mode 0600. */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, path);
}
