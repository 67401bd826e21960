import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EXIT,
  AUDIT_EXIT_LABELS,
  auditStats,
  checkpointLog,
  describeAuditEntry,
  describeAuditStats,
  describeExportVerify,
  describeVerify,
  generateCheckpointKey,
  publicKeyPem,
  readEntries,
  trustedKeys,
  type VerifyResult,
  verifyLog,
  verifyLogJson,
} from '../src/index.js';
import { appendReads, tempDir } from './helpers/tmp.js';

const tags = (style: string, text: string) => `<${style}>${text}</${style}>`;

async function logged(n: number): Promise<string> {
  const path = join(tempDir(), 'audit.jsonl');
  await appendReads(path, 1, n);
  return path;
}

describe('describeVerify', () => {
  it('an intact log: OK, the span and chain, and that cuts from the end go unseen without a key', async () => {
    const path = await logged(3);
    const v = await verifyLog({ live: path, files: [], partial: false });
    const lines = describeVerify(v.result, v.exitCode, v.checkpoints, tags);
    expect(lines).toEqual([
      `<ok>OK</ok>: 3 entries intact (seq 1..3, sha256 chain) in 1 file<dim>; no trusted checkpoint key: lines cut from the end cannot be detected</dim>`,
    ]);
  });

  it('with signed checkpoints: counts them; an edited line is named with its place', async () => {
    const path = await logged(3);
    const key = generateCheckpointKey();
    await checkpointLog(path, { key });
    const trusted = trustedKeys([publicKeyPem(key.publicKey)]);
    const ok = await verifyLog({ live: path, files: [], partial: false, trusted });
    expect(describeVerify(ok.result, ok.exitCode, ok.checkpoints)[0]).toMatch(
      /^OK: 3 entries intact .* in 1 file; 1 signed checkpoint up to seq 3$/,
    );
    writeFileSync(path, readFileSync(path, 'utf8').replace('/f2', '/fX'));
    const bad = await verifyLog({ live: path, files: [], partial: false, trusted });
    const lines = describeVerify(bad.result, bad.exitCode, bad.checkpoints);
    expect(bad.exitCode).toBe(AUDIT_EXIT.EDITED_BEFORE_CHECKPOINT);
    expect(lines[0]).toMatch(new RegExp(`^EDITED BEFORE CHECKPOINT: ${path}:2: `));
    expect(lines[1]).toMatch(/^1 entries verified before the problem, in 1 file; 1 signed checkpoint/);
  });

  it('no log, a missing checkpoint file and a torn tail each get their own verdict', async () => {
    const dir = tempDir();
    const none = await verifyLog({ live: join(dir, 'none.jsonl'), files: [], partial: false });
    expect(describeVerify(none.result, none.exitCode)[0]).toMatch(/^UNREADABLE: .*no audit log at/);

    const path = await logged(2);
    const trusted = trustedKeys([publicKeyPem(generateCheckpointKey().publicKey)]);
    const missing = await verifyLog({ live: path, files: [], partial: false, trusted });
    expect(describeVerify(missing.result, missing.exitCode, missing.checkpoints)).toEqual([
      expect.stringMatching(
        /^MISSING CHECKPOINT: no checkpoint file; 2 entries \(seq 1\.\.2, .*\) are covered by no signed checkpoint$/,
      ),
    ]);

    // A writer that crashed mid-line: the first 20 bytes of the third entry.
    const three = await logged(3);
    const [a, b, c] = readFileSync(three, 'utf8').split('\n');
    writeFileSync(path, `${a}\n${b}\n${c!.slice(0, 20)}`);
    const torn = await verifyLog({ live: path, files: [], partial: false });
    const lines = describeVerify(torn.result, torn.exitCode, undefined, tags);
    expect(lines[0]).toMatch(/^<warning>TORN TAIL<\/warning>: .*:3: last line incomplete \(20 bytes\)/);
    expect(lines[1]).toMatch(/^2 entries intact/);
  });

  it('verifyLogJson is the result, the checkpoint file summary and the exit code', () => {
    const r: VerifyResult = { ok: true, intact: true, status: 'ok', files: ['a'], entries: 0 };
    expect(verifyLogJson(r, 0)).toEqual({ ...r, exitCode: 0 });
    expect(verifyLogJson(r, 7, { checkpoints: [], missing: true, tornTail: false } as never)).toEqual({
      ...r,
      checkpointFile: { count: 0, missingFile: true },
      exitCode: 7,
    });
  });

  it('labels every failing exit code', () => {
    for (const code of Object.values(AUDIT_EXIT)) expect(AUDIT_EXIT_LABELS[code]).toMatch(/^[A-Z ]+$/);
  });
});

describe('describeExportVerify', () => {
  it('one line per host with the most serious exit code; an empty export says so', () => {
    const result: VerifyResult = {
      ok: true,
      intact: true,
      status: 'ok',
      files: ['x'],
      entries: 2,
      firstSeq: 0,
      lastSeq: 1,
    };
    const host = { host: 'web-1', log: '/var/log/a.jsonl', result, checkpoints: 1, duplicates: 2 };
    const ok = describeExportVerify({ file: 'e.jsonl', hosts: [host] }, tags);
    expect(ok).toEqual({
      lines: [
        '<ok>OK</ok>: host web-1 (/var/log/a.jsonl): 2 entries seq 0..1, 1 checkpoint, 2 duplicate records (retries)',
      ],
      exitCode: 0,
    });
    const bare = { ...host, host: 'web-2', checkpoints: 0, duplicates: 0 };
    const both = describeExportVerify({ file: 'e.jsonl', hosts: [host, bare] });
    expect(both.exitCode).toBe(AUDIT_EXIT.MISSING_CHECKPOINT);
    expect(both.lines[1]).toBe(
      'MISSING CHECKPOINT: host web-2 (/var/log/a.jsonl): no signed checkpoint; 2 entries seq 0..1, 0 checkpoints',
    );
    const problem = { kind: 'edited' as const, file: 'e.jsonl', line: 9, seq: 4, message: 'hash mismatch' };
    const bad = describeExportVerify({
      file: 'e.jsonl',
      hosts: [{ ...host, result: { ...result, ok: false, problem } }],
    });
    expect(bad.lines[0]).toBe(
      'TAMPERED: host web-1 (/var/log/a.jsonl): export line 9, seq 4: edited: hash mismatch',
    );
    expect(describeExportVerify({ file: 'e.jsonl', hosts: [] }).lines).toEqual([
      'no audit records in e.jsonl',
    ]);
    const broken = describeExportVerify({
      file: 'e.jsonl',
      hosts: [],
      problem: { line: 1, message: 'not OTLP' },
    });
    expect(broken).toEqual({ lines: ['TAMPERED: e.jsonl:1: not OTLP'], exitCode: AUDIT_EXIT.TAMPERED });
  });
});

describe('describeAuditEntry and describeAuditStats', () => {
  it('an entry on one line, its decision styled; stats as rows, counts largest first', async () => {
    const path = await logged(2);
    const [first] = await readEntries(path).toArray();
    const text = describeAuditEntry(first!.entry, tags);
    expect(text).toContain(
      '#1  <ok>allowed          </ok>  file_read       offline          -  /f1<dim>  (r)</dim>',
    );
    expect(describeAuditEntry(first!.entry)).not.toContain('<');
    const rows = describeAuditStats(await auditStats(path));
    expect(rows.slice(0, 3)).toEqual([
      ['files', '1'],
      ['entries', '2'],
      ['corrupt lines', '0'],
    ]);
    expect(rows).toContainEqual(['decision allowed', '2']);
    expect(rows).toContainEqual(['profile offline', '2']);
  });
});
