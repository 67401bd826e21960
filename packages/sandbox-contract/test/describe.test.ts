import { toSandboxPolicy } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import {
  admit,
  assembleResult,
  assessRung,
  type BackendStatus,
  describeAssessment,
  describeBackendStatus,
  sandboxResultJson,
  selectRung,
} from '../src/index.js';

// A two-mechanism backend: "fs" enforces writes and the process limit, "net" the network.
function status(fs: boolean, forced: string | null = null): BackendStatus {
  const rungs = [
    { id: 'full', label: 'fs+net', mechanisms: ['fs', 'net'], available: fs, missing: fs ? [] : ['fs'] },
    { id: 'net-only', label: 'net', mechanisms: ['net'], available: true, missing: [], diagnostic: true },
    { id: 'none', label: 'none', mechanisms: [], available: true, missing: [] },
  ];
  const { best, selected } = selectRung(rungs, forced, 'none');
  return {
    ...{ backend: 'test', platform: 'testos', rungs, best, forced, selected },
    mechanisms: [
      {
        id: 'fs',
        label: 'FS',
        available: fs,
        reason: fs ? 'v2' : 'no fs here',
        provides: ['filesystem-write', 'process-limit'],
      },
      { id: 'net', label: 'NET', available: true, reason: 'ok', provides: ['network'] },
    ],
    diagnosis: fs
      ? []
      : [{ mechanism: 'fs', cause: 'fs-off', message: 'fs is switched off', fix: 'switch it on' }],
  };
}

const tags = (style: string, text: string) => `<${style}>${text}</${style}>`;

describe('describeBackendStatus', () => {
  it('the backend, the mechanism and rung tables with the selected rung starred', () => {
    const lines = describeBackendStatus(status(true), null);
    expect(lines.slice(0, 2)).toEqual(['Sandbox backend: test (testos)', '']);
    expect(lines[2]!.split('\n')).toEqual([
      'MECHANISM  AVAILABLE  WHY',
      'fs         yes        v2',
      'net        yes        ok',
    ]);
    expect(lines[4]!.split('\n').map((l) => l.split(/ {2,}/))).toEqual([
      ['RUNG', 'AVAILABLE', 'MECHANISMS', 'MISSING'],
      ['full *', 'yes', 'fs+net', '-'],
      ['net-only (diagnostic)', 'yes', 'net', '-'],
      ['none', 'yes', '-', '-'],
    ]);
    expect(lines[5]).toBe('* selected rung; best available: full');
    expect(lines).toHaveLength(6);
  });

  it('a weak host: what the profile gets, what is refused, what stays readable, and the fix', () => {
    const s = status(false);
    const effective = assessRung(toSandboxPolicy('offline'), s, s.selected);
    const lines = describeBackendStatus(s, effective, ['~/.ssh'], tags);
    expect(lines[2]).toContain('fs         <error>no</error>  no fs here');
    expect(lines).toContain(describeAssessment(effective));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^<error> {2}codex refuses this profile here unless --allow-degraded \(missing: .*filesystem-write/,
      ),
    );
    expect(lines).toContain('NOT masked on this rung: ~/.ssh');
    expect(lines.slice(-2)).toEqual([
      '<warning>Host: fs: fs is switched off</warning>',
      '  fix: switch it on',
    ]);
  });

  it('the forced rung is named', () => {
    expect(describeBackendStatus(status(true, 'none'), null).at(-1)).toBe(
      '* selected rung (forced by CODEX_SANDBOX_RUNG=none); best available: full',
    );
  });
});

describe('sandboxResultJson', () => {
  it('the run, its rung and denials; durations in whole milliseconds', () => {
    const s = status(false);
    const assessment = admit({ policy: toSandboxPolicy('offline'), command: ['ls'], allowDegraded: true }, s);
    const run = {
      ...{ exitCode: 1, signal: null, stdout: '', stderr: 'touch: /etc/x: Read-only file system\n' },
      ...{ stdoutTruncated: false, stderrTruncated: false, timedOut: false, durationMs: 12.6 },
    };
    const r = assembleResult(run, { assessment, strippedEnv: ['AWS_SECRET'], processLimit: 'none' });
    const json = sandboxResultJson(r);
    expect(json).toMatchObject({
      exitCode: 1,
      durationMs: 13,
      sandbox: assessment,
      strippedEnv: ['AWS_SECRET'],
    });
    expect(json.observedDenials).toEqual(r.observedDenials);
    expect(Object.keys(json)).not.toContain('assessment');
  });
});
