// Bad input: one clear line with a stable code for URLs, keys, unreachable Redis, oversized plans.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '@codex/supervisor';
import { afterAll, describe, expect, it } from 'vitest';
import { loadQueueKey, parseQueueUrl, QueueEngine, sign, verify, withinCeiling } from '../src/index.js';
import { freePort, RedisServer, redisSkipReason, TEST_KEY } from './redis.js';

const key = Buffer.from(TEST_KEY);

describe('queue URLs', () => {
  it('parses redis:// and rediss:// URLs, masking passwords', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6380/3')).toMatchObject({
      host: '127.0.0.1',
      port: 6380,
      db: 3,
      tls: false,
    });
    expect(parseQueueUrl('redis://localhost')).toMatchObject({ port: 6379, db: 0 });
    const t = parseQueueUrl('rediss://user:s3cret@[::1]:7000/1');
    expect(t).toMatchObject({
      host: '::1',
      port: 7000,
      db: 1,
      tls: true,
      username: 'user',
      password: 's3cret',
    });
    expect(t.display).not.toContain('s3cret');
  });

  it.each([
    ['nonsense', 'not a URL'],
    ['http://127.0.0.1:6379', 'scheme "http" is not redis or rediss'],
    ['redis://127.0.0.1:6379/abc', 'database "abc" is not a number'],
    ['redis://127.0.0.1:6379/16', 'database 16 is not from 0 to 15'],
    ['redis://127.0.0.1:6379/0?x=1', 'query strings'],
  ])('%s is refused: %s', (url, problem) => {
    expect(() => parseQueueUrl(url)).toThrow(
      expect.objectContaining({ code: 'INVALID_QUEUE_URL', message: expect.stringContaining(problem) }),
    );
  });
});

describe('signing key', () => {
  it('comes from CODEX_QUEUE_KEY or a key file and must have 32 bytes', () => {
    expect(loadQueueKey({ env: { CODEX_QUEUE_KEY: TEST_KEY } }).length).toBe(64);
    expect(() => loadQueueKey({ env: {} })).toThrow(
      expect.objectContaining({
        code: 'INVALID_QUEUE_KEY',
        message: expect.stringContaining('set CODEX_QUEUE_KEY'),
      }),
    );
    expect(() => loadQueueKey({ env: { CODEX_QUEUE_KEY: 'short' } })).toThrow(
      'the key is 5 bytes; at least 32 are required',
    );
    const dir = mkdtempSync(join(tmpdir(), 'codex-key-'));
    writeFileSync(join(dir, 'key'), `${'k'.repeat(40)}\n`);
    expect(loadQueueKey({ env: { CODEX_QUEUE_KEY_FILE: join(dir, 'key') } }).toString()).toBe('k'.repeat(40));
    expect(() => loadQueueKey({ env: { CODEX_QUEUE_KEY_FILE: join(dir, 'missing') } })).toThrow(
      'cannot read (ENOENT)',
    );
  });

  it('signatures are bound to the key, the kind and every byte of the payload', () => {
    const sig = sign(key, 'job', '{"a":1}');
    expect(verify(key, 'job', '{"a":1}', sig)).toBe(true);
    expect(verify(key, 'job', '{"a":2}', sig)).toBe(false);
    expect(verify(key, 'result', '{"a":1}', sig)).toBe(false);
    expect(verify(Buffer.from('x'.repeat(32)), 'job', '{"a":1}', sig)).toBe(false);
    expect(verify(key, 'job', '{"a":1}', 'zz')).toBe(false);
  });
});

describe('profile ceiling', () => {
  it('compares capabilities, not names', () => {
    expect(withinCeiling('offline', 'offline')).toBe(true);
    expect(withinCeiling('workspace-write', 'offline')).toBe(false);
    expect(withinCeiling('net-read-only', 'workspace-write')).toBe(false);
    expect(withinCeiling('workspace-write', 'net-read-only')).toBe(false);
    expect(withinCeiling('workspace-net', 'workspace-net')).toBe(true);
    expect(withinCeiling('trusted', 'workspace-net')).toBe(false);
    expect(withinCeiling('workspace-net', 'trusted')).toBe(true);
  });
});

describe('connecting', () => {
  it('an unreachable Redis is one clear QUEUE_UNAVAILABLE line, quickly', async () => {
    const port = await freePort();
    await expect(
      QueueEngine.connect({ url: `redis://127.0.0.1:${port}/0`, key, connectTimeoutMs: 1000 }),
    ).rejects.toThrow(
      expect.objectContaining({
        code: 'QUEUE_UNAVAILABLE',
        message: expect.stringMatching(
          new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/0 \\(ECONNREFUSED\\)$`),
        ),
      }),
    );
  });

  it('a short key is refused before connecting', async () => {
    await expect(
      QueueEngine.connect({ url: 'redis://127.0.0.1:1/0', key: Buffer.from('short') }),
    ).rejects.toThrow(expect.objectContaining({ code: 'INVALID_QUEUE_KEY' }));
  });
});

describe.skipIf(redisSkipReason() !== undefined)('plans too large for the queue', () => {
  let redis: RedisServer | undefined;
  afterAll(() => redis?.stop());

  it('too many tasks, or a task input too big for a job, is PLAN_TOO_LARGE naming the key', async () => {
    redis = await RedisServer.start();
    const engine = await QueueEngine.connect({ url: redis.url, key, maxTasks: 3 });
    try {
      const many = parsePlan({
        tasks: Array.from({ length: 4 }, (_, i) => ({ id: `t${i}`, agent: 'sleep' })),
      });
      expect(() => engine.checkPlan(many, 'big.yaml')).toThrow(
        expect.objectContaining({
          code: 'PLAN_TOO_LARGE',
          message: 'big.yaml: tasks: 4 tasks; the queue engine accepts at most 3',
        }),
      );
      const fat = parsePlan({ tasks: [{ id: 'x', agent: 'sleep', input: { blob: 'x'.repeat(2_000_000) } }] });
      expect(() => engine.checkPlan(fat, 'fat.yaml')).toThrow(
        /^fat\.yaml: tasks\.0\.input: \d+ bytes; a queued task input may have at most \d+$/,
      );
    } finally {
      await engine.close();
    }
  });
});
