import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { planWindowsLaunch } from '../src/plan.js';

const ws = 'C:\\Users\\dev\\project';
const fsRoots = { filesystemRoots: ['C:\\'] };
const base = {
  commandLine: 'C:\\bin\\t.exe x',
  cwd: ws,
  programDir: 'C:\\bin',
  tmpDir: 'C:\\Users\\dev\\AppData\\Local\\Temp\\codex-sbx-tmp-1',
  maxProcesses: 32,
  timeoutMs: 1000,
};
const existing = new Set([`${ws}\\.git`, `${ws}\\.codex`, `${ws}\\sub\\realgit`]);
const exists = (p: string) => existing.has(p);

describe('planWindowsLaunch', () => {
  it('workspace-write in an AppContainer: grants, denies and helper arguments', () => {
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [ws], ...fsRoots });
    const plan = planWindowsLaunch({
      ...base,
      policy,
      mode: 'appcontainer',
      exists,
      extraProtectedPaths: [`${ws}\\sub\\realgit`, 'D:\\elsewhere\\repo.git'],
    });
    expect(plan.grantWrite).toEqual([ws, base.tmpDir]);
    expect(plan.denyWrite).toEqual([`${ws}\\.git`, `${ws}\\.codex`, `${ws}\\sub\\realgit`]);
    expect(plan.unguardedProtected).toEqual([`${ws}\\.agents`]);
    // cwd is inside a writable root (already readable); the program directory needs a read grant.
    expect(plan.grantRead).toEqual(['C:\\bin']);
    expect(plan.helperArgs).toEqual([
      '--mode',
      'appcontainer',
      '--network',
      'none',
      '--grant-write',
      ws,
      '--grant-write',
      base.tmpDir,
      '--grant-read',
      'C:\\bin',
      '--deny-write',
      `${ws}\\.git`,
      '--deny-write',
      `${ws}\\.codex`,
      '--deny-write',
      `${ws}\\sub\\realgit`,
      '--max-processes',
      '32',
      '--memory-mb',
      '4096',
      '--timeout-ms',
      '1000',
      '--',
      'C:\\bin\\t.exe x',
    ]);
  });
  it('offline: nothing writable but TEMP; the workspace is granted read in an AppContainer', () => {
    const policy = toSandboxPolicy('offline', { workspaceRoots: [ws], ...fsRoots });
    const plan = planWindowsLaunch({ ...base, policy, mode: 'appcontainer', exists });
    expect(plan.grantWrite).toEqual([base.tmpDir]);
    expect(plan.grantRead).toEqual([ws, 'C:\\bin']);
    expect(plan.denyWrite).toEqual([]);
    expect(plan.helperArgs.slice(0, 4)).toEqual(['--mode', 'appcontainer', '--network', 'none']);
  });
  it('a full-network policy passes --network full (capabilities are added by the helper)', () => {
    // workspace-net is proxied now (egress proxy), which this backend refuses at admission; the
    // full-network plan is what it had before.
    const policy = {
      ...toSandboxPolicy('workspace-net', { workspaceRoots: [ws], ...fsRoots }),
      network: { mode: 'full' as const },
    };
    expect(
      planWindowsLaunch({ ...base, policy, mode: 'appcontainer', exists }).helperArgs.slice(2, 4),
    ).toEqual(['--network', 'full']);
  });
  it('restricted token: no read grants (it reads as the user), same write plan', () => {
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [ws], ...fsRoots });
    const plan = planWindowsLaunch({ ...base, policy, mode: 'restricted-token', exists });
    expect(plan.grantRead).toEqual([]);
    expect(plan.grantWrite).toEqual([ws, base.tmpDir]);
    expect(plan.denyWrite).toEqual([`${ws}\\.git`, `${ws}\\.codex`]);
  });
  it('trusted without explicit opt-in (full-disk write) runs in the Job Object only, with no grants', () => {
    const policy = toSandboxPolicy('trusted', { workspaceRoots: [ws], ...fsRoots });
    const plan = planWindowsLaunch({ ...base, policy, mode: 'appcontainer', exists });
    expect(plan.mode).toBe('job-only');
    expect(plan.grantWrite).toEqual([]);
    expect(plan.denyWrite).toEqual([]);
  });
  it('deduplicates paths case-insensitively (NTFS)', () => {
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [ws], ...fsRoots });
    const plan = planWindowsLaunch({
      ...base,
      policy,
      mode: 'restricted-token',
      exists,
      tmpDir: ws.toUpperCase(),
    });
    expect(plan.grantWrite).toEqual([ws]);
  });
  it('several roots keep their own protected paths', () => {
    const other = 'D:\\cache';
    const policy = toSandboxPolicy('workspace-write', {
      workspaceRoots: [ws],
      extraWritableRoots: [other],
      filesystemRoots: ['C:\\', 'D:\\'],
    });
    const plan = planWindowsLaunch({
      ...base,
      policy,
      mode: 'restricted-token',
      exists: () => true,
      tmpDir: null,
    });
    expect(plan.grantWrite).toEqual([ws, other]);
    expect(plan.denyWrite).toContain('D:\\cache\\.git');
    expect(plan.denyWrite).toContain(`${ws}\\.agents`);
  });
});

describe('resolveGitdirTargets (real files)', () => {
  it('protects the target of a .git file and a worktree common dir', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { resolveGitdirTargets } = await import('../src/backend.js');
    const dir = mkdtempSync(join(tmpdir(), 'codex-win-gitdir-'));
    try {
      const wsDir = join(dir, 'ws');
      mkdirSync(join(dir, 'main', '.git', 'worktrees', 'ws'), { recursive: true });
      mkdirSync(wsDir);
      writeFileSync(join(wsDir, '.git'), `gitdir: ${join(dir, 'main', '.git', 'worktrees', 'ws')}\n`);
      writeFileSync(join(dir, 'main', '.git', 'worktrees', 'ws', 'commondir'), '../..\n');
      const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [wsDir] });
      expect(resolveGitdirTargets(policy)).toEqual([
        join(dir, 'main', '.git'),
        join(dir, 'main', '.git', 'worktrees', 'ws'),
      ]);
      // A core.hooksPath in the repository config is protected too (relative to the work tree).
      mkdirSync(join(dir, 'plain', '.git'), { recursive: true });
      writeFileSync(join(dir, 'plain', '.git', 'config'), '[core]\n\thooksPath = .husky\n');
      expect(
        resolveGitdirTargets(toSandboxPolicy('workspace-write', { workspaceRoots: [join(dir, 'plain')] })),
      ).toEqual([join(dir, 'plain', '.husky')]);
      // A plain workspace without .git adds nothing.
      expect(resolveGitdirTargets(toSandboxPolicy('workspace-write', { workspaceRoots: [dir] }))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
