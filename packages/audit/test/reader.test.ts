import { getEventListeners } from 'node:events';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEventInput } from '@codex/security-profile';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  AuditLogger,
  auditDestination,
  auditStats,
  type CorruptLine,
  followEntries,
  logFiles,
  parseTimeSpec,
  readEntries,
  verify,
} from '../src/index.js';
import { MASK, tempDir } from './helpers/tmp.js';

let clock = Date.parse('2026-03-01T10:00:00.000Z');
// One minute per entry.
const tick = () => {
  clock += 60_000;
  return new Date(clock);
};

async function sample(path: string): Promise<void> {
  const logger = new AuditLogger({ path, mask: MASK, now: tick });
  const ops = ['file_read', 'network_access', 'command_exec'] as const;
  const decisions = ['allowed', 'denied', 'requires_approval'] as const;
  for (let i = 0; i < 12; i++) {
    await logger.log({
      profile: i < 6 ? 'offline' : 'workspace-net',
      operation: ops[i % 3]!,
      decision: decisions[Math.floor(i / 2) % 3]!,
      target: `t${i}`,
      reason: `r${i}`,
      session_id: i < 8 ? 'sA' : 'sB',
      task_id: `task${i % 4}`,
    });
  }
  await logger.close();
}

describe('readEntries', () => {
  it('streams entries with line numbers and filters by decision, operation, session, task and time', async () => {
    clock = Date.parse('2026-03-01T10:00:00.000Z');
    const path = join(tempDir(), 'a.jsonl');
    await sample(path);
    const all = await readEntries(path).toArray();
    expect(all.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const targets = async (filter: Parameters<typeof readEntries>[1]) =>
      (await readEntries(path, filter).toArray()).map((r) => r.entry.target);
    expect(await targets({ decision: 'denied' })).toEqual(['t2', 't3', 't8', 't9']);
    expect(await targets({ decision: ['denied', 'requires_approval'], operation: 'network_access' })).toEqual(
      ['t4', 't10'],
    );
    expect(await targets({ session: 'sB' })).toEqual(['t8', 't9', 't10', 't11']);
    expect(await targets({ task: 'task3', profile: 'workspace-net' })).toEqual(['t7', 't11']);
    // Entry i is at 10:01 + i minutes.
    expect(await targets({ since: '2026-03-01T10:05:00Z', until: new Date('2026-03-01T10:08:00Z') })).toEqual(
      ['t4', 't5', 't6'],
    );
  });

  it('reports corrupt lines with their line number, skips them and never throws', async () => {
    const path = join(tempDir(), 'a.jsonl');
    await sample(path);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(3, 0, 'garbage');
    lines.splice(7, 0, '{"v":99}');
    writeFileSync(path, lines.join('\n'));
    appendFileSync(path, '{"v":1,"seq":13,"time'); // torn tail (no newline)
    const seen: CorruptLine[] = [];
    const reader = readEntries(
      [path, join(tempDir(), 'missing.jsonl')],
      {},
      { onCorrupt: (c) => seen.push(c) },
    );
    const records = await reader.toArray();
    expect(records).toHaveLength(12);
    expect(reader.corrupt).toEqual(seen);
    expect(seen.map((c) => [c.line, c.kind])).toEqual([
      [4, 'bad-json'],
      [8, 'bad-entry'],
      [15, 'torn-tail'],
      [0, 'unreadable'],
    ]);
    expect(records.map((r) => r.line)).not.toContain(4);
  });

  it('a throwing onCorrupt callback does not break the stream', async () => {
    const path = join(tempDir(), 'a.jsonl');
    writeFileSync(path, 'x\ny\n');
    const reader = readEntries(
      path,
      {},
      {
        onCorrupt: () => {
          throw new Error('boom');
        },
      },
    );
    expect(await reader.toArray()).toEqual([]);
    expect(reader.corrupt).toHaveLength(2);
  });

  it('reads a rotated log in order', async () => {
    const path = join(tempDir(), 'r.jsonl');
    const logger = new AuditLogger({ path, mask: MASK, maxFileBytes: 1500 });
    for (let i = 0; i < 20; i++) {
      await logger.log({
        profile: 'offline',
        operation: 'other',
        target: `t${i}`,
        decision: 'allowed',
        reason: '',
      });
    }
    await logger.close();
    const files = await logFiles(path);
    expect(files.length).toBeGreaterThan(2);
    const seqs = (await readEntries(files).toArray()).map((r) => r.entry.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});

describe('auditStats', () => {
  it('counts by decision, operation and profile', async () => {
    clock = Date.parse('2026-03-01T10:00:00.000Z');
    const path = join(tempDir(), 'a.jsonl');
    await sample(path);
    const s = await auditStats(path);
    expect(s).toMatchObject({
      entries: 12,
      byDecision: { allowed: 4, denied: 4, requires_approval: 4 },
      byOperation: { file_read: 4, network_access: 4, command_exec: 4 },
      byProfile: { offline: 6, 'workspace-net': 6 },
      sessions: 2,
      tasks: 4,
      first: '2026-03-01T10:01:00.000Z',
      last: '2026-03-01T10:12:00.000Z',
      lastSeq: 12,
    });
    expect((await auditStats(path, { decision: 'denied' })).entries).toBe(4);
  });
});

describe('followEntries', () => {
  it('yields appended entries, across a rotation, and stops on abort', async () => {
    const path = join(tempDir(), 'f.jsonl');
    const logger = new AuditLogger({
      path,
      mask: MASK,
      maxFileBytes: 1200,
      durability: 'none',
      flushIntervalMs: 0,
    });
    const log = (i: number) =>
      logger.log({ profile: 'offline', operation: 'other', target: `t${i}`, decision: 'denied', reason: '' });
    await log(0); // already there: not yielded (we start at the end)
    const ac = new AbortController();
    const got: string[] = [];
    const follower = (async () => {
      for await (const r of followEntries(path, { intervalMs: 20, signal: ac.signal })) {
        got.push(r.entry.target);
        if (got.length === 6) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 1; i <= 6; i++) {
      await log(i);
      await new Promise((r) => setTimeout(r, 30));
    }
    await follower;
    await logger.close();
    expect(logger.stats.rotations).toBeGreaterThan(0);
    expect(got).toEqual(['t1', 't2', 't3', 't4', 't5', 't6']);
  });
});

describe('followEntries over many polls', () => {
  it('keeps at most one abort listener on the signal, however long it follows', async () => {
    const path = join(tempDir(), 'f.jsonl');
    writeFileSync(path, '');
    const ac = new AbortController();
    const counts: number[] = [];
    const follower = (async () => {
      for await (const _ of followEntries(path, { intervalMs: 1, signal: ac.signal })) {
        // no entries are written
      }
    })();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 25));
      counts.push(getEventListeners(ac.signal, 'abort').length);
    }
    ac.abort();
    await follower;
    expect(Math.max(...counts)).toBe(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });
});

describe('followEntries with multi-byte text', () => {
  it('keeps characters split across read chunks intact', async () => {
    const path = join(tempDir(), 'u.jsonl');
    const logger = new AuditLogger({ path, mask: MASK, batchSize: 50 });
    const targets = Array.from({ length: 400 }, (_, i) => `${i}:${'€'.repeat(700 + (i % 7))}`);
    await Promise.all(
      targets.map((target) =>
        logger.log({ profile: 'offline', operation: 'other', target, decision: 'allowed', reason: 'ü' }),
      ),
    );
    await logger.close();
    const ac = new AbortController();
    const got: string[] = [];
    for await (const r of followEntries(path, {
      fromStart: true,
      intervalMs: 10,
      signal: ac.signal,
      onCorrupt: () => got.push('CORRUPT'),
    })) {
      got.push(r.entry.target);
      if (got.length === targets.length) ac.abort();
    }
    expect(got).toEqual(targets);
  });
});

describe('parseTimeSpec', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    ['1h', '2026-03-01T11:00:00.000Z'],
    ['90s', '2026-03-01T11:58:30.000Z'],
    ['1h30m', '2026-03-01T10:30:00.000Z'],
    ['2d', '2026-02-27T12:00:00.000Z'],
    ['1w', '2026-02-22T12:00:00.000Z'],
    ['2026-01-02', '2026-01-02T00:00:00.000Z'],
    ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000Z'],
  ])('%s', (spec, iso) => {
    expect(parseTimeSpec(spec, now).toISOString()).toBe(iso);
  });
  it.each(['yesterday', '1y', '', '-1h', '2026-13-45'])('rejects %j', (spec) => {
    expect(() => parseTimeSpec(spec, now)).toThrow(expect.objectContaining({ code: 'AUDIT_INVALID_TIME' }));
  });
});

describe('pino destination', () => {
  it('turns pino log objects with audit fields into chained, masked entries', async () => {
    const path = join(tempDir(), 'p.jsonl');
    const logger = new AuditLogger({ path, mask: MASK });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const dest = auditDestination(logger, { profile: 'workspace-write' });
    const log = pino({ level: 'info' }, dest);
    log.info(
      {
        operation: 'command_exec',
        target: 'git push https://alice:pw@x.org/r',
        decision: 'denied',
        session_id: 's9',
      },
      'push blocked: network disabled',
    );
    log.info('an ordinary log line without audit fields');
    log.warn({
      audit: true,
      operation: 'file_write',
      target: '/home/alice/x',
      decision: 'allowed',
      reason: 'in workspace',
      profile: 'trusted',
      details: { bytes: 12 },
    });
    log.info({ operation: 'teleport', target: 'x', decision: 'allowed' }, 'invalid operation');
    await dest.flush();
    await logger.close();
    expect(dest).toMatchObject({ accepted: 3, ignored: 1, failed: 1 });
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    // Without onError, a failure becomes a process warning (never a crash of the host's logging).
    expect(warnings).toEqual([expect.stringContaining('operation: unknown "teleport"')]);
    const records = await readEntries(path).toArray();
    expect(records.map((r) => r.entry)).toMatchObject([
      {
        seq: 1,
        profile: 'workspace-write',
        operation: 'command_exec',
        target: 'git push https://[REDACTED]@x.org/r',
        decision: 'denied',
        reason: 'push blocked: network disabled',
        session_id: 's9',
      },
      {
        seq: 2,
        profile: 'trusted',
        operation: 'file_write',
        target: '[HOME]/x',
        reason: 'in workspace',
        details: { bytes: 12 },
      },
    ]);
    expect((await verify(path)).ok).toBe(true);
  });

  it('reads audit fields under a key and reports failures to onError', async () => {
    const path = join(tempDir(), 'p.jsonl');
    const logger = new AuditLogger({ path, mask: MASK });
    const failures: string[] = [];
    const dest = auditDestination(logger, {
      key: 'audit',
      onError: (e) => failures.push((e as { code: string }).code),
    });
    const log = pino(dest);
    log.info(
      {
        audit: {
          profile: 'offline',
          operation: 'mcp_tool_call',
          target: 'fs/read',
          decision: 'requires_approval',
        },
      },
      'ask',
    );
    log.info({ audit: { operation: 'mcp_tool_call', target: 'x', decision: 'allowed' } }, 'no profile');
    await dest.flush();
    await logger.close();
    expect(failures).toEqual(['AUDIT_INVALID_EVENT']);
    const [r] = await readEntries(path).toArray();
    expect(r?.entry).toMatchObject({
      operation: 'mcp_tool_call',
      decision: 'requires_approval',
      reason: 'ask',
    });
  });
});

describe('pino transport (worker thread)', () => {
  it.each(['pino-transport.js', 'pino-transport.cjs'])(
    'pino.transport({ target: dist/%s }) writes audit entries',
    async (file) => {
      const path = join(tempDir(), 't.jsonl');
      const transport = pino.transport({
        target: fileURLToPath(new URL(`../dist/${file}`, import.meta.url)),
        options: { path, durability: 'batch', profile: 'offline', mask: MASK },
      });
      const log = pino(transport);
      log.info(
        { operation: 'file_read', target: '/home/alice/secret.txt', decision: 'denied' },
        'outside workspace',
      );
      log.info('not an audit line');
      log.info({
        operation: 'process_spawn',
        target: 'curl',
        decision: 'requires_approval',
        reason: 'network tool',
      });
      const closed = new Promise((resolve) => transport.once('close', resolve));
      transport.end();
      await closed;
      const entries = (await readEntries(path).toArray()).map((r) => r.entry);
      expect(entries).toMatchObject([
        {
          seq: 1,
          operation: 'file_read',
          target: '[HOME]/secret.txt',
          decision: 'denied',
          reason: 'outside workspace',
        },
        {
          seq: 2,
          operation: 'process_spawn',
          target: 'curl',
          decision: 'requires_approval',
          reason: 'network tool',
        },
      ]);
      expect((await verify(path)).ok).toBe(true);
    },
  );
});

// Keep the type import used: AuditEventInput is what the pino mapping produces.
export type _Event = AuditEventInput;
