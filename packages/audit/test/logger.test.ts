import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEventInput } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import {
  AuditError,
  AuditLogger,
  auditEntrySchema,
  createAuditLoggerFromConfig,
  GENESIS_HASH,
  logFiles,
  verify,
} from '../src/index.js';
import { MASK, tempDir } from './helpers/tmp.js';

const event = (i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  profile: 'offline',
  operation: 'file_read',
  target: `/home/alice/project/f${i}.ts`,
  decision: i % 2 ? 'allowed' : 'denied',
  reason: `reason ${i}`,
  session_id: 's-1',
  task_id: `t-${i}`,
  agent_type: 'coder',
  ...extra,
});

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => auditEntrySchema.parse(JSON.parse(l)));

describe('AuditLogger', () => {
  it('writes schema-valid, masked, chained JSON lines', async () => {
    const path = join(tempDir(), 'sub', 'audit.jsonl');
    const logger = new AuditLogger({ path, mask: MASK, now: () => new Date('2026-01-02T03:04:05.678Z') });
    await logger.log(
      event(1, {
        reason: 'GITHUB_TOKEN=abc123 leaked',
        details: { exit: 3, api_key: 'x', cwd: '/home/alice/w' },
      }),
    );
    await logger.log(event(2));
    await logger.close();
    const entries = lines(path);
    expect(entries).toHaveLength(2);
    const [a, b] = entries as [(typeof entries)[0], (typeof entries)[0]];
    expect(a).toMatchObject({
      v: 1,
      seq: 1,
      timestamp: '2026-01-02T03:04:05.678Z',
      session_id: 's-1',
      task_id: 't-1',
      agent_type: 'coder',
      profile: 'offline',
      operation: 'file_read',
      target: '[HOME]/project/f1.ts',
      decision: 'allowed',
      reason: 'GITHUB_TOKEN=[REDACTED] leaked',
      details: { exit: 3, api_key: '[REDACTED]', cwd: '[HOME]/w' },
      chain: 'sha256',
      prev: GENESIS_HASH,
    });
    expect(b.seq).toBe(2);
    expect(b.prev).toBe(a.hash);
    expect(b.session_id).toBe('s-1');
    expect(await verify(path)).toMatchObject({ ok: true, entries: 2, lastSeq: 2, lastHash: b.hash });
  });

  it('writes null for absent ids', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, mask: MASK });
    await logger.log({
      profile: 'trusted',
      operation: 'other',
      target: 'x',
      decision: 'allowed',
      reason: '',
    });
    await logger.close();
    expect(lines(path)[0]).toMatchObject({ session_id: null, task_id: null, agent_type: null });
    expect(lines(path)[0]).not.toHaveProperty('details');
  });

  it.each(['none', 'batch', 'every'] as const)(
    'durability %s: every resolved entry is in the file',
    async (durability) => {
      const path = join(tempDir(), 'a.jsonl');
      const logger = new AuditLogger({ path, durability, mask: MASK, batchSize: 7 });
      const ps = Array.from({ length: 50 }, (_, i) => logger.log(event(i)));
      await Promise.all(ps);
      // Resolved means written: visible to another reader before close().
      expect(lines(path)).toHaveLength(50);
      await logger.close();
      expect((await verify(path)).ok).toBe(true);
    },
  );

  it('batch: waits for the window, then writes a burst as one batch with one fsync', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({
      path,
      durability: 'batch',
      mask: MASK,
      batchSize: 100,
      flushIntervalMs: 300,
    });
    const all = Promise.all(Array.from({ length: 5 }, (_, i) => logger.log(event(i))));
    await new Promise((r) => setTimeout(r, 50));
    expect(logger.stats.written).toBe(0); // still inside the batching window
    await all;
    expect(logger.stats).toMatchObject({ written: 5, batches: 1 });
    await logger.close();
  });

  it('batch: a full batch is written at once, without waiting for the window', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({
      path,
      durability: 'batch',
      mask: MASK,
      batchSize: 10,
      flushIntervalMs: 60_000,
    });
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => logger.log(event(i))));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(logger.stats).toMatchObject({ written: 10, batches: 1 });
    await logger.close();
  });

  it('flush() writes what is buffered before the window ends', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, durability: 'none', mask: MASK, flushIntervalMs: 60_000 });
    void logger.log(event(1));
    void logger.log(event(2));
    expect(logger.stats.queued).toBe(2);
    await logger.flush();
    expect(lines(path)).toHaveLength(2);
    await logger.close();
  });

  it('flush() right after the previous flush resolved never strands entries (regression)', async () => {
    // The caller's continuation runs between the end of the write loop and its cleanup; entries
    // logged there must still be written by this flush(), not wait for the (long) window.
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, durability: 'none', mask: MASK, flushIntervalMs: 60_000 });
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) void logger.log(event(i));
      await logger.flush();
    }
    expect(logger.stats).toMatchObject({ written: 1000, queued: 0 });
    await logger.close();
    expect((await verify(path)).entries).toBe(1000);
  }, 10_000);

  it('rejects invalid events with a typed error and writes nothing for them', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, mask: MASK });
    const bad = { ...event(1), operation: 'rm_rf' } as unknown as AuditEventInput;
    await expect(logger.log(bad)).rejects.toMatchObject({ code: 'AUDIT_INVALID_EVENT', field: 'operation' });
    await expect(
      logger.log({ ...event(1), decision: 'maybe' } as unknown as AuditEventInput),
    ).rejects.toBeInstanceOf(AuditError);
    await expect(
      logger.log({ ...event(1), details: { f: () => 1 } } as unknown as AuditEventInput),
    ).rejects.toMatchObject({ code: 'AUDIT_INVALID_EVENT', field: 'details.f' });
    await logger.log(event(2));
    await logger.close();
    expect(lines(path).map((e) => e.seq)).toEqual([1]);
    await expect(logger.log(event(3))).rejects.toMatchObject({ code: 'AUDIT_CLOSED' });
  });

  it('rejects with AUDIT_BUFFER_FULL beyond the bounded buffer', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, mask: MASK, maxBufferedEntries: 5, flushIntervalMs: 1000 });
    const ok = Array.from({ length: 5 }, (_, i) => logger.log(event(i)));
    await expect(logger.log(event(9))).rejects.toMatchObject({ code: 'AUDIT_BUFFER_FULL', limit: 5 });
    await logger.close();
    await Promise.all(ok);
    expect(lines(path)).toHaveLength(5);
  });

  it('a disabled logger does no work: reads no field, creates no file', async () => {
    const dir = tempDir();
    const path = join(dir, 'never', 'audit.jsonl');
    const logger = new AuditLogger({ path, enabled: false });
    let touched = 0;
    const spy = new Proxy(event(1), {
      get(target, key, receiver) {
        touched++;
        return Reflect.get(target, key, receiver);
      },
    });
    const p1 = logger.log(spy);
    const p2 = logger.log({} as AuditEventInput); // invalid, but never looked at
    expect(p1).toBe(p2); // one shared resolved promise: no allocation per call
    await p1;
    await logger.flush();
    await logger.close();
    expect(touched).toBe(0);
    expect(() => readFileSync(path)).toThrow();
  });

  it('continues the chain of an existing file (another run, same file)', async () => {
    const path = join(tempDir(), 'a.jsonl');
    for (let run = 0; run < 3; run++) {
      const logger = new AuditLogger({ path, mask: MASK });
      await Promise.all([logger.log(event(run * 2)), logger.log(event(run * 2 + 1))]);
      await logger.close();
    }
    expect(lines(path).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await verify(path)).ok).toBe(true);
  });

  it('interleaves two loggers of one process on one file without breaking the chain', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const a = new AuditLogger({ path, mask: MASK, batchSize: 3 });
    const b = new AuditLogger({ path, mask: MASK, batchSize: 4 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).log(event(i))));
    await Promise.all([a.close(), b.close()]);
    expect(await verify(path)).toMatchObject({ ok: true, entries: 40 });
  });

  it('HMAC chain: verifies with the key, not without it or with another key', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, mask: MASK, hmacKey: 'k1' });
    await Promise.all([logger.log(event(1)), logger.log(event(2))]);
    await logger.close();
    expect(lines(path)[0]!.chain).toBe('hmac-sha256');
    expect(await verify(path, { hmacKey: 'k1' })).toMatchObject({
      ok: true,
      entries: 2,
      chain: 'hmac-sha256',
    });
    expect((await verify(path)).problem).toMatchObject({ kind: 'unkeyed', line: 1 });
    expect((await verify(path, { hmacKey: 'k2' })).problem).toMatchObject({ kind: 'edited', line: 1 });
  });

  it('rotates by size and carries the chain across files', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const logger = new AuditLogger({ path, mask: MASK, maxFileBytes: 2_000, batchSize: 2 });
    for (let i = 0; i < 30; i++) await logger.log(event(i));
    await logger.close();
    const files = await logFiles(path);
    expect(files.length).toBeGreaterThan(3);
    expect(files.at(-1)).toBe(path);
    expect(files[0]).toBe(`${path}.1`);
    expect(logger.stats.rotations).toBe(files.length - 1);
    const res = await verify(files);
    expect(res).toMatchObject({ ok: true, entries: 30, firstSeq: 1, lastSeq: 30 });
    // The live file alone is a suffix: it verifies only as partial.
    expect((await verify(path)).problem?.kind).toBe('deleted');
    expect((await verify(path, { partial: true })).ok).toBe(true);
    // Dropping a middle file is caught at the file boundary.
    const gap = await verify([files[0]!, ...files.slice(2)]);
    expect(gap.problem).toMatchObject({ kind: 'truncated', file: files[2], line: 1 });
  });

  it('cuts off a torn tail left by a crashed writer and continues the chain', async () => {
    const path = join(tempDir(), 'a.jsonl');
    const logger = new AuditLogger({ path, mask: MASK });
    await Promise.all([logger.log(event(1)), logger.log(event(2))]);
    await logger.close();
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, `${good}{"v":1,"seq":3,"timestamp":"2026-`);
    expect(await verify(path)).toMatchObject({
      ok: false,
      intact: true,
      status: 'torn-tail',
      tornTail: { line: 3 },
    });
    const again = new AuditLogger({ path, mask: MASK });
    await again.log(event(3));
    await again.close();
    expect(again.stats.tornTailsRepaired).toBe(1);
    expect(await verify(path)).toMatchObject({ ok: true, entries: 3 });
  });

  it('refuses to extend a log whose last line is not an entry', async () => {
    const path = join(tempDir(), 'a.jsonl');
    writeFileSync(path, 'hello world\n');
    const logger = new AuditLogger({ path, mask: MASK });
    await expect(logger.log(event(1))).rejects.toMatchObject({ code: 'AUDIT_CORRUPT_TAIL' });
    await logger.close().catch(() => {});
  });

  it('validates options', () => {
    expect(() => new AuditLogger({ path: '' })).toThrow(/path/);
    expect(() => new AuditLogger({ path: '/tmp/x', batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new AuditLogger({ path: '/tmp/x', durability: 'sometimes' as 'none' })).toThrow(
      /durability/,
    );
  });
});

describe('createAuditLoggerFromConfig', () => {
  it('resolves the path against CODEX_HOME and reads the HMAC key from the named variable', async () => {
    const home = tempDir();
    const logger = createAuditLoggerFromConfig(
      { enabled: true, path: 'audit/audit.jsonl', durability: 'every', hmac_key_env: 'AUDIT_KEY' },
      { home, env: { AUDIT_KEY: 'secret' }, mask: MASK },
    );
    expect(logger.path).toBe(join(home, 'audit', 'audit.jsonl'));
    expect(logger.chain).toBe('hmac-sha256');
    expect(logger.durability).toBe('every');
    await logger.log(event(1));
    await logger.close();
    expect((await verify(logger.path, { hmacKey: 'secret' })).ok).toBe(true);
  });

  it('fails closed when the key variable is missing', () => {
    expect(() =>
      createAuditLoggerFromConfig(
        { enabled: true, path: 'a.jsonl', durability: 'batch', hmac_key_env: 'NOPE' },
        { home: '/tmp', env: {} },
      ),
    ).toThrow(expect.objectContaining({ code: 'AUDIT_MISSING_KEY' }));
  });
});
