import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWindowsSandbox } from '../src/backend.js';
import { parseHelperProbe, probeWindows } from '../src/probe.js';
import { buildWindowsCommandLine } from '../src/quote.js';
import { buildWinProbe, findCompiler, HELPER, windowsRunner } from './helpers.js';

const cc = findCompiler();
const runner = windowsRunner();
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe.skipIf(!cc)(
  `the native helper builds (${cc ?? 'no mingw-w64 compiler: apt-get install mingw-w64'})`,
  () => {
    it('scripts/build-helper.mjs compiles native/codex-sandbox-win.c with -Wall -Wextra -Werror', () => {
      rmSync(HELPER, { force: true });
      execFileSync(process.execPath, [join(root, 'scripts', 'build-helper.mjs')], { stdio: 'pipe' });
      expect(existsSync(HELPER)).toBe(true);
      // A PE executable: "MZ" header.
      expect(readFileSync(HELPER).subarray(0, 2).toString('latin1')).toBe('MZ');
      expect(statSync(HELPER).size).toBeGreaterThan(10_000);
    });
  },
);

const canRun = Boolean(cc && runner);
describe.skipIf(!canRun)(
  `the helper runs (${process.platform === 'win32' ? 'natively' : runner ? 'under wine64' : 'needs wine64 here: apt-get install wine64'})`,
  () => {
    let probeExe: string;
    const run = (args: string[], timeout = 60_000) => {
      const r = spawnSync(
        runner!.launcher[0] ?? HELPER,
        [...runner!.launcher.slice(1), ...(runner!.launcher.length ? [HELPER] : []), ...args],
        {
          env: runner!.env,
          encoding: 'utf8',
          timeout,
        },
      );
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    beforeAll(() => {
      if (!existsSync(HELPER)) execFileSync(process.execPath, [join(root, 'scripts', 'build-helper.mjs')]);
      probeExe = runner!.toWin(buildWinProbe(cc!));
    });
    afterAll(() => {
      /* the probe directory is in the OS temp dir */
    });
    const hex = (s: string) => [...s].map((c) => c.charCodeAt(0).toString(16).padStart(4, '0')).join('');

    it('--probe reports each mechanism', () => {
      const r = run(['--probe']);
      expect(r.code).toBe(0);
      const p = parseHelperProbe(r.stdout);
      expect(Object.keys(p).sort()).toEqual(['appcontainer', 'job', 'restricted-token']);
      expect(p.job?.ok).toBe(true);
      expect(p['restricted-token']?.ok).toBe(true);
      if (process.platform !== 'win32') {
        // wine has no AppContainer (userenv.dll does not export CreateAppContainerProfile).
        expect(p.appcontainer).toEqual({
          ok: false,
          reason: expect.stringMatching(/CreateAppContainerProfile/),
        });
      } else {
        expect(p.appcontainer?.ok).toBe(true);
      }
    });

    it('passes hostile arguments through Windows command-line parsing unchanged (job-only and restricted token)', () => {
      const args = ['a b', 'c"d', 'e\\', 'f\\"g', '', ' ', '\\\\srv\\share\\', 'ünï ✓', '%PATH%', 'x&y|z'];
      for (const mode of ['job-only', 'restricted-token']) {
        const line = buildWindowsCommandLine([probeExe, 'args', ...args]);
        const r = run(['--mode', mode, '--', line]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.split(/\r?\n/).slice(0, args.length)).toEqual(args.map(hex));
      }
    });

    it('propagates the exit code', () => {
      expect(run(['--mode', 'restricted-token', '--', `${probeExe} exit 7`]).code).toBe(7);
      expect(run(['--mode', 'job-only', '--', `${probeExe} exit 0`]).code).toBe(0);
    });

    it('enforces its own timeout: kills the job, exits 124 and says so', () => {
      const started = Date.now();
      const r = run(['--mode', 'restricted-token', '--timeout-ms', '500', '--', `${probeExe} sleep 30000`]);
      expect(r.code).toBe(124);
      expect(r.stderr).toMatch(/codex-sandbox-win: timeout after 500 ms/);
      expect(Date.now() - started).toBeLessThan(15_000);
    });

    it('fails closed with exit 121 and a reason for bad input', () => {
      for (const args of [
        ['--mode', 'bogus', '--', 'x'],
        ['--max-processes', 'ten', '--', 'x'],
        ['--mode', 'job-only'],
        ['--grant-write'],
      ]) {
        const r = run(args);
        expect(r.code, args.join(' ')).toBe(121);
        expect(r.stderr).toMatch(/^codex-sandbox-win: /m);
      }
      const missing = run(['--mode', 'job-only', '--', 'Z:\\nonexistent\\nothing.exe']);
      expect(missing.code).toBe(121);
      expect(missing.stderr).toMatch(/CreateProcess failed/);
    });

    it.skipIf(process.platform === 'win32')(
      'under wine: AppContainer mode fails closed (121), it never runs unsandboxed',
      () => {
        const r = run(['--mode', 'appcontainer', '--', `${probeExe} exit 0`]);
        expect(r.code).toBe(121);
        expect(r.stderr).toMatch(/AppContainer API lookup/);
      },
    );

    it.skipIf(process.platform !== 'win32')(
      'the active-process limit stops extra processes (native only: wine ignores it)',
      () => {
        const r = run(['--mode', 'job-only', '--max-processes', '3', '--', `${probeExe} spawn 6`]);
        expect(r.stdout).toMatch(/STARTED [0-2]\b/);
      },
    );

    it('the TypeScript probe reads the helper and selects the strongest rung that works', async () => {
      const p = await probeWindows({
        platform: 'win32',
        helperPath: HELPER,
        launcher: runner!.launcher,
        env: {},
        refresh: true,
      });
      if (process.platform === 'win32') {
        expect(p.status.selected).toBe('appcontainer');
      } else {
        expect(p.status.selected).toBe('restricted-token');
        expect(p.status.rungs.find((r) => r.id === 'appcontainer')).toMatchObject({
          available: false,
          missing: ['appcontainer'],
        });
      }
    });

    it.skipIf(process.platform === 'win32')(
      'under wine, the backend degrades to the restricted token and refuses offline (no network block)',
      async () => {
        const backend = createWindowsSandbox({
          platform: 'win32',
          helperPath: HELPER,
          launcher: runner!.launcher,
          env: {},
          toHelperPath: runner!.toWin,
          resolveProgram: (c) => c,
        });
        const policy = toSandboxPolicy('offline', { workspaceRoots: [root] });
        await expect(
          backend.run({ policy, command: [probeExe, 'exit', '0'], env: runner!.env }),
        ).rejects.toMatchObject({
          code: 'SANDBOX_UNAVAILABLE',
          missing: ['network'],
        });
        const r = await backend.run({
          policy,
          command: [probeExe, 'args', 'x y'],
          env: runner!.env,
          allowDegraded: true,
        });
        expect(r.exitCode).toBe(0);
        expect(r.stdout.trim()).toBe(hex('x y'));
        expect(r.assessment.rung).toBe('restricted-token');
        expect(r.assessment.notes.join('\n')).toMatch(/AppContainer unavailable/);
        expect(r.assessment.notes.join('\n')).toMatch(/restricted token does not block sockets/);
        expect(r.processLimit).toMatch(/job-object active-process-limit=256/);
      },
    );
  },
);
