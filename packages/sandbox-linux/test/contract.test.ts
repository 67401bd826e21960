import { existsSync, readFileSync } from 'node:fs';
import {
  assessRung,
  type BackendStatus,
  describeAssessment,
  requiredGuarantees,
} from '@codex/sandbox-contract';
import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';

describe('the OS-neutral contract module', () => {
  it('is @codex/sandbox-contract alone: no copy or re-export of it here', async () => {
    for (const shim of ['contract', 'errors', 'env', 'denials'])
      expect(existsSync(new URL(`../src/${shim}.ts`, import.meta.url))).toBe(false);
    const linux = await import('../src/index.js');
    const shared = await import('@codex/sandbox-contract');
    expect(Object.keys(linux).filter((name) => name in shared)).toEqual([]);
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(Object.keys(manifest.exports)).toEqual(['.', './package.json']);
  });

  // A made-up two-mechanism backend: the contract works for any OS.
  const status: BackendStatus = {
    backend: 'fake-os',
    platform: 'fake',
    mechanisms: [
      {
        id: 'box',
        label: 'box',
        available: true,
        reason: 'ok',
        provides: ['filesystem-write', 'protected-paths', 'network'],
      },
      { id: 'jail', label: 'jail', available: false, reason: 'not installed', provides: ['process-limit'] },
    ],
    rungs: [
      { id: 'strong', label: 'box+jail', mechanisms: ['box', 'jail'], available: true, missing: ['jail'] },
      { id: 'none', label: 'none', mechanisms: [], available: true, missing: [] },
    ],
    best: 'strong',
    forced: null,
    selected: 'strong',
  };

  it('assessRung names what enforces each guarantee, what is missing, and why', () => {
    const a = assessRung(toSandboxPolicy('workspace-write', { workspaceRoots: ['/w'] }), status, 'strong');
    expect(a.enforced['filesystem-write']).toEqual(['box']);
    expect(a.missing).toEqual([
      'private-tmp',
      'syscall-filter',
      'process-isolation',
      'process-limit',
      'secrets',
      'host-sockets',
      'metadata',
    ]);
    expect(a.unenforced).toEqual([]);
    expect(a.notes[0]).toBe('jail unavailable: not installed');
    expect(describeAssessment(a)).toBe(
      'profile workspace-write: fake-os sandbox, rung "strong" (box); NOT enforced: private-tmp, syscall-filter, process-isolation, process-limit, secrets, host-sockets, metadata',
    );
    const none = assessRung(toSandboxPolicy('offline'), status, 'none');
    expect(none.unenforced).toEqual(['filesystem-write', 'network']);
  });

  it('requiredGuarantees follows the profile', () => {
    expect(requiredGuarantees(toSandboxPolicy('net-read-only'))).not.toContain('network');
    expect(requiredGuarantees(toSandboxPolicy('offline'))).toContain('network');
    expect(requiredGuarantees(toSandboxPolicy('trusted', { explicit: true }))).toEqual([]);
  });
});
