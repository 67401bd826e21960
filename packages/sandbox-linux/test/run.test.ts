import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SandboxSetupError } from '@codex/sandbox-contract';
import { rungAvailable } from '@codex/sandbox-contract/testing';
import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';

const sandbox = createLinuxSandbox();
const offline = toSandboxPolicy('offline');

describe('startWhen: the sandbox is set up first, the command waits for the go-ahead', () => {
  it('the command runs only once startWhen fulfils, in the full sandbox (the ready line comes after the gate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-startwhen-'));
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [dir] });
    let go!: () => void;
    const startWhen = new Promise<void>((r) => {
      go = r;
    });
    const run = sandbox.run({ policy, command: ['sh', '-c', `touch ${dir}/ran; echo ok`], startWhen });
    await sleep(400);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    go();
    const r = await run;
    expect(r).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    expect(r.stderr).toBe('');
    expect(existsSync(join(dir, 'ran'))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
  it('a rejected startWhen runs nothing, rejects with its reason, and leaves no process or cgroup behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-startwhen-'));
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [dir] });
    const tag = `startwhen-${process.pid}`;
    const startWhen = new Promise<void>((_, reject) => setTimeout(() => reject(new Error('declined')), 300));
    await expect(
      sandbox.run({ policy, command: ['sh', '-c', `touch ${dir}/ran; exec sleep 30 ${tag}`], startWhen }),
    ).rejects.toThrow('declined');
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(spawnSync('pgrep', ['-f', tag]).status).toBe(1);
    const status = await sandbox.probe();
    if (status.mechanisms.some((m) => m.id === 'cgroup-pids' && m.available)) {
      const parents = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup', '/sys/fs/cgroup/unified'];
      for (const p of parents) {
        const left = existsSync(p)
          ? readdirSync(p).filter((n) => n.startsWith(`codex-sbx-${process.pid}-`))
          : [];
        expect(left).toEqual([]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('runner', () => {
  it('returns exit code and output, and reports the rung and mechanisms that enforced it', async () => {
    const r = await sandbox.run({ policy: offline, command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    const status = await sandbox.probe();
    if (rungAvailable(status, 'full')) {
      expect(r.assessment.rung).toBe('full');
      expect(r.assessment.mechanisms).toEqual(['bwrap', 'landlock', 'seccomp', 'cgroup-pids']);
      expect(r.assessment.missing).toEqual([]);
      expect(r.processLimit).toMatch(/^cgroup-v[12] pids\.max=256$/);
    } else {
      // A fresh machine: the strongest available rung, and every weakness named.
      expect(r.assessment.rung).toBe(status.best);
      expect(r.assessment.full).toBe(false);
      expect(r.assessment.notes.length).toBeGreaterThan(0);
    }
  });
  it('strips secrets from the environment the command sees', async () => {
    const r = await sandbox.run({
      policy: offline,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
      command: ['sh', '-c', 'echo "t=${GITHUB_TOKEN:-none} p=${PATH:+set}"'],
      env: { ...process.env, GITHUB_TOKEN: 'ghp_secret' },
    });
    expect(r.stdout.trim()).toBe('t=none p=set');
    expect(r.strippedEnv).toContain('GITHUB_TOKEN');
  });
  it('streams kept output through onOutput and caps it', async () => {
    const seen: number[] = [];
    const r = await sandbox.run({
      policy: offline,
      command: ['sh', '-c', 'head -c 100000 /dev/zero'],
      maxOutputBytes: 4096,
      onOutput: (_s, chunk) => seen.push(chunk.length),
    });
    expect(r.stdout.length).toBe(4096);
    expect(r.stdoutTruncated).toBe(true);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(4096);
  });
  it('times out and reports it', async () => {
    const r = await sandbox.run({ policy: offline, command: ['sleep', '30'], timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(null);
    expect(r.durationMs).toBeLessThan(10_000);
  });
  it('an AbortSignal kills the run', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await sandbox.run({ policy: offline, command: ['sleep', '30'], signal: ac.signal });
    expect(r.signal).toBe('SIGKILL');
  });
  it('a helper that cannot apply a layer fails closed with SANDBOX_SETUP_FAILED', async () => {
    // A writable root the helper cannot open for Landlock: a path through a file.
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: ['/etc/passwd/x'] });
    await expect(sandbox.run({ policy, command: ['true'], rung: 'landlock-seccomp' })).rejects.toBeInstanceOf(
      SandboxSetupError,
    );
  });
  it('a missing command exits 127 inside the sandbox', async () => {
    const r = await sandbox.run({ policy: offline, command: ['definitely-not-a-command-xyz'] });
    expect(r.exitCode).not.toBe(0);
  });
});
