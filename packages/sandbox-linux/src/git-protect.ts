// What of git must stay read-only, what must be writable for `git add`/`git commit`, and what
// must not appear, for each writable root. Git config is read with git's own grammar
// (`readGitConfig` of @codex/sandbox-contract: includes, comments, quotes, subsections).
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type GitConfigEntry, gitConfigValue, readGitConfig } from '@codex/sandbox-contract';
import { commonDirOf, gitdirOf } from '@codex/sandbox-contract/git';
import { isWithin, type SandboxPolicy } from '@codex/security-profile';

export interface GitLayout {
  /** Git directories outside the writable roots that `git commit` writes (a linked worktree's). */
  readonly writable: readonly string[];
  /** Existing paths that stay read-only. */
  readonly protected: readonly string[];
  /** Protected directories that do not exist yet: created empty before the launch, then protected. */
  readonly create: readonly string[];
  /** Files whose creation would redirect git (a `commondir` in a main git dir): checked after the run. */
  readonly mustNotAppear: readonly string[];
  /**
   * Writable git directories inside the roots, bound onto themselves so that they are mount
   * points: they cannot be renamed or removed (and replaced by a directory with hooks).
   */
  readonly pinned: readonly string[];
}

/** Names at the top of every writable root that belong to the agent, not to the command. */
export const AGENT_NAMES = ['.codex', '.agents'] as const;

/** Config keys whose value runs a program (first word; `!` for shell aliases). */
const PROGRAM_KEYS = [
  /^core\.(fsmonitor|sshcommand|editor|pager|askpass|hookspath)$/,
  /^filter\..+\.(clean|smudge|process)$/,
  /^diff\..+\.(textconv|command)$/,
  /^merge\..+\.driver$/,
  /^(gpg|gpg\..+)\.program$/,
  /^credential(\..+)?\.helper$/,
  /^sequence\.editor$/,
  /^alias\..+$/,
];

function kind(path: string): 'file' | 'dir' | 'other' | null {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Every git-related path to protect for the checkout whose work tree is `workTree` and whose
 * `.git` entry is `dotGit` (a directory or a `gitdir:` file), recursing into submodules.
 */
function collect(
  workTree: string,
  dotGit: string,
  home: string,
  acc: {
    writable: Set<string>;
    prot: Set<string>;
    create: Set<string>;
    watch: Set<string>;
    pinned: Set<string>;
  },
  inWritable: (p: string) => boolean,
  depth: number,
): void {
  const k = kind(dotGit);
  if (k === null) {
    if (kind(workTree) === 'dir') acc.create.add(dotGit);
    return;
  }
  let gitDir = dotGit;
  if (k === 'file') {
    acc.prot.add(dotGit);
    const target = gitdirOf(dotGit);
    if (!target || kind(target) !== 'dir') return;
    gitDir = target;
  } else if (k !== 'dir') {
    acc.prot.add(dotGit);
    return;
  }
  const common = commonDirOf(gitDir) ?? gitDir;
  for (const d of new Set([gitDir, common])) {
    if (!inWritable(d)) {
      if (depth === 0) acc.writable.add(d);
    } else acc.pinned.add(d);
  }
  const writableNow = (p: string) => inWritable(p) || [...acc.writable].some((w) => isWithin(p, w));

  // What can run code in the common dir and the per-worktree dir.
  for (const name of ['config', 'modules', 'worktrees/*']) {
    if (name === 'worktrees/*') {
      let entries: string[] = [];
      try {
        entries = readdirSync(join(common, 'worktrees'));
      } catch {
        /* none */
      }
      for (const e of entries) {
        for (const f of ['config.worktree', 'commondir', 'gitdir']) {
          const p = join(common, 'worktrees', e, f);
          if (kind(p)) acc.prot.add(p);
        }
      }
      continue;
    }
    const p = join(common, name);
    if (kind(p)) acc.prot.add(p);
  }
  for (const name of ['hooks', 'info']) {
    const p = join(common, name);
    if (kind(p)) acc.prot.add(p);
    else acc.create.add(p);
  }
  if (gitDir === common) acc.watch.add(join(common, 'commondir'));
  for (const f of ['config.worktree', 'commondir', 'gitdir']) {
    const p = join(gitDir, f);
    if (gitDir !== common && kind(p)) acc.prot.add(p);
  }

  // Config with git's grammar, following includes; every file git reads is protected.
  const files = [
    ...readGitConfig(join(common, 'config'), { read: readText, home }),
    ...readGitConfig(join(gitDir, 'config.worktree'), { read: readText, home }),
  ];
  const entries: GitConfigEntry[] = files.flatMap((f) => f.entries);
  for (const f of files) if (writableNow(f.path)) acc.prot.add(f.path);
  const hooksPath = gitConfigValue(entries, 'core.hookspath');
  if (hooksPath) {
    const p = hooksPath.startsWith('~/')
      ? join(home, hooksPath.slice(2))
      : isAbsolute(hooksPath)
        ? hooksPath
        : resolve(workTree, hooksPath);
    if (writableNow(p)) (kind(p) ? acc.prot : acc.create).add(p);
  }
  // Programs named by config that live in a writable place (e.g. `filter.x.clean = ./tools/f`).
  for (const e of entries) {
    if (e.value === null) continue;
    const name = `${e.section}${e.subsection !== null ? `.${e.subsection}` : ''}.${e.key}`;
    if (!PROGRAM_KEYS.some((re) => re.test(name.toLowerCase()))) continue;
    const first = e.value.trim().replace(/^!/, '').split(/\s+/)[0] ?? '';
    if (!first.includes('/')) continue;
    const p = isAbsolute(first) ? first : resolve(workTree, first);
    if (writableNow(p) && kind(p)) acc.prot.add(p);
  }
  // Submodules registered in .gitmodules: their `.git` (file or directory) and its git dir.
  if (depth < 4) {
    for (const f of readGitConfig(join(workTree, '.gitmodules'), { read: readText })) {
      for (const e of f.entries) {
        if (e.section !== 'submodule' || e.key !== 'path' || !e.value) continue;
        const sub = resolve(workTree, e.value);
        if (!isWithin(sub, workTree) || sub === workTree) continue;
        collect(sub, join(sub, '.git'), home, acc, inWritable, depth + 1);
      }
    }
  }
}

/** The git layout for every writable root of `policy` (roots that do not exist are skipped). */
export function gitLayout(policy: SandboxPolicy, home: string): GitLayout {
  const acc = {
    writable: new Set<string>(),
    prot: new Set<string>(),
    create: new Set<string>(),
    watch: new Set<string>(),
    pinned: new Set<string>(),
  };
  const roots = policy.writableRoots.filter((w) => w.readOnlySubpaths.length > 0 && kind(w.root) === 'dir');
  const inWritable = (p: string) => roots.some((w) => isWithin(p, w.root));
  for (const w of roots) {
    for (const sub of w.readOnlySubpaths) {
      const name = sub.slice(w.root.length).replace(/^\/+/, '');
      if (name === '.git') collect(w.root, sub, home, acc, inWritable, 0);
      else if (kind(sub)) acc.prot.add(sub);
      else acc.create.add(sub);
    }
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    writable: sorted(acc.writable),
    protected: sorted(acc.prot),
    create: sorted(acc.create),
    mustNotAppear: sorted(acc.watch).filter((p) => kind(p) === null),
    pinned: sorted(acc.pinned).filter((p) => !acc.prot.has(p)),
  };
}

/** True when `path` is a directory or file (used after creating `create` entries). */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
