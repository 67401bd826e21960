import { describe, it } from 'vitest';
import { createMacosSandbox } from '../src/backend.js';
import { defineDarwinEscapeSuite } from './escape/darwin-suite.js';

// Real Seatbelt enforcement needs macOS: this runs in the macos-latest CI job
// (.github/workflows/sandbox-os.yml). Elsewhere it is skipped, visibly.
if (process.platform === 'darwin') {
  defineDarwinEscapeSuite(createMacosSandbox());
} else {
  describe('escape suite: macos backend', () => {
    it.skip(`needs macOS and /usr/bin/sandbox-exec (this is ${process.platform}); runs in the macos-latest CI job`, () => {});
  });
}
