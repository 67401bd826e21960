import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commonDirOf, configHooksPath, gitdirOf, linkedGitPaths } from '../src/git-links.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'codex-git-links-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('@codex/sandbox-contract/git', () => {
  it('a worktree: the gitdir target, its commondir and each hooksPath (relative ones against the work tree)', () => {
    const repo = join(dir, 'repo', '.git');
    const wtGit = join(repo, 'worktrees', 'wt');
    mkdirSync(wtGit, { recursive: true });
    writeFileSync(join(wtGit, 'commondir'), '../..\n');
    writeFileSync(join(repo, 'config'), '[core]\n\thooksPath = .githooks\n');
    const work = join(dir, 'wt');
    mkdirSync(work);
    writeFileSync(join(work, '.git'), `gitdir: ${wtGit}\n`);
    expect(gitdirOf(join(work, '.git'))).toBe(wtGit);
    expect(commonDirOf(wtGit)).toBe(repo);
    expect(configHooksPath(repo, work)).toBe(join(work, '.githooks'));
    expect(linkedGitPaths(join(work, '.git'), work)).toEqual([wtGit, repo, join(work, '.githooks')]);
  });

  it('a relative gitdir resolves against the .git file; a plain .git directory yields only its hooksPath', () => {
    const work = join(dir, 'sub');
    mkdirSync(join(dir, 'modules', 'sub'), { recursive: true });
    mkdirSync(work);
    writeFileSync(join(work, '.git'), 'gitdir: ../modules/sub\n');
    expect(gitdirOf(join(work, '.git'))).toBe(join(dir, 'modules', 'sub'));
    const plain = join(dir, 'plain');
    mkdirSync(join(plain, '.git'), { recursive: true });
    expect(gitdirOf(join(plain, '.git'))).toBeNull();
    expect(linkedGitPaths(join(plain, '.git'), plain)).toEqual([]);
    writeFileSync(join(plain, '.git', 'config'), '[core]\n\thooksPath = /opt/hooks\n');
    expect(linkedGitPaths(join(plain, '.git'), plain)).toEqual(['/opt/hooks']);
  });

  it('missing files, a .git file without a gitdir line and an unparsable config give nothing', () => {
    expect(gitdirOf(join(dir, 'nope', '.git'))).toBeNull();
    expect(commonDirOf(join(dir, 'nope'))).toBeNull();
    writeFileSync(join(dir, '.git'), 'not a gitdir line\n');
    expect(gitdirOf(join(dir, '.git'))).toBeNull();
    mkdirSync(join(dir, 'g'));
    writeFileSync(join(dir, 'g', 'config'), '[core\nhooksPath = x\n');
    expect(configHooksPath(join(dir, 'g'), dir)).toBeNull();
  });
});
