import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it, vi } from 'vitest';
import { RedisServer, redisSkipReason, TEST_KEY } from './redis.js';

const file = new URL(`./__readme_example_${process.pid}__.ts`, import.meta.url);
let redis: RedisServer | undefined;
afterAll(async () => {
  rmSync(file, { force: true });
  await redis?.stop();
});

it.skipIf(redisSkipReason() !== undefined)('the README example runs and does what it says', async () => {
  redis = await RedisServer.start();
  process.env.REDIS_URL = redis.url;
  process.env.CODEX_QUEUE_KEY = TEST_KEY;
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  writeFileSync(file, (code as string).replace("from '@codex/supervisor-queue'", "from '../src/index.js'"));
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await import(file.href);
    const lines = log.mock.calls.map((c) =>
      c.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' '),
    );
    expect(log.mock.calls[0]?.slice(0, 2)).toEqual(['bullmq', 'succeeded']);
    expect((log.mock.calls[0]?.[2] as { output?: string } | undefined)?.output).toBe(
      'HELLO (from a, profile offline) | WORLD (from b, profile offline)',
    );
    expect(lines.slice(1)).toEqual(['a succeeded example-worker 1', 'b succeeded example-worker 1']);
  } finally {
    log.mockRestore();
    delete process.env.REDIS_URL;
    delete process.env.CODEX_QUEUE_KEY;
  }
});
