// Where bwrap and the helper may come from: fixed paths whose every component is owned by root
// (or, for the helper, by the user running codex) and writable by nobody else. Never PATH, never
// a directory a sandboxed run could write (a planted `.venv/bin/bwrap` ran unconfined before).
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

/** Fixed locations searched for bubblewrap, in order. */
export const BWRAP_PATHS = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'] as const;

/**
 * Why `path` may not be trusted as an executable we launch, or null when it may: its real path
 * and every parent directory must be owned by root (or by one of `owners`) and not writable by
 * group or others. A world-writable sticky directory (/tmp) is accepted as a parent only when
 * the entry below it is owned by a trusted owner (nobody else can rename it there).
 */
export function untrustedReason(path: string, owners: readonly number[] = [0]): string | null {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    return `${path}: ${(e as NodeJS.ErrnoException).code ?? 'cannot resolve'}`;
  }
  const ok = new Set([0, ...owners]);
  let child: Stats | null = null;
  for (let p = real; ; p = dirname(p)) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch (e) {
      return `${p}: ${(e as NodeJS.ErrnoException).code ?? 'cannot stat'}`;
    }
    if (!ok.has(st.uid))
      return `${p} is owned by uid ${st.uid}, not root${owners.length ? ' or the codex user' : ''}`;
    const sticky = (st.mode & 0o1000) !== 0;
    if ((st.mode & 0o022) !== 0 && !(st.isDirectory() && sticky && child && ok.has(child.uid))) {
      return `${p} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
    }
    if (p === '/') break;
    child = st;
  }
  return null;
}

/** The first trusted bwrap among the fixed paths, with the reasons the others were refused. */
export function findTrustedBwrap(candidates: readonly string[] = BWRAP_PATHS): {
  path: string | null;
  refused: string[];
} {
  const refused: string[] = [];
  for (const c of candidates) {
    try {
      lstatSync(c);
    } catch {
      continue;
    }
    const why = untrustedReason(c);
    if (why === null) return { path: c, refused };
    refused.push(why);
  }
  return { path: null, refused };
}
