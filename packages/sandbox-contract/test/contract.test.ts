import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import {
  admit,
  assembleResult,
  assessRung,
  type BackendStatus,
  describeAssessment,
  InvalidCommandError,
  InvalidRungError,
  requiredGuarantees,
  SandboxDegradedError,
  SandboxUnavailableError,
  selectRung,
  UnsupportedPolicyError,
} from '../src/index.js';

// A two-mechanism backend: "fs" enforces writes + protected paths, "net" enforces the network.
function status(over: { fs?: boolean; net?: boolean; forced?: string | null } = {}): BackendStatus {
  const fs = over.fs ?? true;
  const net = over.net ?? true;
  const rungs = [
    { id: 'full', label: 'fs+net', mechanisms: ['fs', 'net'], available: fs && net, missing: [] as string[] },
    { id: 'fs-only', label: 'fs', mechanisms: ['fs'], available: fs, missing: [] as string[] },
    { id: 'none', label: 'none', mechanisms: [], available: true, missing: [] },
  ].map((r) => ({
    ...r,
    missing: r.mechanisms.filter((m) => (m === 'fs' ? !fs : m === 'net' ? !net : false)),
  }));
  const { best, selected } = selectRung(rungs, over.forced ?? null, 'none');
  return {
    backend: 'test',
    platform: 'test',
    mechanisms: [
      {
        id: 'fs',
        label: 'FS',
        available: fs,
        reason: fs ? 'ok' : 'missing fs',
        provides: ['filesystem-write', 'protected-paths', 'process-limit'],
      },
      { id: 'net', label: 'NET', available: net, reason: net ? 'ok' : 'missing net', provides: ['network'] },
    ],
    rungs,
    best,
    forced: over.forced ?? null,
    selected,
  };
}

const ws = { workspaceRoots: ['/w'] };

describe('requiredGuarantees', () => {
  it('follows the policy', () => {
    expect(requiredGuarantees(toSandboxPolicy('offline'))).toEqual([
      'filesystem-write',
      'network',
      'private-tmp',
      'syscall-filter',
      'process-isolation',
      'process-limit',
      'secrets',
      'host-sockets',
      'metadata',
    ]);
    expect(requiredGuarantees(toSandboxPolicy('workspace-net', ws))).toContain('protected-paths');
    expect(requiredGuarantees(toSandboxPolicy('workspace-net', ws))).not.toContain('network');
    expect(requiredGuarantees(toSandboxPolicy('trusted', { explicit: true }))).toEqual([]);
  });
});

describe('assessRung', () => {
  it('maps guarantees to the mechanisms of the rung and lists what is missing', () => {
    const a = assessRung(toSandboxPolicy('offline'), status(), 'fs-only');
    expect(a.enforced['filesystem-write']).toEqual(['fs']);
    expect(a.enforced.network).toBeUndefined();
    expect(a.unenforced).toEqual(['network']);
    expect(a.full).toBe(false);
    expect(a.notes.join('\n')).toContain('runs without: net');
    expect(describeAssessment(a)).toContain('NOT enforced: network');
  });
  it('full is only the first, available rung', () => {
    expect(assessRung(toSandboxPolicy('offline'), status(), 'full').full).toBe(true);
    expect(assessRung(toSandboxPolicy('offline'), status({ net: false }), 'full').full).toBe(false);
  });
  it('explains unavailable mechanisms', () => {
    const a = assessRung(toSandboxPolicy('offline'), status({ net: false }), 'full');
    expect(a.notes).toContain('NET unavailable: missing net');
    expect(a.mechanisms).toEqual(['fs']);
  });
  it('rejects an unknown rung', () => {
    expect(() => assessRung(toSandboxPolicy('offline'), status(), 'nope')).toThrow(/unknown rung "nope"/);
    // a typed error (exec reports it as a refusal, exit 125), naming the rungs there are
    expect(() => assessRung(toSandboxPolicy('offline'), status(), 'nope')).toThrow(
      expect.objectContaining({
        code: 'SANDBOX_INVALID_RUNG',
        message: expect.stringMatching(/use one of /),
      }),
    );
  });
});

describe('selectRung', () => {
  it('picks the first available, honours forced', () => {
    expect(status().selected).toBe('full');
    expect(status({ net: false }).selected).toBe('fs-only');
    expect(status({ fs: false }).selected).toBe('none');
    expect(status({ forced: 'none' }).selected).toBe('none');
  });
});

describe('admit (fail-closed)', () => {
  const req = (over: object = {}) => ({ policy: toSandboxPolicy('offline'), command: ['true'], ...over });
  it('admits what the rung enforces', () => {
    expect(admit(req(), status()).rung).toBe('full');
  });
  it('refuses a profile whose hard guarantees are missing unless allowDegraded', () => {
    const s = status({ net: false });
    const err = (() => {
      try {
        admit(req(), s);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SandboxUnavailableError);
    expect((err as SandboxUnavailableError).code).toBe('SANDBOX_UNAVAILABLE');
    expect((err as SandboxUnavailableError).missing).toEqual(['network']);
    expect(admit(req({ allowDegraded: true }), s).unenforced).toEqual(['network']);
    // A full-network policy does not need the network mechanism (net-read-only is proxied now,
    // which a backend must opt into with networkModes).
    const fullNet = { ...toSandboxPolicy('net-read-only'), network: { mode: 'full' as const } };
    expect(admit(req({ policy: fullNet }), s).rung).toBe('fs-only');
    expect(() => admit(req({ policy: toSandboxPolicy('net-read-only') }), s)).toThrow(UnsupportedPolicyError);
  });
  it('requireFullIsolation refuses a weaker rung', () => {
    expect(() =>
      admit(req({ requireFullIsolation: true, rung: 'fs-only', allowDegraded: true }), status()),
    ).toThrow(SandboxDegradedError);
  });
  it('refuses unknown and unavailable rungs, empty commands and unknown network modes', () => {
    expect(() => admit(req({ rung: 'x' }), status())).toThrow(InvalidRungError);
    expect(() => admit(req({ rung: 'full' }), status({ fs: false }))).toThrow(InvalidRungError);
    expect(() => admit(req({ command: [] }), status())).toThrow(InvalidCommandError);
    const proxied = { ...toSandboxPolicy('offline'), network: { mode: 'proxied' } } as never;
    expect(() => admit(req({ policy: proxied }), status())).toThrow(UnsupportedPolicyError);
    expect(
      admit(req({ policy: proxied }), status(), { networkModes: ['none', 'full', 'proxied'] }).rung,
    ).toBe('full');
  });
  it('trusted (explicit) skips the sandbox even on an unavailable rung', () => {
    const a = admit(
      req({ policy: toSandboxPolicy('trusted', { explicit: true }) }),
      status({ fs: false, net: false }),
    );
    expect(a.skipped).toBe(true);
  });
});

describe('browser-safe main entry', () => {
  it('no node: import outside the node-only subpaths (./process, ./git, ./state) and the test-only src/testing/ kit', () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
    const nodeOnly = ['process.ts', 'git-links.ts', 'state-dirs.ts'];
    // Nothing the main entry reaches imports them.
    for (const f of readdirSync(src).filter((f) => f.endsWith('.ts') && !nodeOnly.includes(f)))
      expect(readFileSync(join(src, f), 'utf8'), f).not.toMatch(
        /from '\.\/(process|git-links|state-dirs)\.js'/,
      );
    const offenders = readdirSync(src)
      .filter((f) => !nodeOnly.includes(f) && f !== 'testing')
      .filter((f) => {
        // Code only: comments may mention process.env.
        const code = readFileSync(join(src, f), 'utf8')
          .replace(/\/\*[\s\S]*?\*\//g, '')
          .replace(/\/\/.*$/gm, '');
        return /from 'node:|require\(|\bprocess\.|\bBuffer\b/.test(code);
      });
    expect(offenders).toEqual([]);
  });
});

describe('assembleResult', () => {
  const run = {
    exitCode: 1,
    signal: null,
    stdout: '',
    stderr: 'touch: /etc/x: Read-only file system\n',
    stdoutTruncated: false,
    stderrTruncated: false,
    timedOut: false,
    durationMs: 12,
  };
  const assessment = admit(
    { policy: toSandboxPolicy('offline'), command: ['ls'], allowDegraded: true },
    status({ fs: false, net: false }),
  );
  it('the captured run plus what the backend knows; denials read from stderr unless given', () => {
    const r = assembleResult(run, { assessment, strippedEnv: ['AWS_SECRET'], processLimit: 'none' });
    expect(r).toEqual({
      ...run,
      assessment,
      strippedEnv: ['AWS_SECRET'],
      observedDenials: [{ kind: 'read-only-filesystem', evidence: 'touch: /etc/x: Read-only file system' }],
      processLimit: 'none',
    });
    const given = [{ kind: 'secret-read' as const, evidence: 'x' }];
    expect(
      assembleResult(run, { assessment, strippedEnv: [], processLimit: 'rlimit', observedDenials: given })
        .observedDenials,
    ).toBe(given);
  });
});
