import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EXIT,
  AuditLogMissingError,
  AuditTrustedKeyRequiredError,
  auditExitCode,
  checkpointLog,
  checkpointPath,
  exportExitCodes,
  generateCheckpointKey,
  InvalidAuditFilterError,
  InvalidTimeSpecError,
  parseAuditFilter,
  publicKeyPem,
  trustedKeys,
  type VerifyResult,
  verifyLog,
} from '../src/index.js';
import { appendReads, tempDir } from './helpers/tmp.js';

const key = generateCheckpointKey();
const trusted = trustedKeys([publicKeyPem(key.publicKey)]);

async function logged(n: number): Promise<string> {
  const path = join(tempDir(), 'audit.jsonl');
  await appendReads(path, 1, n);
  return path;
}

const intact: VerifyResult = { ok: true, intact: true, status: 'ok', files: ['a'], entries: 3 };

describe('parseAuditFilter', () => {
  it('splits comma lists, keeps sessions and tasks, and reads times relative to now', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    const f = parseAuditFilter(
      {
        decision: ['denied,allowed'],
        operation: ['command_exec'],
        session: ['s1'],
        since: '1d',
        until: '2026-01-01',
      },
      now,
    );
    expect(f.decision).toEqual(['denied', 'allowed']);
    expect(f.operation).toEqual(['command_exec']);
    expect(f.session).toEqual(['s1']);
    expect(f.since).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(f.until).toEqual(new Date('2026-01-01'));
    expect(parseAuditFilter({})).toEqual({});
  });

  it('throws typed errors for unknown values and unreadable times', () => {
    const error = (() => {
      try {
        parseAuditFilter({ profile: ['offline', 'root'] });
      } catch (e) {
        return e;
      }
    })() as InvalidAuditFilterError;
    expect(error).toBeInstanceOf(InvalidAuditFilterError);
    expect(error.code).toBe('AUDIT_INVALID_FILTER');
    expect([error.field, error.value]).toEqual(['profile', 'root']);
    expect(error.allowed).toContain('offline');
    expect(() => parseAuditFilter({ since: 'yesterday' })).toThrow(InvalidTimeSpecError);
  });
});

describe('auditExitCode and exportExitCodes', () => {
  it('map results to the documented exit codes', () => {
    expect(auditExitCode(intact)).toBe(0);
    expect(auditExitCode({ ...intact, status: 'torn-tail' })).toBe(AUDIT_EXIT.TORN_TAIL);
    expect(auditExitCode(intact, { checkpoints: [] })).toBe(AUDIT_EXIT.MISSING_CHECKPOINT);
    const problem = { kind: 'edited', file: 'a', line: 2, message: 'bad' } as const;
    expect(auditExitCode({ ...intact, problem } as VerifyResult)).toBe(AUDIT_EXIT.TAMPERED);
    expect(
      auditExitCode({ ...intact, problem: { ...problem, beforeCheckpoint: true } } as VerifyResult),
    ).toBe(AUDIT_EXIT.EDITED_BEFORE_CHECKPOINT);
    expect(
      auditExitCode(intact, {
        checkpoints: [],
        problem: { kind: 'forged', file: 'c', line: 1, message: 'x' },
      }),
    ).toBe(AUDIT_EXIT.FORGED_CHECKPOINT);
  });

  it('gives an export the most serious host code', () => {
    const host = { host: 'h', log: 'l', result: intact, checkpoints: 1, duplicates: 0 };
    const r = exportExitCodes({
      file: 'x',
      hosts: [
        host,
        { ...host, host: 'g', checkpoints: 0 },
        { ...host, result: { ...intact, status: 'torn-tail' } },
      ],
    });
    expect(r.hosts.map((h) => h.exitCode)).toEqual([0, AUDIT_EXIT.MISSING_CHECKPOINT, AUDIT_EXIT.TORN_TAIL]);
    expect(r.exitCode).toBe(AUDIT_EXIT.MISSING_CHECKPOINT);
    expect(exportExitCodes({ file: 'x', hosts: [], problem: { line: 1, message: 'm' } }).exitCode).toBe(
      AUDIT_EXIT.TAMPERED,
    );
  });
});

describe('checkpointLog and verifyLog', () => {
  it('checkpoints a log and verifies it against the signed checkpoint', async () => {
    const path = await logged(3);
    expect(await verifyLog({ live: path, trusted })).toMatchObject({
      exitCode: AUDIT_EXIT.MISSING_CHECKPOINT,
      checkpoints: { checkpoints: [] },
    });
    const written = await checkpointLog(path, { key });
    expect(written).toMatchObject({ seq: 3, file: checkpointPath(path) });
    const v = await verifyLog({ live: path, trusted });
    expect(v.exitCode).toBe(0);
    expect(v.checkpoints?.checkpoints).toHaveLength(1);
    expect(v.result).toMatchObject({ ok: true, entries: 3 });
    expect((await verifyLog({ live: path, files: [path] })).checkpoints).toBeUndefined();
  });

  it('reports a missing log as unreadable and refuses a checkpoint file without keys', async () => {
    const live = join(tempDir(), 'none.jsonl');
    const v = await verifyLog({ live });
    expect(v.exitCode).toBe(AUDIT_EXIT.UNREADABLE);
    expect(v.result.problem).toMatchObject({ kind: 'unreadable', message: `no audit log at ${live}` });
    await expect(checkpointLog(live, { key })).rejects.toBeInstanceOf(AuditLogMissingError);
    const path = await logged(1);
    writeFileSync(checkpointPath(path), '');
    await expect(verifyLog({ live: path, checkpointFile: checkpointPath(path) })).rejects.toBeInstanceOf(
      AuditTrustedKeyRequiredError,
    );
  });
});
