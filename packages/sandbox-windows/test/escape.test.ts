// Real enforcement on Windows (the windows-latest job in .github/workflows/sandbox-os.yml):
// AppContainer + Job Object against real processes, each escape with a control run that must
// succeed without the sandbox. Skipped elsewhere, visibly: wine has no AppContainer and does not
// enforce ACLs or job limits. The cases are the Windows table of @codex/sandbox-contract/testing
// (its tests check which cases and rungs a Windows backend gets).
import {
  escapeSuite,
  registerEscapeSuite,
  WINDOWS_CASES,
  windowsFixtures,
} from '@codex/sandbox-contract/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createWindowsSandbox } from '../src/backend.js';
import { buildWinProbe, findCompiler } from './helpers.js';

if (process.platform === 'win32') {
  const suite = escapeSuite(createWindowsSandbox(), {
    rungs: ['appcontainer', 'restricted-token'],
    controlRung: 'none',
    cases: WINDOWS_CASES,
    fixtures: windowsFixtures(() => {
      const cc = findCompiler();
      if (!cc) throw new Error('no gcc on this Windows runner: cannot build the test program');
      return buildWinProbe(cc);
    }),
    requireRung: 'appcontainer',
  });
  registerEscapeSuite(suite, { describe, it, beforeAll, afterAll });
} else {
  describe('escape suite: windows backend', () => {
    it.skip(`needs Windows (this is ${process.platform}); runs in the windows-latest CI job`, () => {});
  });
}
