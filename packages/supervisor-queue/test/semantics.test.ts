// The DAG semantics suite, run against both engines: the in-process default and BullMQ on a
// real redis-server with three worker processes. Same plans, same assertions.
import { accessSync, constants } from 'node:fs';
import { type RunReport, Supervisor, type TaskResult } from '@codex/supervisor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueEngine } from '../src/index.js';
import { registerTestAgents } from './fixtures/agents.mjs';
import {
  findRedisServer,
  RedisServer,
  redisSkipReason,
  startWorkers,
  TEST_KEY,
  type WorkerProcess,
} from './redis.js';

const skipReason = redisSkipReason();

it('the Redis suites run when redis-server exists, else are skipped for that stated reason (CI=true requires it)', () => {
  const bin = findRedisServer();
  if (bin === undefined) expect(skipReason).toBe('redis-server is not installed');
  else {
    expect(skipReason).toBeUndefined();
    expect(() => accessSync(bin, constants.X_OK)).not.toThrow();
  }
});

type Engine = 'in-process' | 'bullmq';
const engines: Engine[] = skipReason === undefined ? ['in-process', 'bullmq'] : ['in-process'];

let redis: RedisServer | undefined;
let workers: WorkerProcess[] = [];
let engine: QueueEngine | undefined;

beforeAll(async () => {
  if (skipReason !== undefined) return;
  redis = await RedisServer.start();
  workers = await startWorkers(redis.url, 3, { concurrency: 2 });
  engine = await QueueEngine.connect({ url: redis.url, key: Buffer.from(TEST_KEY) });
}, 30_000);

afterAll(async () => {
  await engine?.close();
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

function supervisor(kind: Engine, maxConcurrent = 4): Supervisor {
  const s = new Supervisor({
    maxConcurrent,
    profile: 'workspace-write',
    ...(kind === 'bullmq' ? { engine: engine as QueueEngine } : {}),
  });
  return registerTestAgents(s);
}

const byId = (r: RunReport, id: string) => r.tasks.find((t) => t.taskId === id) as TaskResult;

describe.each(engines)('plan semantics on the %s engine', (kind) => {
  it('parallel DAG: dependents start after their dependencies and see their results', async () => {
    const r = await supervisor(kind).run({
      tasks: [
        { id: 'a', agent: 'sleep', input: { ms: 80, output: 'A' } },
        { id: 'b', agent: 'sleep', input: { ms: 20, output: 'B' } },
        { id: 'c', agent: 'deps', input: {}, dependsOn: ['a', 'b'] },
        { id: 'd', agent: 'sleep', input: { ms: 0 }, dependsOn: ['c'] },
      ],
    });
    expect(r.status).toBe('succeeded');
    expect(r.engine).toBe(kind);
    expect(byId(r, 'c').output).toEqual({
      a: { status: 'succeeded', output: 'A' },
      b: { status: 'succeeded', output: 'B' },
    });
    expect(r.startOrder.indexOf('c')).toBeGreaterThan(r.startOrder.indexOf('a'));
    expect(r.startOrder.indexOf('d')).toBeGreaterThan(r.startOrder.indexOf('c'));
    expect(byId(r, 'c').startedAt).toBeGreaterThanOrEqual(byId(r, 'a').finishedAt);
    expect(byId(r, 'd').output).toBe('d');
  });

  it('sequential: one task at a time, in dependency order', async () => {
    const r = await supervisor(kind).run({
      strategy: 'sequential',
      tasks: [
        { id: 'x', agent: 'sleep', input: { ms: 30 }, dependsOn: ['y'] },
        { id: 'y', agent: 'sleep', input: { ms: 30 } },
        { id: 'z', agent: 'sleep', input: { ms: 30 } },
      ],
    });
    expect(r.status).toBe('succeeded');
    expect(r.peakConcurrency).toBe(1);
    expect(r.startOrder).toEqual(['y', 'z', 'x']);
  });

  it('hybrid: a level starts only when the whole previous level is done', async () => {
    const r = await supervisor(kind).run({
      strategy: 'hybrid',
      tasks: [
        { id: 'slow', agent: 'sleep', input: { ms: 300 } },
        { id: 'fast', agent: 'sleep', input: { ms: 10 } },
        { id: 'next', agent: 'sleep', input: { ms: 0 }, dependsOn: ['fast'] },
      ],
    });
    expect(r.status).toBe('succeeded');
    expect(byId(r, 'next').startedAt).toBeGreaterThanOrEqual(byId(r, 'slow').finishedAt);
  });

  it('the concurrency cap holds', async () => {
    const r = await supervisor(kind, 2).run({
      tasks: Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, agent: 'sleep', input: { ms: 100 } })),
    });
    expect(r.status).toBe('succeeded');
    expect(r.peakConcurrency).toBe(2);
  });

  it('fail-fast: the first failure cancels running tasks and skips the rest', async () => {
    const r = await supervisor(kind).run({
      failure: 'fail-fast',
      tasks: [
        { id: 'bad', agent: 'sleep', input: { ms: 50, fail: 'boom' } },
        { id: 'long', agent: 'sleep', input: { ms: 5000 } },
        { id: 'after', agent: 'sleep', input: { ms: 0 }, dependsOn: ['long'] },
      ],
    });
    expect(r.status).toBe('failed');
    expect(byId(r, 'bad').status).toBe('failed');
    expect(byId(r, 'bad').error?.code).toBe('TASK_FAILED');
    expect(byId(r, 'bad').error?.message).toContain('boom');
    expect(byId(r, 'long').status).toBe('cancelled');
    expect(byId(r, 'long').durationMs).toBeLessThan(4000);
    expect(byId(r, 'after').status).toBe('skipped');
    expect(r.cancelReason).toBe('fail-fast: task "bad" failed');
  });

  it('skip-dependents: dependents of a failure are skipped, the rest runs', async () => {
    const r = await supervisor(kind).run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'bad', agent: 'sleep', input: { ms: 10, fail: 'nope' } },
        { id: 'child', agent: 'sleep', input: { ms: 0 }, dependsOn: ['bad'] },
        { id: 'grandchild', agent: 'sleep', input: { ms: 0 }, dependsOn: ['child'] },
        { id: 'other', agent: 'sleep', input: { ms: 20 } },
      ],
    });
    expect(r.status).toBe('failed');
    expect(byId(r, 'child').status).toBe('skipped');
    expect(byId(r, 'child').error?.code).toBe('DEPENDENCY_FAILED');
    expect(byId(r, 'grandchild').status).toBe('skipped');
    expect(byId(r, 'other').status).toBe('succeeded');
  });

  it('per-task timeout: the task is timed out, the others are not', async () => {
    const r = await supervisor(kind).run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'slow', agent: 'sleep', input: { ms: 10_000 }, timeoutMs: 300 },
        { id: 'ok', agent: 'sleep', input: { ms: 10 } },
      ],
    });
    expect(byId(r, 'slow').status).toBe('timed-out');
    expect(byId(r, 'slow').error?.code).toBe('TASK_TIMEOUT');
    expect(byId(r, 'slow').durationMs).toBeLessThan(3000);
    expect(byId(r, 'ok').status).toBe('succeeded');
  });

  it('a denial is a denied task with the decision recorded', async () => {
    const r = await supervisor(kind).run({
      failure: 'skip-dependents',
      tasks: [{ id: 'no', agent: 'sleep', input: { ms: 0, deny: 'network is off' } }],
    });
    const t = byId(r, 'no');
    expect(t.status).toBe('denied');
    expect(t.error?.code).toBe('TASK_DENIED');
    expect(t.decisions).toContainEqual({ decision: 'denied', reason: 'network is off' });
  });

  it('merges: voting, highest-score and concatenate', async () => {
    const vote = await supervisor(kind).run({
      tasks: [
        { id: 'v1', agent: 'sleep', input: { ms: 0, output: 'yes' } },
        { id: 'v2', agent: 'sleep', input: { ms: 10, output: 'yes' } },
        { id: 'v3', agent: 'sleep', input: { ms: 0, output: 'no' } },
      ],
      merge: { strategy: 'voting' },
    });
    expect(vote.merged).toMatchObject({ strategy: 'voting', outcome: 'majority', output: 'yes' });
    const best = await supervisor(kind).run({
      tasks: [
        { id: 's1', agent: 'sleep', input: { ms: 0, output: 'low', score: 0.2 } },
        { id: 's2', agent: 'sleep', input: { ms: 0, output: 'high', score: 0.9 } },
      ],
      merge: { strategy: 'highest-score' },
    });
    expect(best.merged).toMatchObject({ strategy: 'highest-score', source: 's2', score: 0.9 });
    const cat = await supervisor(kind).run({
      tasks: [
        { id: 'c1', agent: 'sleep', input: { ms: 30, output: 'one' } },
        { id: 'c2', agent: 'sleep', input: { ms: 0, output: 'two' } },
      ],
      merge: { strategy: 'concatenate', separator: '+' },
    });
    expect(cat.merged).toMatchObject({ strategy: 'concatenate', output: 'one+two' });
  });

  it('first-success with cancelRest: the winner ends the run, the rest is cancelled', async () => {
    const r = await supervisor(kind).run({
      tasks: [
        { id: 'quick', agent: 'sleep', input: { ms: 20, output: 'won' } },
        { id: 'slow', agent: 'sleep', input: { ms: 5000 } },
      ],
      merge: { strategy: 'first-success', cancelRest: true },
    });
    expect(r.status).toBe('succeeded');
    expect(r.merged).toMatchObject({ source: 'quick', output: 'won' });
    expect(byId(r, 'slow').status).toBe('cancelled');
  });

  it('every result says where the task ran and how many attempts it took', async () => {
    const r = await supervisor(kind).run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'ran', agent: 'sleep', input: { ms: 0 } },
        { id: 'bad', agent: 'sleep', input: { ms: 0, fail: 'x' } },
        { id: 'skipped', agent: 'sleep', input: { ms: 0 }, dependsOn: ['bad'] },
      ],
    });
    const ran = byId(r, 'ran');
    expect(ran.attempts).toBe(1);
    if (kind === 'in-process') expect(ran.worker?.workerId).toBe('in-process');
    else expect(['w1', 'w2', 'w3']).toContain(ran.worker?.workerId);
    expect(ran.worker?.host).toBeTruthy();
    expect(byId(r, 'bad').attempts).toBe(1);
    expect(byId(r, 'skipped').attempts).toBe(0);
    expect(byId(r, 'skipped').worker).toBeUndefined();
  });
});

describe.skipIf(skipReason !== undefined)('one result shape for both engines', () => {
  it('the same plan gives the same statuses, outputs, merge and keys on both engines', async () => {
    const plan = {
      failure: 'skip-dependents' as const,
      tasks: [
        { id: 'a', agent: 'sleep', input: { ms: 10, output: { n: 1 }, score: 1 } },
        { id: 'b', agent: 'sleep', input: { ms: 0, fail: 'broken' } },
        { id: 'c', agent: 'deps', input: {}, dependsOn: ['a'] },
        { id: 'd', agent: 'sleep', input: { ms: 0 }, dependsOn: ['b'] },
      ],
      merge: { strategy: 'concatenate' as const, tasks: ['a', 'c'] },
    };
    const local = await supervisor('in-process').run(plan);
    const remote = await supervisor('bullmq').run(plan);
    const view = (r: RunReport) => ({
      status: r.status,
      keys: Object.keys(r).sort(),
      tasks: r.tasks.map((t) => ({
        id: t.taskId,
        status: t.status,
        output: t.output,
        score: t.score,
        code: t.error?.code,
        keys: Object.keys(t).sort(),
      })),
      merged: r.merged,
    });
    expect(view(remote)).toEqual(view(local));
  });
});
