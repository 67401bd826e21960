import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { createWindowsSandbox } from '../src/backend.js';
import { parseHelperProbe, probeWindows } from '../src/probe.js';

describe('parseHelperProbe', () => {
  it('reads ok/unavailable lines with reasons, CRLF or LF', () => {
    expect(
      parseHelperProbe(
        'appcontainer=unavailable CreateAppContainerProfile returned 0x80070005\r\njob=ok\r\nrestricted-token=ok\r\nnoise\n',
      ),
    ).toEqual({
      appcontainer: { ok: false, reason: 'CreateAppContainerProfile returned 0x80070005' },
      job: { ok: true, reason: '' },
      'restricted-token': { ok: true, reason: '' },
    });
  });
});

describe('probeWindows off Windows', () => {
  it('reports every mechanism unavailable with the reason and selects none', async () => {
    const p = await probeWindows({ platform: 'linux', env: {}, refresh: true });
    expect(p.status.backend).toBe('windows');
    expect(p.status.mechanisms.map((m) => [m.id, m.available])).toEqual([
      ['appcontainer', false],
      ['restricted-token', false],
      ['job-object', false],
    ]);
    expect(p.status.mechanisms[0]!.reason).toMatch(/only on Windows \(this is linux\)/);
    expect(p.status.selected).toBe('none');
    expect(p.helperPath).toBeNull();
  });
  it('reports a helper that was not built', async () => {
    const p = await probeWindows({
      platform: 'win32',
      helperPath: '/nonexistent/codex-sandbox-win.exe',
      env: {},
      refresh: true,
    });
    expect(p.status.mechanisms[0]!.reason).toMatch(/not built \(needs a C compiler/);
  });
  it('validates the forced rung', async () => {
    expect(() => probeWindows({ platform: 'linux', env: { CODEX_SANDBOX_RUNG: 'seatbelt' } })).toThrow(
      /not a Windows rung/,
    );
    const p = await probeWindows({ platform: 'linux', env: { CODEX_SANDBOX_RUNG: 'none' }, refresh: true });
    expect(p.status.forced).toBe('none');
  });
  it('the backend fails closed when nothing is available', async () => {
    const backend = createWindowsSandbox({ platform: 'linux', env: {} });
    await expect(
      backend.run({ policy: toSandboxPolicy('workspace-write', { workspaceRoots: ['/w'] }), command: ['x'] }),
    ).rejects.toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      missing: ['filesystem-write', 'protected-paths', 'network'],
    });
  });
  it('assess explains which guarantees each rung gives', async () => {
    const backend = createWindowsSandbox({ platform: 'linux', env: {} });
    const probed = await backend.probe();
    // As on a Windows machine where the helper reported everything available.
    const status = {
      ...probed,
      mechanisms: probed.mechanisms.map((m) => ({ ...m, available: true })),
      rungs: probed.rungs.map((r) => ({ ...r, available: true, missing: [] })),
    };
    const policy = toSandboxPolicy('offline');
    const rt = backend.assess(policy, status, 'restricted-token');
    expect(rt.enforced['filesystem-write']).toEqual(['restricted-token']);
    expect(rt.enforced.network).toBeUndefined();
    expect(rt.notes.join('\n')).toMatch(/restricted token does not block sockets/);
    const ac = backend.assess(policy, status, 'appcontainer');
    expect(ac.enforced.network).toEqual(['appcontainer']);
    expect(ac.enforced['process-limit']).toEqual(['job-object']);
  });
  it.skipIf(process.platform === 'win32')(
    'allowDegraded runs on rung none with hygiene and says why',
    async () => {
      const backend = createWindowsSandbox({ platform: 'linux', env: {} });
      const r = await backend.run({
        policy: toSandboxPolicy('offline'),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
        command: ['sh', '-c', 'echo "${NPM_TOKEN:-gone}"'],
        env: { PATH: process.env.PATH, NPM_TOKEN: 'x' },
        allowDegraded: true,
      });
      expect(r.stdout.trim()).toBe('gone');
      expect(r.strippedEnv).toEqual(['NPM_TOKEN']);
      expect(r.assessment.rung).toBe('none');
      expect(r.assessment.notes[0]).toMatch(/^AppContainer unavailable: .*only on Windows/);
      expect(r.processLimit).toBe('none');
    },
  );
});
