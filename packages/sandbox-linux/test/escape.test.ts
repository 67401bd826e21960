import { defineEscapeSuite } from '@codex/sandbox-contract/testing';
import { createLinuxSandbox } from '../src/backend.js';

// Every rung of the degradation chain that can run here, plus the two single-layer rungs that
// show bubblewrap and Landlock each enforce on their own.
defineEscapeSuite(createLinuxSandbox(), {
  rungs: ['full', 'landlock-seccomp', 'bwrap-seccomp', 'seccomp', 'landlock-only', 'bwrap-only'],
  controlRung: 'none',
});
