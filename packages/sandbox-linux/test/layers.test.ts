// Each layer enforces on its own: the same forbidden write fails with a *different* errno
// depending on which layer stopped it (EROFS from bubblewrap's read-only mount, EACCES from
// Landlock), and succeeds without a sandbox. As root, DAC would never stop it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rungAvailable } from '@codex/sandbox-contract/testing';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';

const sandbox = createLinuxSandbox();
const root = mkdtempSync('/var/tmp/codex-layers-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function writeOutside(rung: string, name: string) {
  const ws = mkdtempSync(join(root, 'ws-'));
  const target = join(root, name);
  const r = await sandbox.run({
    policy: toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }),
    command: ['sh', '-c', `echo x > ${target}`],
    rung,
    allowDegraded: true,
  });
  return { r, escaped: existsSync(target) };
}

describe('single layers', () => {
  it('control: without a sandbox the write lands', async () => {
    const { escaped } = await writeOutside('none', 'control.txt');
    expect(escaped).toBe(true);
  });
  it('Landlock alone (no bubblewrap, no seccomp) denies it with EACCES', async (t) => {
    if (!rungAvailable(await sandbox.probe(), 'landlock-only')) return t.skip('Landlock unavailable here');
    const { r, escaped } = await writeOutside('landlock-only', 'landlock.txt');
    expect(escaped).toBe(false);
    expect(r.assessment.mechanisms).not.toContain('bwrap');
    expect(r.stderr).toMatch(/Permission denied/);
    expect(r.observedDenials.map((d) => d.kind)).toContain('permission');
  });
  it('bubblewrap alone (no Landlock, no seccomp) denies it with EROFS', async (t) => {
    if (!rungAvailable(await sandbox.probe(), 'bwrap-only')) return t.skip('bubblewrap unavailable here');
    const { r, escaped } = await writeOutside('bwrap-only', 'bwrap.txt');
    expect(escaped).toBe(false);
    expect(r.assessment.mechanisms).not.toContain('landlock');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(r.observedDenials.map((d) => d.kind)).toContain('read-only-filesystem');
  });
  it('seccomp alone (helper namespaces off) does not restrict writes, and the assessment says so', async (t) => {
    if (!rungAvailable(await sandbox.probe(), 'seccomp')) return t.skip('seccomp unavailable here');
    const noNs = createLinuxSandbox({ env: { ...process.env, CODEX_SANDBOX_HELPER_NS: '0' } });
    const ws = mkdtempSync(join(root, 'ws-'));
    const target = join(root, 'seccomp.txt');
    const r = await noNs.run({
      policy: toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }),
      command: ['sh', '-c', `echo x > ${target}`],
      rung: 'seccomp',
      allowDegraded: true,
    });
    expect(existsSync(target)).toBe(true);
    expect(r.assessment.missing).toContain('filesystem-write');
    expect(r.assessment.unenforced).toContain('filesystem-write');
  });
  it("the helper's own mount namespace (root, no bwrap) makes the disk read-only under Landlock", async (t) => {
    const s = await sandbox.probe();
    if (!s.mechanisms.find((m) => m.id === 'helper-ns')?.available)
      return t.skip('helper cannot unshare here (not root)');
    const { r, escaped } = await writeOutside('landlock-seccomp', 'helper-ns.txt');
    expect(escaped).toBe(false);
    expect(r.assessment.mechanisms).toContain('helper-ns');
    // The read-only mount answers before Landlock is asked.
    expect(r.stderr).toMatch(/Read-only file system/);
  });
  it('seccomp alone denies AF_INET sockets (python) with EPERM', async (t) => {
    if (!rungAvailable(await sandbox.probe(), 'seccomp')) return t.skip('seccomp unavailable here');
    const r = await sandbox.run({
      policy: toSandboxPolicy('offline'),
      command: ['python3', '-c', 'import socket; socket.socket()'],
      rung: 'seccomp',
      allowDegraded: true,
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });
});
