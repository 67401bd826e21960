// `pnpm bench` for @codex/supervisor-queue: the distributed engine against the in-process engine,
// measured in the same run on this machine (timings are noisy on a shared machine; read ratios).
//  1. 200 tasks of 50 ms over 4 worker processes (cap 4) vs in-process (cap 4): added overhead
//     per task, median of the coordinator-side task times (target: <= 5 ms, i.e. ratio >= 50/55).
//  2. 1,000 queued no-op tasks drained by 4 workers (concurrency 16 each, cap 64): tasks/s
//     (target: >= 500 tasks/s), next to the in-process drain rate.
// Needs redis-server (started here on a free loopback port, no persistence); without it the suite
// records why it was skipped.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supervisor } from '@codex/supervisor';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { QueueEngine } from '../dist/index.js';
import { registerTestAgents } from '../test/fixtures/agents.mjs';

const packageDir = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(packageDir, 'bench', 'results.json');
const redisBin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
const base = {
  suite: '@codex/supervisor-queue',
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  date: new Date().toISOString(),
};

if (!redisBin) {
  if (process.env.CI === 'true') throw new Error('CI=true requires redis-server for the queue benchmark');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ ...base, skipped: 'redis-server is not installed', results: {}, targets: [] }, null, 2)}\n`,
  );
  console.log('@codex/supervisor-queue bench skipped: redis-server is not installed');
  process.exit(0);
}

const port = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const url = `redis://127.0.0.1:${port}/0`;
const key = randomBytes(32).toString('hex');
const redis = spawn(
  redisBin,
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  { stdio: ['ignore', 'pipe', 'ignore'] },
);
await new Promise((resolve) => {
  let buf = '';
  redis.stdout.on('data', (b) => {
    buf += b;
    if (buf.includes('Ready to accept connections')) resolve();
  });
});

function startWorkers(n, concurrency, prefix) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const id = `${prefix}${i + 1}`;
      const child = spawn(
        process.execPath,
        [join(packageDir, 'test', 'fixtures', 'worker.mjs'), url, id, String(concurrency)],
        {
          env: { ...process.env, CODEX_QUEUE_KEY: key },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      return new Promise((resolve) => {
        let buf = '';
        child.stdout.on('data', (b) => {
          buf += b;
          if (buf.includes(`ready ${id}`)) resolve(child);
        });
      });
    }),
  );
}
const stop = (children) =>
  Promise.all(
    children.map(
      (c) =>
        new Promise((r) => {
          c.once('exit', r);
          c.kill('SIGTERM');
        }),
    ),
  );

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

const engine = await QueueEngine.connect({ url, key: Buffer.from(key) });
const sup = (withEngine, cap) =>
  registerTestAgents(
    new Supervisor({ maxConcurrent: cap, profile: 'offline', ...(withEngine ? { engine } : {}) }),
  );
const sleepPlan = (n, ms) => ({
  tasks: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, agent: 'sleep', input: { ms } })),
});

function figures(report) {
  const times = report.tasks.map((t) => t.durationMs);
  return {
    opsPerSec: report.tasks.length / (report.durationMs / 1000),
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    p50Ms: median(times),
    p99Ms: pct(times, 99),
    runMs: report.durationMs,
    status: report.status,
  };
}

// warm up both paths (JIT, connections, worker agent sets)
let workers = await startWorkers(4, 1, 'a');
await sup(true, 4).run(sleepPlan(20, 1));
await sup(false, 4).run(sleepPlan(20, 1));

const local200 = figures(await sup(false, 4).run(sleepPlan(200, 50)));
const queue200 = figures(await sup(true, 4).run(sleepPlan(200, 50)));
await stop(workers);

// the bare round trip: one no-op task at a time on one worker (no competition between workers)
workers = await startWorkers(1, 1, 'c');
const seqPlan = { ...sleepPlan(200, 0), strategy: 'sequential' };
await sup(true, 1).run(sleepPlan(20, 0));
const localSeq = figures(await sup(false, 1).run(seqPlan));
const queueSeq = figures(await sup(true, 1).run(seqPlan));
await stop(workers);

workers = await startWorkers(4, 16, 'b');
await sup(true, 64).run(sleepPlan(100, 0));
const localDrain = figures(await sup(false, 64).run(sleepPlan(1000, 0)));
const queueDrain = figures(await sup(true, 64).run(sleepPlan(1000, 0)));
await stop(workers);
await engine.close();

// Baseline for the drain rate: BullMQ itself on this machine right now, without codex (one
// process, a no-op processor with concurrency 64, 64 jobs in flight, completion via QueueEvents).
async function rawBullmq(n) {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const q = new Queue('raw', { connection });
  const ev = new QueueEvents('raw', { connection });
  await ev.waitUntilReady();
  const w = new Worker('raw', async () => 1, { connection, concurrency: 64 });
  await w.waitUntilReady();
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      await (await q.add('x', {})).waitUntilFinished(ev);
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  const ms = performance.now() - t0;
  await Promise.all([w.close(), q.close(), ev.close()]);
  return { opsPerSec: n / (ms / 1000), meanMs: ms / n, runMs: ms, status: 'succeeded' };
}
const rawDrain = await rawBullmq(1000);
redis.kill('SIGKILL');

const overheadMs = queue200.p50Ms - local200.p50Ms;
const results = {
  'in-process: 200 x 50 ms, cap 4': local200,
  'bullmq: 200 x 50 ms, 4 workers': queue200,
  'in-process: 200 no-op, sequential': localSeq,
  'bullmq: 200 no-op, sequential, 1 worker': queueSeq,
  'in-process: 1000 no-op, cap 64': localDrain,
  'bullmq: 1000 no-op drained, 4 workers x 16': queueDrain,
  'raw BullMQ without codex: 1000 no-op, 64 in flight': rawDrain,
};
for (const [name, r] of Object.entries(results))
  if (r.status !== 'succeeded') throw new Error(`${name}: run ${r.status}`);
const targets = [
  {
    task: 'bullmq: 200 x 50 ms, 4 workers',
    baseline: 'in-process: 200 x 50 ms, cap 4',
    // per-task time ratio (in-process median / bullmq median); >= 50/55 means <= 5 ms added per 50 ms task
    ratio: local200.p50Ms / queue200.p50Ms,
    minRatio: 50 / 55,
    opsPerSec: queue200.opsPerSec,
    note: `median added overhead ${overheadMs.toFixed(2)} ms per task (target <= 5 ms)`,
  },
  {
    task: 'bullmq: 1000 no-op drained, 4 workers x 16',
    baseline: 'raw BullMQ without codex: 1000 no-op, 64 in flight',
    ratio: queueDrain.opsPerSec / rawDrain.opsPerSec,
    opsPerSec: queueDrain.opsPerSec,
    minOpsPerSec: 500,
    note: `${Math.round(queueDrain.opsPerSec)} tasks/s (target >= 500); raw BullMQ here ${Math.round(rawDrain.opsPerSec)} jobs/s, in-process ${Math.round(localDrain.opsPerSec)} tasks/s`,
  },
].map((t) => ({
  ...t,
  pass:
    (t.minRatio === undefined || t.ratio >= t.minRatio) &&
    (t.minOpsPerSec === undefined || t.opsPerSec >= t.minOpsPerSec),
}));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ ...base, results, targets, overheadMsMedian: overheadMs, roundTripMsMedian: queueSeq.p50Ms - localSeq.p50Ms, loadAverage: (await import('node:os')).loadavg() }, null, 2)}\n`,
);
console.log('\n## @codex/supervisor-queue');
console.table(
  Object.fromEntries(
    Object.entries(results).map(([k, v]) => [
      k,
      {
        'tasks/s': Math.round(v.opsPerSec),
        'p50 ms': +(v.p50Ms ?? v.meanMs).toFixed(2),
        'p99 ms': +(v.p99Ms ?? 0).toFixed(2),
        'run ms': Math.round(v.runMs),
      },
    ]),
  ),
);
console.log(
  `load average at the end: ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
for (const t of targets) console.log(`${t.pass ? 'PASS' : 'MISS'} ${t.task}: ${t.note}`);
console.log(
  `bare round trip (sequential no-op, 1 worker): +${(queueSeq.p50Ms - localSeq.p50Ms).toFixed(2)} ms median per task`,
);
