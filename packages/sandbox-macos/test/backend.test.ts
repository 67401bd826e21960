import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, describe, expect, it } from 'vitest';
import { createMacosSandbox, planMacosLaunch } from '../src/backend.js';
import { probeMacos } from '../src/probe.js';
import { parseSbpl } from '../src/sbpl.js';

const bin = mkdtempSync(join(tmpdir(), 'codex-macos-probe-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
function script(name: string, body: string): string {
  const p = join(bin, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}
const posix = process.platform !== 'win32';

describe('probe', () => {
  it('reports Seatbelt unavailable off macOS and selects rung none', async () => {
    const p = await probeMacos({ platform: 'linux', refresh: true, env: {} });
    expect(p.status.backend).toBe('macos');
    expect(p.status.mechanisms[0]).toMatchObject({ id: 'seatbelt', available: false });
    expect(p.status.mechanisms[0]!.reason).toMatch(/only on macOS \(this is linux\)/);
    expect(p.status.selected).toBe('none');
    expect(p.status.rungs.find((r) => r.id === 'seatbelt')).toMatchObject({
      available: false,
      missing: ['seatbelt'],
    });
    expect(p.sandboxExecPath).toBeNull();
  });
  it('reports a missing sandbox-exec on macOS', async () => {
    const p = await probeMacos({
      platform: 'darwin',
      sandboxExecPath: join(bin, 'absent'),
      refresh: true,
      env: {},
    });
    expect(p.status.mechanisms[0]!.reason).toMatch(/missing or not executable/);
    expect(p.status.selected).toBe('none');
  });
  it.skipIf(!posix)('runs sandbox-exec with a trivial profile and reports its refusal', async () => {
    const refusing = script(
      'sbx-refuses',
      'echo "sandbox-exec: sandbox_apply: Operation not permitted" >&2; exit 71',
    );
    const p = await probeMacos({ platform: 'darwin', sandboxExecPath: refusing, refresh: true, env: {} });
    expect(p.status.mechanisms[0]!.available).toBe(false);
    expect(p.status.mechanisms[0]!.reason).toMatch(/sandbox_apply: Operation not permitted/);
    // A sandbox-exec that checks its arguments: -p, a profile that parses, then the command.
    const ok = script('sbx-ok', '[ "$1" = -p ] && [ "$3" = /usr/bin/true ] && exit 0; exit 9');
    const q = await probeMacos({ platform: 'darwin', sandboxExecPath: ok, refresh: true, env: {} });
    expect(q.status.mechanisms[0]!.available).toBe(true);
    expect(q.status.selected).toBe('seatbelt');
    expect(q.status.best).toBe('seatbelt');
  });
  it('honours and validates the forced rung', async () => {
    const p = await probeMacos({ platform: 'linux', refresh: true, env: { CODEX_SANDBOX_RUNG: 'none' } });
    expect(p.status.forced).toBe('none');
    expect(() => probeMacos({ platform: 'linux', env: { CODEX_SANDBOX_RUNG: 'full' } })).toThrow(
      /not a macOS rung/,
    );
  });
});

describe.skipIf(!posix)('run without Seatbelt (this machine is not macOS)', () => {
  const backend = createMacosSandbox({ platform: 'linux', env: {} });
  it('fails closed: offline is refused, nothing runs', async () => {
    const marker = join(bin, 'ran');
    await expect(
      backend.run({ policy: toSandboxPolicy('offline'), command: ['touch', marker] }),
    ).rejects.toMatchObject({ code: 'SANDBOX_UNAVAILABLE', missing: ['filesystem-write', 'network'] });
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(false);
  });
  it('requireFullIsolation refuses even with allowDegraded', async () => {
    await expect(
      backend.run({
        policy: toSandboxPolicy('offline'),
        command: ['true'],
        allowDegraded: true,
        requireFullIsolation: true,
      }),
    ).rejects.toMatchObject({ code: 'SANDBOX_DEGRADED' });
  });
  it('allowDegraded runs on rung none, reports it, and still strips secrets', async () => {
    const r = await backend.run({
      policy: toSandboxPolicy('offline'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
      command: ['sh', '-c', 'echo "t=${GITHUB_TOKEN:-unset}"'],
      env: { PATH: process.env.PATH, GITHUB_TOKEN: 'ghp_x' },
      allowDegraded: true,
    });
    expect(r.stdout.trim()).toBe('t=unset');
    expect(r.strippedEnv).toEqual(['GITHUB_TOKEN']);
    expect(r.assessment).toMatchObject({
      rung: 'none',
      full: false,
      unenforced: ['filesystem-write', 'network'],
    });
    expect(r.assessment.notes.join('\n')).toMatch(/Seatbelt unavailable/);
  });
  it('trusted (explicit) runs without a sandbox', async () => {
    const r = await backend.run({
      policy: toSandboxPolicy('trusted', { explicit: true }),
      command: ['echo', 'hi'],
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'hi\n' });
    expect(r.assessment.skipped).toBe(true);
  });
});

describe('planMacosLaunch', () => {
  it('builds sandbox-exec -p <checked profile> -- argv, with TMPDIR', async () => {
    const status = (
      await probeMacos({ platform: 'darwin', sandboxExecPath: '/bin/true', refresh: true, env: {} })
    ).status;
    const ws = mkdtempSync(join(tmpdir(), 'codex-macos-ws-'));
    const tmp = mkdtempSync(join(tmpdir(), 'codex-macos-tmp-'));
    try {
      const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [ws] });
      const backend = createMacosSandbox({ platform: 'darwin', sandboxExecPath: '/bin/true', env: {} });
      const assessment = backend.assess(policy, status, 'seatbelt');
      const plan = planMacosLaunch({
        policy,
        assessment,
        command: ['ls', '-la'],
        env: { PATH: '/usr/bin' },
        sandboxExecPath: '/usr/bin/sandbox-exec',
        tmpDir: tmp,
      });
      expect(plan.argv.slice(0, 2)).toEqual(['/usr/bin/sandbox-exec', '-p']);
      expect(plan.argv.slice(3)).toEqual(['--', 'ls', '-la']);
      expect(() => parseSbpl(plan.argv[2]!)).not.toThrow();
      expect(plan.argv[2]).toContain('(deny default)');
      expect(plan.env.TMPDIR?.endsWith('/')).toBe(true);
      expect(assessment.notes.join('\n')).toMatch(/TMPDIR is a fresh directory/);
      // The checker guards the plan: the workspace itself as TMPDIR would bypass .git protection.
      expect(() =>
        planMacosLaunch({
          policy,
          assessment,
          command: ['ls'],
          env: {},
          sandboxExecPath: '/usr/bin/sandbox-exec',
          tmpDir: ws,
        }),
      ).toThrow(expect.objectContaining({ code: 'SEATBELT_PROFILE_REJECTED' }));
    } finally {
      rmSync(ws, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
