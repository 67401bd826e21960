import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SandboxPolicy, SECURITY_PROFILES, toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { checkSeatbeltProfile } from '../src/check.js';
import { generateSeatbeltProfile, type SeatbeltOptions } from '../src/profile.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const ws = '/Users/dev/project';

interface Golden {
  readonly name: string;
  readonly policy: SandboxPolicy;
  readonly options?: SeatbeltOptions;
}

const goldens: Golden[] = [
  // Every profile, as toSandboxPolicy gives it (trusted without `explicit` still gets a profile).
  ...SECURITY_PROFILES.map((p) => ({ name: p, policy: toSandboxPolicy(p, { workspaceRoots: [ws] }) })),
  {
    name: 'workspace-write+gitdir+tmpdir',
    policy: toSandboxPolicy('workspace-write', {
      workspaceRoots: [ws],
      extraWritableRoots: ['/Users/dev/.cache/build'],
    }),
    options: {
      extraProtectedPaths: [`${ws}/vendor/sub/.gitdir-target`, '/Users/dev/elsewhere/repo.git'],
      tmpDir: '/private/var/folders/xy/T/codex-sbx-tmp-abc',
    },
  },
  { name: 'offline+proxy', policy: toSandboxPolicy('offline'), options: { proxyPorts: [8877, 3128] } },
  // Proxied profiles: only the egress proxy's loopback port, nothing else.
  {
    name: 'workspace-net+egress-proxy',
    policy: toSandboxPolicy('workspace-net', { workspaceRoots: [ws], egress: { allow: ['preset:npm'] } }),
    options: { proxyPorts: [3128] },
  },
  {
    // The deny-read list as the backend resolves it (home expanded, canonical paths).
    name: 'workspace-net+deny-read',
    policy: toSandboxPolicy('workspace-net', { workspaceRoots: [ws], homeDir: '/Users/dev' }),
    options: { denyRead: ['/Users/dev/.ssh', '/Users/dev/.aws', '/Users/dev/.netrc'], proxyPorts: [3128] },
  },
  {
    name: 'path-quoting',
    policy: toSandboxPolicy('workspace-net', { workspaceRoots: ['/Users/dev/we "ird" \\ dir'] }),
  },
];

describe('golden Seatbelt profiles (compared exactly)', () => {
  it('covers every security profile', () => {
    for (const p of SECURITY_PROFILES) expect(goldens.some((g) => g.name === p)).toBe(true);
  });
  for (const g of goldens) {
    it(g.name, () => {
      const text = generateSeatbeltProfile(g.policy, g.options);
      const file = join(dir, `${g.name}.sb`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
      expect(existsSync(file), `missing golden ${file}; run pnpm golden:update and review it`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
      // Every golden also passes the structural checker for its own policy.
      expect(checkSeatbeltProfile(text, g.policy, g.options)).toEqual([]);
    });
  }
});
