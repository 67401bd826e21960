import {
  admit,
  InvalidRungError,
  SandboxDegradedError,
  SandboxUnavailableError,
  UnsupportedPolicyError,
} from '@codex/sandbox-contract';
import { rungAvailable } from '@codex/sandbox-contract/testing';
import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';

const sandbox = createLinuxSandbox();

describe('probe', () => {
  it('reports every mechanism with a reason, and the rung chain strongest first', async () => {
    const s = await sandbox.probe();
    expect(s.mechanisms.map((m) => m.id)).toEqual([
      'bwrap',
      'landlock',
      'seccomp',
      'helper-ns',
      'cgroup-pids',
    ]);
    for (const m of s.mechanisms) expect(m.reason.length).toBeGreaterThan(5);
    expect(s.rungs.map((r) => r.id).slice(0, 5)).toEqual([
      'full',
      'landlock-seccomp',
      'bwrap-seccomp',
      'seccomp',
      'none',
    ]);
    expect(s.selected).toBe(s.best);
  });
  it('CI=true requires the full rung; elsewhere the best rung is the strongest available one, with reasons', async () => {
    const s = await sandbox.probe();
    if (rungAvailable(s, 'full')) {
      expect(s.best).toBe('full');
      return;
    }
    const best = s.rungs.find((r) => r.id === s.best)!;
    expect(best.available).toBe(true);
    for (const r of s.rungs.slice(0, s.rungs.indexOf(best))) expect(r.available).toBe(false);
    for (const m of s.mechanisms.filter((x) => !x.available)) expect(m.reason.length).toBeGreaterThan(5);
  });
  it('CODEX_SANDBOX_RUNG forces a rung; an unknown one is a typed error', async () => {
    const forced = await createLinuxSandbox({
      env: { ...process.env, CODEX_SANDBOX_RUNG: 'landlock-seccomp' },
    }).probe();
    expect(forced.forced).toBe('landlock-seccomp');
    expect(forced.selected).toBe('landlock-seccomp');
    await expect(
      createLinuxSandbox({ env: { ...process.env, CODEX_SANDBOX_RUNG: 'bogus' } }).probe(),
    ).rejects.toBeInstanceOf(InvalidRungError);
  });
  it('a missing bubblewrap is reported, not faked, and the best rung degrades to landlock-seccomp', async () => {
    const s = await createLinuxSandbox({
      env: { ...process.env, CODEX_BWRAP: '/nonexistent/bwrap' },
    }).probe();
    const bw = s.mechanisms.find((m) => m.id === 'bwrap')!;
    expect(bw.available).toBe(false);
    expect(bw.reason).toMatch(/not found/);
    expect(s.best).toBe('landlock-seccomp');
    expect(s.rungs.find((r) => r.id === 'full')!.missing).toContain('bwrap');
  });
  it('a missing helper makes Landlock and seccomp unavailable with the reason', async () => {
    const s = await createLinuxSandbox({
      env: { ...process.env, CODEX_SANDBOX_HELPER: '/nonexistent/helper' },
    }).probe();
    expect(s.mechanisms.find((m) => m.id === 'landlock')!.available).toBe(false);
    expect(s.mechanisms.find((m) => m.id === 'seccomp')!.reason).toMatch(/helper/);
    expect(s.best).toBe('none');
  });
});

describe('admission (fail-closed)', () => {
  it('refuses offline on the seccomp rung (writes unenforced) unless allowDegraded', async () => {
    const s = await sandbox.probe();
    const policy = toSandboxPolicy('offline');
    const err = (() => {
      try {
        admit({ policy, command: ['true'], rung: 'seccomp' }, s);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SandboxUnavailableError);
    expect((err as SandboxUnavailableError).code).toBe('SANDBOX_UNAVAILABLE');
    expect((err as SandboxUnavailableError).missing).toEqual(['filesystem-write']);
    expect(admit({ policy, command: ['true'], rung: 'seccomp', allowDegraded: true }, s).rung).toBe(
      'seccomp',
    );
  });
  it('refuses any rung but full when full isolation is required', async (t) => {
    const s = await sandbox.probe();
    if (!rungAvailable(s, 'full')) return t.skip('rung full unavailable here');
    const policy = toSandboxPolicy('offline');
    expect(() =>
      admit({ policy, command: ['true'], rung: 'landlock-seccomp', requireFullIsolation: true }, s),
    ).toThrow(SandboxDegradedError);
    expect(admit({ policy, command: ['true'], requireFullIsolation: true }, s).full).toBe(true);
  });
  it('refuses network modes it does not understand and unknown rungs', async () => {
    const s = await sandbox.probe();
    const policy = { ...toSandboxPolicy('offline'), network: { mode: 'proxied' } } as never;
    expect(() => admit({ policy, command: ['true'] }, s)).toThrow(UnsupportedPolicyError);
    expect(() => admit({ policy: toSandboxPolicy('offline'), command: ['true'], rung: 'nope' }, s)).toThrow(
      InvalidRungError,
    );
  });
  it('trusted, explicitly chosen, skips the sandbox and says so', async () => {
    const s = await sandbox.probe();
    const a = admit({ policy: toSandboxPolicy('trusted', { explicit: true }), command: ['true'] }, s);
    expect(a.skipped).toBe(true);
    expect(a.mechanisms).toEqual([]);
  });
});
