import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { hooksPathFromGitConfig } from '@codex/sandbox-contract';
import { isWithin, normalizeAbsolutePath, type SandboxPolicy } from '@codex/security-profile';

/** The canonical form of `p` (symlinks resolved, `/var` → `/private/var`); unchanged when absent. */
export function canonicalPath(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    // A path that does not exist yet: canonicalise its nearest existing ancestor.
    const parent = dirname(p);
    if (parent === p) return p;
    return resolve(canonicalPath(parent), p.slice(parent.length + (parent.endsWith('/') ? 0 : 1)));
  }
}

/**
 * Seatbelt matches resolved paths, so a profile that names `/var/folders/…` or a symlinked
 * workspace would match nothing. Returns the policy with every root and protected path canonical.
 */
export function canonicalizePolicy(policy: SandboxPolicy): SandboxPolicy {
  return {
    ...policy,
    readableRoots: policy.readableRoots.map(canonicalPath),
    writableRoots: policy.writableRoots.map((w) => {
      const root = canonicalPath(w.root);
      return {
        root,
        // Protected names are re-joined under the canonical root (the `.git` itself may be a symlink).
        readOnlySubpaths: w.readOnlySubpaths.map((p) =>
          isWithin(p, w.root) ? normalizeAbsolutePath(root + p.slice(w.root.length)) : canonicalPath(p),
        ),
      };
    }),
  };
}

function gitdirOf(dotGit: string): string | null {
  try {
    if (!statSync(dotGit).isFile()) return null;
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
    if (!m) return null;
    return isAbsolute(m[1]!) ? m[1]! : resolve(dirname(dotGit), m[1]!);
  } catch {
    return null;
  }
}

function readConfigHooksPath(gitDir: string, workTree: string): string | null {
  try {
    const v = hooksPathFromGitConfig(readFileSync(resolve(gitDir, 'config'), 'utf8'));
    return v ? (isAbsolute(v) ? v : resolve(workTree, v)) : null;
  } catch {
    return null;
  }
}

/**
 * Extra protected paths of each writable root: where `.git` is a file (`gitdir: …`, worktrees and
 * submodules), its target and the target's `commondir` (a worktree's shared repository, where
 * hooks and config live); where `.git` is a symlink, its target; and a `core.hooksPath`
 * directory configured in the repository (git runs those hooks outside the sandbox).
 * Canonical paths.
 */
export function resolveProtectedPaths(policy: SandboxPolicy): string[] {
  const out = new Set<string>();
  for (const w of policy.writableRoots) {
    for (const p of w.readOnlySubpaths) {
      if (!p.endsWith('/.git') || !existsSync(p)) continue;
      const real = canonicalPath(p);
      if (real !== p) out.add(real);
      const gitDirs = [p];
      const target = gitdirOf(p);
      if (target) {
        const t = canonicalPath(target);
        out.add(t);
        gitDirs.push(t);
        try {
          const common = readFileSync(resolve(t, 'commondir'), 'utf8').trim();
          if (common) {
            const c = canonicalPath(isAbsolute(common) ? common : resolve(t, common));
            out.add(c);
            gitDirs.push(c);
          }
        } catch {
          /* not a worktree */
        }
      }
      for (const g of gitDirs) {
        const hooks = readConfigHooksPath(g, w.root);
        if (hooks) out.add(canonicalPath(hooks));
      }
    }
  }
  return [...out].sort();
}
