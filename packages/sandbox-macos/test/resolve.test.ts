import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSeatbeltProfile } from '../src/check.js';
import { generateSeatbeltProfile } from '../src/profile.js';
import { canonicalizePolicy, canonicalPath, resolveProtectedPaths } from '../src/resolve.js';

const dirs: string[] = [];
const fresh = () => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'codex-macos-resolve-')));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('canonical paths (Seatbelt matches resolved paths)', () => {
  it('resolves symlinked roots and keeps the protected names under the canonical root', () => {
    const base = fresh();
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'alias'));
    const policy = canonicalizePolicy(
      toSandboxPolicy('workspace-write', { workspaceRoots: [join(base, 'alias')] }),
    );
    expect(policy.writableRoots[0]!.root).toBe(join(base, 'real'));
    expect(policy.writableRoots[0]!.readOnlySubpaths).toContain(join(base, 'real', '.git'));
  });
  it('canonicalises the existing ancestor of a path that does not exist yet', () => {
    const base = fresh();
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'alias'));
    expect(canonicalPath(join(base, 'alias', 'not', 'yet'))).toBe(join(base, 'real', 'not', 'yet'));
  });
});

describe('resolveProtectedPaths', () => {
  it('finds the gitdir: target of a .git file (submodule layout) and protects it in the profile', () => {
    const ws = fresh();
    mkdirSync(join(ws, 'src', 'realgit', 'hooks'), { recursive: true });
    writeFileSync(join(ws, '.git'), 'gitdir: src/realgit\n');
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [ws] });
    const extra = resolveProtectedPaths(policy);
    expect(extra).toEqual([join(ws, 'src', 'realgit')]);
    const text = generateSeatbeltProfile(policy, { extraProtectedPaths: extra });
    expect(text).toContain(`(require-not (subpath "${join(ws, 'src', 'realgit')}"))`);
    expect(checkSeatbeltProfile(text, policy, { extraProtectedPaths: extra })).toEqual([]);
    // Without the resolved target, the checker flags the profile as unsafe for this workspace.
    expect(
      checkSeatbeltProfile(generateSeatbeltProfile(policy), policy, { extraProtectedPaths: extra }),
    ).not.toEqual([]);
  });
  it('follows a real git worktree to its common directory (where hooks live)', () => {
    const base = fresh();
    const main = join(base, 'main');
    execFileSync('git', ['init', '-q', main]);
    execFileSync('git', [
      '-C',
      main,
      '-c',
      'user.email=a@b',
      '-c',
      'user.name=a',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'x',
    ]);
    const wt = join(base, 'wt');
    execFileSync('git', ['-C', main, 'worktree', 'add', '-q', wt]);
    const extra = resolveProtectedPaths(toSandboxPolicy('workspace-write', { workspaceRoots: [wt] }));
    expect(extra).toContain(join(main, '.git', 'worktrees', 'wt'));
    expect(extra).toContain(join(main, '.git'));
  });
  it('protects a core.hooksPath directory configured in the repository', () => {
    const ws = fresh();
    execFileSync('git', ['init', '-q', ws]);
    mkdirSync(join(ws, '.husky'));
    execFileSync('git', ['-C', ws, 'config', 'core.hooksPath', '.husky']);
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [ws] });
    const extra = resolveProtectedPaths(policy);
    expect(extra).toEqual([join(ws, '.husky')]);
    const text = generateSeatbeltProfile(policy, { extraProtectedPaths: extra });
    expect(text).toContain(`(require-not (subpath "${join(ws, '.husky')}"))`);
  });
  it('a plain .git directory adds nothing; a symlinked .git adds its target', () => {
    const ws = fresh();
    mkdirSync(join(ws, '.git'));
    expect(resolveProtectedPaths(toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }))).toEqual([]);
    const ws2 = fresh();
    symlinkSync(join(ws, '.git'), join(ws2, '.git'));
    expect(resolveProtectedPaths(toSandboxPolicy('workspace-write', { workspaceRoots: [ws2] }))).toEqual([
      join(ws, '.git'),
    ]);
  });
});
