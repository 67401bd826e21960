import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codex, fullRung } from './helpers.js';

/** Tests of what the full rung does (see fullRung; degraded.test.ts covers the rest). */
const FULL = fullRung();

let dir: string;
beforeEach(() => {
  dir = mkdtempSync('/var/tmp/codex-cli-sbx-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('codex sandbox status', () => {
  it.skipIf(!FULL)('prints every mechanism with its reason and the selected rung', () => {
    const r = codex(['sandbox', 'status'], { cwd: dir });
    expect(r.status).toBe(0);
    for (const m of ['bwrap', 'landlock', 'seccomp', 'cgroup-pids'])
      expect(r.stdout).toMatch(new RegExp(`^${m}\\s+(yes|no)\\s+\\S`, 'm'));
    expect(r.stdout).toMatch(/^full \*/m);
    expect(r.stdout).toContain('profile offline: linux sandbox, rung "full"');
  });
  it.skipIf(!FULL)('--json gives the structured probe plus what the effective profile gets', () => {
    const r = codex(['sandbox', 'status', '--json', '--profile', 'workspace-write'], { cwd: dir });
    const s = JSON.parse(r.stdout);
    expect(s.backend).toBe('linux');
    expect(s.mechanisms.every((m: { reason: string }) => m.reason.length > 0)).toBe(true);
    expect(s.effective.profile).toBe('workspace-write');
    expect(s.effective.rung).toBe('full');
  });
  it('CODEX_SANDBOX_RUNG is reported as forced', () => {
    const s = JSON.parse(
      codex(['sandbox', 'status', '--json'], { cwd: dir, env: { CODEX_SANDBOX_RUNG: 'bwrap-seccomp' } })
        .stdout,
    );
    expect(s.forced).toBe('bwrap-seccomp');
    expect(s.effective.rung).toBe('bwrap-seccomp');
  });
});

describe('codex sandbox run', () => {
  it.skipIf(!FULL)(
    'runs the command, names the rung on stderr, and the offline profile denies a write',
    () => {
      const target = join(dir, 'outside.txt');
      const r = codex(
        [
          'sandbox',
          'run',
          '--workspace',
          join(dir, 'ws'),
          '--',
          'sh',
          '-c',
          `echo hello; echo x > ${target}`,
        ],
        { cwd: dir },
      );
      expect(r.stdout).toBe('hello\n');
      expect(r.stderr).toContain('rung "full" (bwrap+landlock+seccomp+cgroup-pids)');
      expect(r.stderr).toMatch(/Read-only file system/);
      expect(r.status).not.toBe(0);
      expect(existsSync(target)).toBe(false);
    },
  );
  it('workspace-write writes in the workspace only, and --writable adds a root', () => {
    const extra = mkdtempSync(join(dir, 'extra-'));
    const r = codex(
      [
        'sandbox',
        'run',
        '--profile',
        'workspace-write',
        '--writable',
        extra,
        '--',
        'sh',
        '-c',
        `echo a > ${dir}/in-ws.txt && echo b > ${extra}/x.txt && echo ok`,
      ],
      { cwd: dir },
    );
    expect(r.stdout).toBe('ok\n');
    expect(existsSync(join(dir, 'in-ws.txt'))).toBe(true);
  });
  it('refuses (exit 125) a rung that cannot enforce the profile, unless --allow-degraded', () => {
    writeFileSync(join(dir, 'f'), 'x');
    const refused = codex(['sandbox', 'run', '--rung', 'seccomp', '--', 'true'], { cwd: dir });
    expect(refused.status).toBe(125);
    expect(refused.stderr).toContain('SANDBOX_UNAVAILABLE');
    const degraded = codex(['sandbox', 'run', '--rung', 'seccomp', '--allow-degraded', '--', 'true'], {
      cwd: dir,
    });
    expect(degraded.status).toBe(0);
    expect(degraded.stderr).toContain('NOT enforced: filesystem-write');
  });
  it.skipIf(!FULL)('--allow-degraded is audited even without the exec policy', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    expect(
      codex(['sandbox', 'run', '--rung', 'seccomp', '--allow-degraded', '--', 'true'], { cwd: dir, home })
        .status,
    ).toBe(0);
    const log = readFileSync(join(home, 'audit', 'audit.jsonl'), 'utf8');
    expect(log).toMatch(
      /"reason":"--allow-degraded: ran under profile offline with rung seccomp \(seccomp\+cgroup-pids\), which does NOT enforce filesystem-write: exit 0"/,
    );
  });
  it.skipIf(!FULL)('--require-full-isolation (or the config) refuses anything but the full rung', () => {
    const r = codex(
      ['sandbox', 'run', '--rung', 'landlock-seccomp', '--require-full-isolation', '--', 'true'],
      { cwd: dir },
    );
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('SANDBOX_DEGRADED');
    const home = mkdtempSync(join(dir, 'home-'));
    writeFileSync(join(home, 'config.toml'), '[sandbox]\nrequire_full_isolation = true\n');
    const viaConfig = codex(['sandbox', 'run', '--rung', 'bwrap-seccomp', '--', 'true'], { cwd: dir, home });
    expect(viaConfig.status).toBe(125);
    expect(codex(['sandbox', 'run', '--', 'true'], { cwd: dir, home }).status).toBe(0);
  });
  it('timeout exits 124; --json returns the structured result', () => {
    expect(codex(['sandbox', 'run', '--timeout', '300', '--', 'sleep', '20'], { cwd: dir }).status).toBe(124);
    const r = codex(['sandbox', 'run', '--json', '--', 'sh', '-c', 'echo hi'], { cwd: dir });
    const j = JSON.parse(r.stdout);
    expect(j.stdout).toBe('hi\n');
    expect(j.sandbox.mechanisms).toContain('landlock');
  });
  it('usage errors exit 2', () => {
    expect(codex(['sandbox', 'run'], { cwd: dir }).status).toBe(2);
    expect(codex(['sandbox', 'run', '--writable', '/x', '--', 'true'], { cwd: dir }).status).toBe(2);
    expect(codex(['sandbox', 'bogus'], { cwd: dir }).status).toBe(2);
  });
});
