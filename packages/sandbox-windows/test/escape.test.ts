// Real enforcement on Windows (the windows-latest job in .github/workflows/sandbox-os.yml):
// AppContainer + Job Object against real processes, each escape with a control run that must
// succeed without the sandbox. Skipped elsewhere, visibly: wine has no AppContainer and does not
// enforce ACLs or job limits.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SecurityProfile, toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWindowsSandbox } from '../src/backend.js';
import { buildWinProbe, findCompiler } from './helpers.js';

const windows = process.platform === 'win32';

if (!windows) {
  describe('escape suite: windows backend', () => {
    it.skip(`needs Windows (this is ${process.platform}); runs in the windows-latest CI job`, () => {});
  });
} else {
  describe('escape suite: windows backend', () => {
    const backend = createWindowsSandbox();
    let probe: string;
    let base: string;
    beforeAll(() => {
      const cc = findCompiler();
      if (!cc) throw new Error('no gcc on this Windows runner: cannot build the test program');
      probe = buildWinProbe(cc);
      base = mkdtempSync(join(tmpdir(), 'codex-win-esc-'));
    });
    afterAll(() => rmSync(base, { recursive: true, force: true }));

    it('AppContainer is available (the suite must not silently run degraded)', async () => {
      const s = await backend.probe();
      expect(s.selected, JSON.stringify(s.mechanisms)).toBe('appcontainer');
    });

    function world() {
      const dir = mkdtempSync(join(base, 'w-'));
      const ws = join(dir, 'ws');
      const outside = join(dir, 'outside');
      mkdirSync(join(ws, '.git', 'hooks'), { recursive: true });
      writeFileSync(join(ws, '.git', 'config'), '[core]\n');
      mkdirSync(join(ws, '.codex'));
      mkdirSync(outside);
      return { ws, outside };
    }
    async function run(profile: SecurityProfile, ws: string, args: string[], rung?: string, extra = {}) {
      const policy = toSandboxPolicy(profile, { workspaceRoots: [ws], explicit: true });
      return backend.run({
        policy,
        command: [probe, ...args],
        cwd: ws,
        allowDegraded: true,
        timeoutMs: 30_000,
        ...(rung ? { rung } : {}),
        ...extra,
      });
    }

    const writeCases: [string, SecurityProfile[], (w: { ws: string; outside: string }) => string][] = [
      [
        'create a file outside the workspace',
        ['offline', 'workspace-write', 'workspace-net'],
        (w) => join(w.outside, 'new.txt'),
      ],
      [
        'create a file in the workspace under a read-only profile',
        ['offline', 'net-read-only'],
        (w) => join(w.ws, 'new.txt'),
      ],
      ['overwrite .git\\config', ['workspace-write', 'workspace-net'], (w) => join(w.ws, '.git', 'config')],
      ['create a git hook', ['workspace-write'], (w) => join(w.ws, '.git', 'hooks', 'pre-commit')],
      ['write into .codex', ['workspace-write'], (w) => join(w.ws, '.codex', 'config.toml')],
    ];
    for (const [id, profiles, target] of writeCases) {
      describe(id, () => {
        it('control: escapes without a sandbox', async () => {
          const w = world();
          const r = await run(profiles[0]!, w.ws, ['write', target(w)], 'none');
          expect(r.stdout).toMatch(/ESCAPED/);
        });
        for (const profile of profiles) {
          for (const rung of ['appcontainer', 'restricted-token']) {
            it(`${profile} @ ${rung}`, async () => {
              const w = world();
              const before = existsSync(target(w)) ? readFileSync(target(w), 'utf8') : null;
              const r = await run(profile, w.ws, ['write', target(w)], rung);
              expect(r.stdout, r.stderr).toMatch(/DENIED/);
              expect(existsSync(target(w)) ? readFileSync(target(w), 'utf8') : null).toBe(before);
            });
          }
        }
      });
    }

    for (const rung of ['appcontainer', 'restricted-token']) {
      it(`works: writing inside the workspace under workspace-write @ ${rung}`, async () => {
        const w = world();
        const r = await run('workspace-write', w.ws, ['write', join(w.ws, 'ok.txt')], rung);
        expect(r.stdout, r.stderr).toMatch(/ESCAPED/);
        expect(existsSync(join(w.ws, 'ok.txt'))).toBe(true);
      });
    }

    describe('TCP connect to a 127.0.0.1 listener', () => {
      async function attempt(profile: SecurityProfile, rung?: string) {
        let hits = 0;
        const server = createServer((s) => {
          hits++;
          s.destroy();
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        const port = (server.address() as { port: number }).port;
        const w = world();
        const r = await run(profile, w.ws, ['connect', String(port)], rung);
        await new Promise((r2) => setTimeout(r2, 100));
        await new Promise<void>((r2) => server.close(() => r2()));
        return { hits, r };
      }
      it('control: connects without a sandbox', async () => {
        expect((await attempt('offline', 'none')).hits).toBeGreaterThan(0);
      });
      for (const profile of ['offline', 'workspace-write'] as const) {
        it(`${profile} @ appcontainer`, async () => {
          const { hits, r } = await attempt(profile);
          expect(hits, r.stdout).toBe(0);
        });
      }
    });

    it('the active-process limit contains a burst of processes', async () => {
      const w = world();
      const r = await run('offline', w.ws, ['spawn', '20'], undefined, { maxProcesses: 4 });
      const started = Number(/STARTED (\d+)/.exec(r.stdout)?.[1] ?? -1);
      expect(started).toBeGreaterThanOrEqual(0);
      expect(started).toBeLessThan(4);
    });

    it('the timeout kills the whole job', async () => {
      const w = world();
      const started = Date.now();
      const r = await run('offline', w.ws, ['sleep', '60000'], undefined, { timeoutMs: 1000 });
      expect(r.timedOut).toBe(true);
      expect(Date.now() - started).toBeLessThan(20_000);
    });
  });
}
