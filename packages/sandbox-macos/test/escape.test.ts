import {
  DARWIN_FIXTURES,
  escapeSuite,
  NOT_ON_MACOS,
  registerEscapeSuite,
} from '@codex/sandbox-contract/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createMacosSandbox } from '../src/backend.js';

// Real Seatbelt enforcement needs macOS: this runs in the macos-latest CI job
// (.github/workflows/sandbox-os.yml). Elsewhere it is skipped, visibly.
if (process.platform === 'darwin') {
  // The shared escape table (with the cases only Seatbelt expresses) against the Seatbelt rung.
  // The runner is not root: some controls (e.g. writing /etc) are denied by plain permissions;
  // such a case proves nothing here and is skipped, saying so.
  const suite = escapeSuite(createMacosSandbox(), {
    rungs: ['seatbelt'],
    controlRung: 'none',
    fixtures: DARWIN_FIXTURES,
    notHere: NOT_ON_MACOS,
    controlNotEscaped: 'skip',
    requireRung: 'seatbelt',
  });
  registerEscapeSuite(suite, { describe, it, beforeAll, afterAll });
} else {
  describe('escape suite: macos backend', () => {
    it.skip(`needs macOS and /usr/bin/sandbox-exec (this is ${process.platform}); runs in the macos-latest CI job`, () => {});
  });
}
