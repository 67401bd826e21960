import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Assessment, BackendStatus, SandboxBackend, SandboxResult } from '@codex/sandbox-contract';
import { defaultConfig, type SandboxPolicy } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maskedSecretPaths, runSandboxOnly, sandboxStatus } from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-sandbox-run-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function fakeBackend(unenforced: string[]): { backend: SandboxBackend; requests: unknown[] } {
  const assessment = {
    ...{ backend: 'fake', rung: 'weak', mechanisms: ['rlimit'], enforced: {}, required: [], missing: [] },
    ...{ unenforced, full: unenforced.length === 0, skipped: false, notes: [] },
  } as unknown as Assessment;
  const requests: unknown[] = [];
  const backend: SandboxBackend = {
    id: 'fake',
    probe: async () => ({}) as BackendStatus,
    assess: () => assessment,
    run: async (request) => {
      requests.push(request);
      return {
        ...{ exitCode: 3, signal: null, timedOut: false, durationMs: 1, stdout: '', stderr: '' },
        ...{
          stdoutTruncated: false,
          stderrTruncated: false,
          assessment,
          strippedEnv: [],
          observedDenials: [],
        },
        processLimit: 'rlimit',
      } as unknown as SandboxResult;
    },
  };
  return { backend, requests };
}

const policy = { denyRead: ['/secret'] } as unknown as SandboxPolicy;
const log = () => join(home, 'audit', 'audit.jsonl');

describe('runSandboxOnly', () => {
  it('reports the assessment, runs the request and audits a degraded run with its exit code', async () => {
    const { backend, requests } = fakeBackend(['filesystem']);
    const seen: string[] = [];
    const r = await runSandboxOnly({
      ...{ backend, profile: 'offline', config: defaultConfig(), codexHome: home, env: {} },
      ...{ policy, command: ['make', 'test'], allowDegraded: true },
      onAssessment: (a) => seen.push(a.rung),
    });
    expect(r.exitCode).toBe(3);
    expect(seen).toEqual(['weak']);
    expect(requests).toEqual([expect.objectContaining({ command: ['make', 'test'], allowDegraded: true })]);
    const entry = JSON.parse(readFileSync(log(), 'utf8').trim()) as Record<string, string>;
    expect(entry).toMatchObject({
      operation: 'process_spawn',
      target: 'make test',
      agent_type: 'codex-sandbox-run',
    });
    expect(entry.reason).toMatch(/rung weak \(rlimit\), which does NOT enforce filesystem: exit 3$/);
  });

  it('writes nothing to the audit log when the rung enforces the profile', async () => {
    const { backend } = fakeBackend([]);
    await runSandboxOnly({
      backend,
      profile: 'offline',
      config: defaultConfig(),
      codexHome: home,
      policy,
      command: ['true'],
    });
    expect(existsSync(log())).toBe(false);
  });
});

describe('maskedSecretPaths', () => {
  it('lists what the policy masks (resolved on Linux)', async () => {
    const paths = await maskedSecretPaths(policy);
    expect(Array.isArray(paths)).toBe(true);
    if (process.platform !== 'linux') expect(paths).toEqual(['/secret']);
  });
});

describe('sandboxStatus', () => {
  it('probes afresh, assesses the policy at the rung asked for and lists the masked secrets', async () => {
    const { backend } = fakeBackend([]);
    const calls: unknown[] = [];
    const probed = { backend: 'fake', best: 'weak' } as unknown as BackendStatus;
    const spy: SandboxBackend = {
      ...backend,
      probe: async (options) => {
        calls.push(['probe', options]);
        return probed;
      },
      assess: (p, status, rung) => {
        calls.push(['assess', p, status, rung]);
        return backend.assess(p, status, rung);
      },
    };
    const s = await sandboxStatus(spy, policy, 'weak');
    expect(calls).toEqual([
      ['probe', { refresh: true }],
      ['assess', policy, probed, 'weak'],
    ]);
    expect(s.status).toBe(probed);
    expect(s.effective.rung).toBe('weak');
    expect(s.masked).toEqual(await maskedSecretPaths(policy));
  });
});
