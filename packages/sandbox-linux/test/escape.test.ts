import { escapeSuite, registerEscapeSuite } from '@codex/sandbox-contract/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';

// Every rung of the degradation chain that can run here, plus the two single-layer rungs that
// show bubblewrap and Landlock each enforce on their own.
const suite = escapeSuite(createLinuxSandbox(), {
  rungs: ['full', 'landlock-seccomp', 'bwrap-seccomp', 'seccomp', 'landlock-only', 'bwrap-only'],
  controlRung: 'none',
  minCases: 50,
});
registerEscapeSuite(suite, { describe, it, beforeAll, afterAll });
