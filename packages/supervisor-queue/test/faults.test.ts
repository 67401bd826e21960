// Fault cases on a real redis-server with worker processes: forged jobs, the profile ceiling,
// a worker SIGKILLed mid-task, Redis restarted or gone mid-plan, cancellation of process trees.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor } from '@codex/supervisor';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueEngine, sign } from '../src/index.js';
import { registerTestAgents } from './fixtures/agents.mjs';
import {
  alive,
  groupMembers,
  RedisServer,
  redisSkipReason,
  startWorkers,
  TEST_KEY,
  until,
  type WorkerProcess,
} from './redis.js';

const skipReason = redisSkipReason();
const key = Buffer.from(TEST_KEY);

let redis: RedisServer | undefined;
let workers: WorkerProcess[] = [];
const closers: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  workers = [];
  await redis?.stop();
  redis = undefined;
});

async function setup(
  n: number,
  opts: Parameters<typeof startWorkers>[2] = {},
  engineOpts: Partial<Parameters<typeof QueueEngine.connect>[0]> = {},
) {
  redis = await RedisServer.start();
  workers = await startWorkers(redis.url, n, opts);
  const engine = await QueueEngine.connect({ url: redis.url, key, ...engineOpts });
  closers.push(() => engine.close());
  return engine;
}

function plans(
  engine: QueueEngine,
  profile: 'offline' | 'workspace-write' = 'workspace-write',
  maxConcurrent = 8,
) {
  return registerTestAgents(new Supervisor({ engine, profile, maxConcurrent }));
}

const tmp = () => mkdtempSync(join(tmpdir(), 'codex-queue-'));

describe.skipIf(skipReason !== undefined)('signed jobs', () => {
  it('a worker refuses unsigned, forged, altered, re-addressed, malformed and expired jobs, and keeps going', async () => {
    const dir = tmp();
    const auditFile = join(dir, 'audit.jsonl');
    const engine = await setup(1, { auditFile });
    const url = (redis as RedisServer).url;
    const queue = new Queue('codex-tasks', {
      connection: { host: '127.0.0.1', port: (redis as RedisServer).port },
      prefix: 'codex',
    });
    const events = new QueueEvents('codex-tasks', {
      connection: { host: '127.0.0.1', port: (redis as RedisServer).port },
      prefix: 'codex',
    });
    closers.push(
      () => queue.close(),
      () => events.close(),
    );
    await events.waitUntilReady();
    const marker = join(dir, 'pwned');
    const payload = (jobId: string, extra: Record<string, unknown> = {}) => ({
      v: 1,
      queue: 'codex-tasks',
      jobId,
      runId: 'evil',
      taskId: 'evil',
      agentName: 'evil',
      type: 'proc',
      profile: 'workspace-write',
      input: { script: `touch ${marker}`, pidFile: join(dir, 'pid') },
      deps: {},
      issuedAt: Date.now(),
      expiresAt: Date.now() + 60_000,
      coordinator: 'attacker',
      ...extra,
    });
    const signed = (p: unknown) => {
      const text = JSON.stringify(p);
      return { payload: text, sig: sign(key, 'job', text) };
    };
    const attempts: [string, unknown, string][] = [
      ['unsigned', payload('unsigned'), 'JOB_UNSIGNED'],
      [
        'forged',
        (() => {
          const text = JSON.stringify(payload('forged'));
          return { payload: text, sig: sign(Buffer.alloc(32, 7), 'job', text) };
        })(),
        'JOB_FORGED',
      ],
      [
        'altered',
        (() => {
          const good = signed(payload('altered', { input: { script: 'true', pidFile: join(dir, 'pid') } }));
          return { ...good, payload: good.payload.replace('"script":"true"', `"script":"touch ${marker}"`) };
        })(),
        'JOB_FORGED',
      ],
      ['readdressed', signed(payload('some-other-id')), 'JOB_FORGED'],
      [
        'result-sig',
        (() => {
          const text = JSON.stringify(payload('result-sig'));
          return { payload: text, sig: sign(key, 'result', text) };
        })(),
        'JOB_FORGED',
      ],
      ['malformed', signed(payload('malformed', { profile: 'root' })), 'JOB_INVALID'],
      ['bad-input', signed(payload('bad-input', { input: { script: 1 } })), 'JOB_INVALID'],
      ['expired', signed(payload('expired', { expiresAt: Date.now() - 1 })), 'JOB_EXPIRED'],
    ];
    for (const [id, data, code] of attempts) {
      const job = await queue.add('task', data, { jobId: id });
      // A liveness bound, not a speed one: a loaded 2-core machine once took over 10 s here.
      await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(code);
    }
    expect(existsSync(marker)).toBe(false);
    // The worker prints each refusal from its own process; the job's failure can reach this test
    // through Redis before that line comes through the pipe, so wait for it (a liveness bound).
    for (const [id, , code] of attempts)
      await expect.poll(() => workers[0]?.output, { timeout: 10_000 }).toContain(`refused ${id} ${code}`);
    const audit = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audit).toHaveLength(attempts.length);
    for (const e of audit) {
      expect(e.decision).toBe('denied');
      expect(e.details).toMatchObject({ worker_id: 'w1', stage: 'queue' });
      expect(e.details.host).toBeTruthy();
    }
    // the same worker still runs properly signed work
    const r = await plans(engine).run({
      tasks: [{ id: 'fine', agent: 'sleep', input: { ms: 0, output: 'ok' } }],
    });
    expect(r.status).toBe('succeeded');
    expect(r.tasks[0]?.worker?.workerId).toBe('w1');
    void url;
  }, 180_000);

  it('a result not signed by a worker is refused by the coordinator', async () => {
    redis = await RedisServer.start();
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    // a rogue consumer without the key answers every job with a made-up success
    const rogue = new Worker(
      'rogue',
      async (job) => ({
        payload: JSON.stringify({ v: 1, jobId: job.id, status: 'succeeded', output: 'lies' }),
        sig: '0'.repeat(64),
      }),
      { connection, prefix: 'codex' },
    );
    closers.push(() => rogue.close());
    const engine = await QueueEngine.connect({ url: redis.url, key, queueName: 'rogue' });
    closers.push(() => engine.close());
    const r = await plans(engine).run({ tasks: [{ id: 't', agent: 'sleep', input: { ms: 0 } }] });
    expect(r.tasks[0]?.status).toBe('failed');
    expect(r.tasks[0]?.error?.code).toBe('RESULT_REFUSED');
    expect(r.tasks[0]?.output).toBeUndefined();
  });
});

describe.skipIf(skipReason !== undefined)('profile ceiling', () => {
  it('a worker never runs a task under a profile above its ceiling', async () => {
    const dir = tmp();
    const auditFile = join(dir, 'audit.jsonl');
    const engine = await setup(1, { ceiling: 'offline', auditFile });
    const above = await plans(engine, 'workspace-write').run({
      tasks: [{ id: 'w', agent: 'sleep', input: { ms: 0, mark: join(dir, 'ran') } }],
    });
    expect(above.tasks[0]?.status).toBe('denied');
    expect(above.tasks[0]?.error?.message).toContain(
      "profile workspace-write is above this worker's ceiling offline",
    );
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    const audit = JSON.parse(readFileSync(auditFile, 'utf8').trim());
    expect(audit).toMatchObject({
      decision: 'denied',
      task_id: 'w',
      profile: 'workspace-write',
      details: { stage: 'ceiling', worker_id: 'w1' },
    });
    const within = await plans(engine, 'offline').run({
      tasks: [{ id: 'o', agent: 'sleep', input: { ms: 0 } }],
    });
    expect(within.tasks[0]?.status).toBe('succeeded');
  });
});

describe.skipIf(skipReason !== undefined)('faults', () => {
  it('a worker SIGKILLed mid-task: the task is retried on another worker, counted, and the result is complete', async () => {
    const dir = tmp();
    const mark = join(dir, 'marks');
    const engine = await setup(2, { lockMs: 1000 });
    const handle = plans(engine).start({
      tasks: [
        { id: 'victim', agent: 'sleep', input: { ms: 1500, output: 'done', mark } },
        { id: 'after', agent: 'sleep', input: { ms: 0, output: 'after' }, dependsOn: ['victim'] },
      ],
    });
    await until(() => existsSync(mark), 10_000, 'victim to start');
    const pid = Number(readFileSync(mark, 'utf8').trim().split(' ')[1]);
    const victim = workers.find((w) => w.pid === pid) as WorkerProcess;
    const survivor = workers.find((w) => w.pid !== pid) as WorkerProcess;
    await victim.stop('SIGKILL');
    const r = await handle.done;
    expect(r.status).toBe('succeeded');
    const t = r.tasks.find((x) => x.taskId === 'victim');
    expect(t?.output).toBe('done');
    expect(t?.attempts).toBe(2);
    expect(t?.worker?.workerId).toBe(survivor.id);
    expect(readFileSync(mark, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(r.tasks.find((x) => x.taskId === 'after')?.status).toBe('succeeded');
  }, 30_000);

  it('Redis restarted mid-plan (nothing persisted): the lost jobs are queued again and the plan completes', async () => {
    const dir = tmp();
    const mark = join(dir, 'marks');
    const engine = await setup(2, { concurrency: 2 }, { sweepIntervalMs: 200 });
    const handle = plans(engine).start({
      tasks: Array.from({ length: 4 }, (_, i) => ({
        id: `t${i}`,
        agent: 'sleep',
        input: { ms: 800, output: i, mark },
      })),
    });
    await until(
      () => existsSync(mark) && readFileSync(mark, 'utf8').trim().split('\n').length >= 2,
      10_000,
      'tasks to start',
    );
    await (redis as RedisServer).restart();
    const r = await handle.done;
    expect(r.status).toBe('succeeded');
    expect(r.tasks.map((t) => t.output)).toEqual([0, 1, 2, 3]);
    expect(Math.max(...r.tasks.map((t) => t.attempts))).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('Redis gone mid-plan: the run fails with QUEUE_UNAVAILABLE instead of hanging', async () => {
    const engine = await setup(1, {}, { unavailableAfterMs: 1500, sweepIntervalMs: 200 });
    const handle = plans(engine).start({
      failure: 'skip-dependents',
      tasks: [{ id: 'stuck', agent: 'sleep', input: { ms: 3000 } }],
    });
    await new Promise((r) => setTimeout(r, 300));
    await (redis as RedisServer).stop();
    const r = await handle.done;
    expect(r.status).toBe('failed');
    expect(r.tasks[0]?.error?.code).toBe('QUEUE_UNAVAILABLE');
    expect(r.tasks[0]?.worker).toBeUndefined();
    expect(r.tasks[0]?.error?.message).toMatch(/^Redis at redis:\/\/127\.0\.0\.1:\d+\/0 unreachable for \d/);
  }, 30_000);

  it('cancelling the run kills the process trees of running tasks on every worker within 1 s', async () => {
    const dir = tmp();
    const engine = await setup(3, { concurrency: 2 });
    const tasks = Array.from({ length: 6 }, (_, i) => ({
      id: `p${i}`,
      agent: 'proc',
      input: { script: 'sleep 30 & sleep 30 & wait', pidFile: join(dir, `p${i}.pid`) },
    }));
    const handle = plans(engine).start({ tasks });
    const files = tasks.map((_, i) => join(dir, `p${i}.pid`));
    const pids = () => files.filter((f) => existsSync(f)).map((f) => Number(readFileSync(f, 'utf8')));
    await until(() => pids().length === 6, 15_000, 'all six process trees');
    await new Promise((r) => setTimeout(r, 200));
    const groups = pids();
    const groupAlive = (pgid: number) => groupMembers(pgid).length > 0;
    // each tree: sh and its two sleeps
    expect(groups.every((g) => groupMembers(g).length === 3)).toBe(true);
    const t0 = Date.now();
    handle.cancel('interrupted');
    await until(() => !groups.some(groupAlive), 1000, 'every process group to be gone');
    const elapsed = Date.now() - t0;
    const r = await handle.done;
    expect(r.status).toBe('cancelled');
    expect(r.tasks.every((t) => t.status === 'cancelled')).toBe(true);
    expect(new Set(r.tasks.map((t) => t.worker?.workerId)).size).toBeGreaterThanOrEqual(1);
    expect(groups.some((p) => alive(p))).toBe(false);
    expect(elapsed).toBeLessThan(1000);
  }, 30_000);
});
