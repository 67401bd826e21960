import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { linkedGitPaths } from '@codex/sandbox-contract/git';
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
      for (const linked of linkedGitPaths(p, w.root)) out.add(canonicalPath(linked));
    }
  }
  return [...out].sort();
}
