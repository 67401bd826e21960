/**
 * Node-side git lookups the backends share (`@codex/sandbox-contract/git`): where a writable
 * root's `.git` leads beyond itself. A worktree or submodule has a `.git` *file* (`gitdir: …`)
 * pointing at its real git dir, a worktree's git dir names the shared repository in `commondir`,
 * and any of them may set `core.hooksPath`: git runs those hooks and reads that config outside
 * the sandbox, so each is protected like `.git` itself.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { hooksPathFromGitConfig } from './git.js';

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The target of a `gitdir: …` file, resolved against the file's directory (null if `dotGit` is no such file). */
export function gitdirOf(dotGit: string): string | null {
  try {
    if (!statSync(dotGit).isFile()) return null;
  } catch {
    return null;
  }
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(readText(dotGit) ?? '');
  if (!m?.[1]) return null;
  return isAbsolute(m[1]) ? m[1] : resolve(dirname(dotGit), m[1]);
}

/** The shared repository a worktree's git dir names in `commondir` (null when it names none). */
export function commonDirOf(gitDir: string): string | null {
  const c = readText(join(gitDir, 'commondir'))?.trim();
  if (!c) return null;
  return isAbsolute(c) ? c : resolve(gitDir, c);
}

/** `core.hooksPath` of a git dir's `config`, resolved against the work tree (null if unset or unreadable). */
export function configHooksPath(gitDir: string, workTree: string): string | null {
  const text = readText(join(gitDir, 'config'));
  if (text === null) return null;
  try {
    const v = hooksPathFromGitConfig(text);
    return v ? (isAbsolute(v) ? v : resolve(workTree, v)) : null;
  } catch {
    return null;
  }
}

/**
 * Every path a writable root's `.git` leads to that must be protected with it: the `gitdir:`
 * target, that git dir's `commondir`, and the `core.hooksPath` of each of them (and of `.git`
 * itself when it is a directory). Not canonicalised; empty when there is nothing beyond `.git`.
 */
export function linkedGitPaths(dotGit: string, workTree: string): string[] {
  const out: string[] = [];
  const gitDirs = [dotGit];
  const target = gitdirOf(dotGit);
  if (target) {
    out.push(target);
    gitDirs.push(target);
    const common = commonDirOf(target);
    if (common) {
      out.push(common);
      gitDirs.push(common);
    }
  }
  for (const g of gitDirs) {
    const hooks = configHooksPath(g, workTree);
    if (hooks) out.push(hooks);
  }
  return out;
}
