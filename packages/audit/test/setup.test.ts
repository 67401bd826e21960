import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EXIT,
  AuditExportFilesError,
  AuditExportKeysRequiredError,
  AuditLogMissingError,
  AuditMissingKeyError,
  type AuditSetup,
  AuditTrustedKeyRequiredError,
  auditHmacKey,
  auditKeyDir,
  auditLogPath,
  CHECKPOINT_PUBLIC_KEY_FILE,
  checkpointAudit,
  generateCheckpointKey,
  InvalidAuditOptionsError,
  publicKeyPem,
  verifyAudit,
  verifyExportJson,
} from '../src/index.js';
import { appendReads, tempDir } from './helpers/tmp.js';

/** A CODEX_HOME with the default log path and a separate working directory. */
function setupIn(extra: Partial<AuditSetup> = {}): AuditSetup {
  return {
    config: { path: 'audit/audit.jsonl' },
    home: tempDir(),
    cwd: tempDir(),
    env: {},
    ...extra,
  };
}

describe('auditKeyDir, auditLogPath, auditHmacKey', () => {
  it('the key directory is <home>/audit; --file is relative to cwd, the config to home', () => {
    const s = setupIn();
    expect(auditKeyDir('/h')).toBe(join('/h', 'audit'));
    expect(auditLogPath(s)).toBe(join(s.home, 'audit', 'audit.jsonl'));
    expect(auditLogPath(s, 'x.jsonl')).toBe(join(s.cwd, 'x.jsonl'));
    expect(auditLogPath(s, '/abs/x.jsonl')).toBe('/abs/x.jsonl');
    expect(auditLogPath({ ...s, config: { path: '/var/log/a.jsonl' } })).toBe('/var/log/a.jsonl');
  });

  it('the flag wins over the config; each names itself when its variable is unset', () => {
    const s = setupIn({ config: { path: 'a.jsonl', hmac_key_env: 'CFG' }, env: { CFG: 'c', FLAG: 'f' } });
    expect(auditHmacKey(s)).toBe('c');
    expect(auditHmacKey(s, 'FLAG')).toBe('f');
    expect(auditHmacKey({ ...s, config: { path: 'a.jsonl' } })).toBeUndefined();
    expect(() => auditHmacKey(s, 'NOPE')).toThrow(/^--key-env names NOPE/);
    expect(() => auditHmacKey({ ...s, env: {} })).toThrow(AuditMissingKeyError);
    expect(() => auditHmacKey({ ...s, env: {} })).toThrow(/^audit\.hmac_key_env names CFG/);
  });
});

describe('checkpointAudit', () => {
  it('creates the host key once (telling onKeyCreated), signs the head and names key and file', async () => {
    const s = setupIn();
    await appendReads(auditLogPath(s), 1, 3);
    const created: string[] = [];
    const first = await checkpointAudit(s, { onKeyCreated: (dir) => created.push(dir) });
    expect(created).toEqual([auditKeyDir(s.home)]);
    expect(existsSync(join(auditKeyDir(s.home), CHECKPOINT_PUBLIC_KEY_FILE))).toBe(true);
    expect(Object.keys(first)).toEqual(['seq', 'hash', 'file', 'keyHint']);
    expect(first).toMatchObject({ seq: 3, file: `${auditLogPath(s)}.checkpoints` });
    const again = await checkpointAudit(s, { onKeyCreated: (dir) => created.push(dir) });
    expect(created).toHaveLength(1);
    expect(again.keyHint).toBe(first.keyHint);
  });

  it('signs --file with --key relative to cwd, and needs the HMAC key before any key is created', async () => {
    const s = setupIn({ env: { K: 'k3y' } });
    await appendReads(join(s.cwd, 'other.jsonl'), 1, 2); // an unkeyed chain: checkpointed as it is
    const other = generateCheckpointKey();
    writeFileSync(join(s.cwd, 'k.pem'), other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const r = await checkpointAudit(s, { file: 'other.jsonl', key: 'k.pem' });
    expect(r).toMatchObject({ seq: 2, keyHint: other.hint, file: join(s.cwd, 'other.jsonl.checkpoints') });
    await expect(checkpointAudit(s, { keyEnv: 'UNSET' })).rejects.toThrow(AuditMissingKeyError);
    expect(existsSync(auditKeyDir(s.home))).toBe(false);
  });

  it('no log: AUDIT_IO after the key was created and reported', async () => {
    const s = setupIn();
    const created: string[] = [];
    await expect(checkpointAudit(s, { onKeyCreated: (d) => created.push(d) })).rejects.toThrow(
      AuditLogMissingError,
    );
    expect(created).toHaveLength(1);
  });
});

describe('verifyAudit', () => {
  it('the configured log, checked against the host key once it exists', async () => {
    const s = setupIn();
    const none = await verifyAudit(s);
    expect(none).toMatchObject({ kind: 'log', exitCode: AUDIT_EXIT.UNREADABLE });
    await appendReads(auditLogPath(s), 1, 2);
    expect(await verifyAudit(s)).toMatchObject({ kind: 'log', exitCode: 0, checkpoints: undefined });
    mkdirSync(auditKeyDir(s.home), { recursive: true });
    await checkpointAudit(s);
    const v = await verifyAudit(s);
    expect(v).toMatchObject({ kind: 'log', exitCode: 0 });
    expect(v.kind === 'log' && v.checkpoints?.checkpoints).toHaveLength(1);
  });

  it('given files are relative to cwd, the last one is the live log; --checkpoints needs a key', async () => {
    const s = setupIn();
    await appendReads(join(s.cwd, 'a.jsonl'), 1, 2);
    const v = await verifyAudit(s, { files: ['a.jsonl'] });
    expect(v).toMatchObject({ kind: 'log', exitCode: 0, result: { files: [join(s.cwd, 'a.jsonl')] } });
    await expect(verifyAudit(s, { files: ['a.jsonl'], checkpoints: 'c' })).rejects.toThrow(
      AuditTrustedKeyRequiredError,
    );
    await appendReads(auditLogPath(s), 1, 1);
    const other = generateCheckpointKey();
    writeFileSync(join(s.cwd, 'other.pub.pem'), publicKeyPem(other.publicKey));
    const missing = await verifyAudit(s, { files: ['a.jsonl'], pubkeys: ['other.pub.pem'] });
    expect(missing).toMatchObject({ kind: 'log', exitCode: AUDIT_EXIT.MISSING_CHECKPOINT });
    await expect(verifyAudit(s, { pubkeys: ['nope.pem'] })).rejects.toThrow(InvalidAuditOptionsError);
  });

  it('a merged export: alone, with trusted keys, host by host', async () => {
    const s = setupIn();
    writeFileSync(join(s.cwd, 'export.jsonl'), 'not json\n');
    await expect(verifyAudit(s, { export: 'export.jsonl' })).rejects.toThrow(AuditExportKeysRequiredError);
    const key = generateCheckpointKey();
    writeFileSync(join(s.cwd, 'host.pub.pem'), publicKeyPem(key.publicKey));
    await expect(
      verifyAudit(s, { export: 'export.jsonl', files: ['a.jsonl'], pubkeys: ['host.pub.pem'] }),
    ).rejects.toThrow(AuditExportFilesError);
    const v = await verifyAudit(s, { export: 'export.jsonl', pubkeys: ['host.pub.pem'] });
    expect(v).toMatchObject({
      kind: 'export',
      result: { file: join(s.cwd, 'export.jsonl'), problem: { line: 1, message: 'not JSON' } },
    });
    if (v.kind !== 'export') throw new Error('not an export');
    expect(verifyExportJson(v.result)).toEqual({
      file: join(s.cwd, 'export.jsonl'),
      problem: { line: 1, message: 'not JSON' },
      hosts: [],
      exitCode: AUDIT_EXIT.TAMPERED,
    });
    expect(Object.keys(verifyExportJson({ file: 'f', hosts: [] }))).toEqual(['file', 'hosts', 'exitCode']);
  });
});
