import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpointKey, publicKeyPem, trustedKeys, verifyExport } from '../src/index.js';
import { startOtlpReceiver } from './helpers/otlp-receiver.js';
import { tempDir } from './helpers/tmp.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkgDir, 'dist/index.js');
const writer = join(pkgDir, 'test/fixtures/bin/otlp-writer.mjs');
const HOSTS = ['host-a', 'host-b', 'host-c'] as const;
const N = 200;

interface Attr {
  key: string;
  value: { stringValue?: string; intValue?: string };
}
interface Rec {
  body: { stringValue: string };
  attributes: Attr[];
}
interface Req {
  resourceLogs: { resource: { attributes: Attr[] }; scopeLogs: { logRecords: Rec[] }[] }[];
}
const attr = (list: Attr[], key: string) => list.find((a) => a.key === key)?.value;

/** Rewrites an export: `edit` sees each record with its host and returns it, a new one, or null to drop it. */
function editExport(lines: readonly string[], edit: (rec: Rec, host: string) => Rec | null): string {
  return `${lines
    .map((l) => {
      const req = JSON.parse(l) as Req;
      for (const rl of req.resourceLogs) {
        const host = attr(rl.resource.attributes, 'host.name')?.stringValue ?? '';
        for (const sl of rl.scopeLogs)
          sl.logRecords = sl.logRecords.map((r) => edit(r, host)).filter((r): r is Rec => r !== null);
      }
      return JSON.stringify(req);
    })
    .join('\n')}\n`;
}
const isEntry = (r: Rec, host: string, seq: number, wanted: string) =>
  host === wanted &&
  attr(r.attributes, 'codex.audit.kind')?.stringValue === 'entry' &&
  attr(r.attributes, 'codex.audit.seq')?.intValue === String(seq);

describe('OTLP export from three hosts to a real receiver', () => {
  let dir: string;
  let exportFile: string;
  let exportLines: string[];
  const keys = HOSTS.map(() => generateCheckpointKey());
  const trusted = trustedKeys(keys.map((k) => publicKeyPem(k.publicKey)));
  let requests = 0;
  let rejected = 0;

  beforeAll(async () => {
    dir = tempDir();
    exportFile = join(dir, 'export.jsonl');
    const receiver = await startOtlpReceiver(exportFile);
    try {
      await Promise.all(
        HOSTS.map((host, i) => {
          const keyFile = join(dir, `${host}.pem`);
          writeFileSync(keyFile, String(keys[i]!.privateKey.export({ type: 'pkcs8', format: 'pem' })));
          const child = spawn(
            process.execPath,
            [writer, dist, join(dir, host, 'audit.jsonl'), host, receiver.url, String(N), keyFile],
            {
              stdio: ['ignore', 'inherit', 'inherit'],
            },
          );
          return new Promise<void>((resolve, reject) =>
            child.on('close', (code) =>
              code === 0 ? resolve() : reject(new Error(`${host} exited ${code}`)),
            ),
          );
        }),
      );
    } finally {
      requests = receiver.requests();
      rejected = receiver.rejected();
      await receiver.close();
    }
    exportLines = readFileSync(exportFile, 'utf8').split('\n').slice(0, -1);
  }, 120_000);

  it('every entry and checkpoint arrives with seq, hash and prev; the export verifies host by host', async () => {
    expect(rejected).toBe(0);
    expect(requests).toBeGreaterThanOrEqual(3);
    // The records carry exactly the lines each host wrote.
    for (const host of HOSTS) {
      const local = readFileSync(join(dir, host, 'audit.jsonl'), 'utf8')
        .split('\n')
        .slice(0, -1);
      const exported: string[] = [];
      editExport(exportLines, (r, h) => {
        if (h === host && attr(r.attributes, 'codex.audit.kind')?.stringValue === 'entry') {
          const e = JSON.parse(r.body.stringValue) as { seq: number; hash: string; prev: string };
          expect(attr(r.attributes, 'codex.audit.seq')?.intValue).toBe(String(e.seq));
          expect(attr(r.attributes, 'codex.audit.hash')?.stringValue).toBe(e.hash);
          expect(attr(r.attributes, 'codex.audit.prev')?.stringValue).toBe(e.prev);
          exported.push(r.body.stringValue);
        }
        return r;
      });
      expect(exported.sort()).toEqual([...local].sort());
    }
    const r = await verifyExport(exportFile, { trusted });
    expect(r.problem).toBeUndefined();
    expect(
      r.hosts
        .map((h) => [
          h.host,
          h.result.status,
          h.result.entries,
          h.result.lastSeq,
          h.checkpoints,
          h.duplicates,
        ])
        .sort(),
    ).toEqual(HOSTS.map((h) => [h, 'ok', N, N, N / 50, 0]));
  });

  it('a dropped record is named with its host and seq (before a checkpoint)', async () => {
    const f = join(tempDir(), 'dropped.jsonl');
    writeFileSync(
      f,
      editExport(exportLines, (r, h) => (isEntry(r, h, 77, 'host-b') ? null : r)),
    );
    const r = await verifyExport(f, { trusted });
    const b = r.hosts.find((h) => h.host === 'host-b')!;
    expect(b.result.problem).toMatchObject({ kind: 'deleted', seq: 78, beforeCheckpoint: true });
    expect(b.result.problem?.message).toContain('seq 77 is missing');
    expect(
      r.hosts
        .filter((h) => h.result.ok)
        .map((h) => h.host)
        .sort(),
    ).toEqual(['host-a', 'host-c']);
  });

  it('an altered record is named; the last records dropped are caught by the closing checkpoint', async () => {
    const f = join(tempDir(), 'altered.jsonl');
    writeFileSync(
      f,
      editExport(exportLines, (r, h) => {
        if (isEntry(r, h, 120, 'host-c'))
          return { ...r, body: { stringValue: r.body.stringValue.replace('file-120', 'file-999') } };
        if (
          h === 'host-a' &&
          attr(r.attributes, 'codex.audit.kind')?.stringValue === 'entry' &&
          Number(attr(r.attributes, 'codex.audit.seq')?.intValue) > 190
        )
          return null;
        return r;
      }),
    );
    const r = await verifyExport(f, { trusted });
    expect(r.hosts.find((h) => h.host === 'host-c')!.result.problem).toMatchObject({
      kind: 'edited',
      seq: 120,
    });
    expect(r.hosts.find((h) => h.host === 'host-a')!.result.problem).toMatchObject({
      kind: 'truncated',
      seq: 191,
    });
  });

  it('a checkpoint replayed under another host, or from an unknown key, is found; duplicates (retries) are not tampering', async () => {
    let moved: Rec | undefined;
    const f = join(tempDir(), 'moved.jsonl');
    const once = editExport(exportLines, (r, h) => {
      if (
        h === 'host-a' &&
        attr(r.attributes, 'codex.audit.kind')?.stringValue === 'checkpoint' &&
        moved === undefined
      )
        moved = r;
      return r;
    });
    // host-a's checkpoint appended into host-b's resource.
    const lines = once.trim().split('\n');
    writeFileSync(
      f,
      `${editExport(lines, (r) => r)}${JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'host.name', value: { stringValue: 'host-b' } }] }, scopeLogs: [{ logRecords: [moved] }] }] })}\n`,
    );
    const r = await verifyExport(f, { trusted });
    expect(r.problem).toBeUndefined();
    expect(r.hosts.find((h) => h.host === 'host-b')!.checkpointProblem).toMatchObject({ kind: 'forged' });

    const onlyTwo = trustedKeys(keys.slice(0, 2).map((k) => publicKeyPem(k.publicKey)));
    const whole = join(tempDir(), 'whole.jsonl');
    writeFileSync(whole, `${exportLines.join('\n')}\n`);
    const r2 = await verifyExport(whole, { trusted: onlyTwo });
    expect(r2.hosts.find((h) => h.host === 'host-c')!.checkpointProblem).toMatchObject({
      kind: 'unknown-key',
    });

    const dup = join(tempDir(), 'dup.jsonl');
    writeFileSync(dup, `${exportLines.join('\n')}\n${exportLines[0]}\n`);
    const r3 = await verifyExport(dup, { trusted });
    expect(r3.hosts.every((h) => h.result.ok)).toBe(true);
    expect(r3.hosts.reduce((n, h) => n + h.duplicates, 0)).toBeGreaterThan(0);
  });

  it('an export line that is not JSON or not an OTLP request is named', async () => {
    const f = join(tempDir(), 'bad.jsonl');
    writeFileSync(f, `${exportLines[0]}\nnot json\n`);
    expect((await verifyExport(f, { trusted })).problem).toMatchObject({ line: 2, message: 'not JSON' });
    writeFileSync(f, `${exportLines[0]}\n{"resourceSpans":[]}\n`);
    expect((await verifyExport(f, { trusted })).problem).toMatchObject({ line: 2 });
  });
});
