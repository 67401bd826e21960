import { fileURLToPath } from 'node:url';
import { runSuite } from '../../../scripts/bench-lib.mjs';
import { parseConfig, parseProfile, toSandboxPolicy } from '../dist/index.js';

const roots = ['/home/me/project', '/home/me/project/sub', '/var/cache/build'];
await runSuite({
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  name: '@codex/security-profile',
  tasks: {
    'object literal (baseline)': () => ({ profile: 'offline', roots: [...roots] }),
    'parseProfile(alias)': () => parseProfile('WorkspaceNet'),
    'toSandboxPolicy(workspace-write, 3 roots)': () =>
      toSandboxPolicy('workspace-write', { workspaceRoots: roots }),
    'parseConfig(typical)': () =>
      parseConfig({ profile: 'workspace', sandbox: { extra_writable_roots: ['/tmp/cache'] } }),
  },
});
