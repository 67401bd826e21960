// pnpm --filter @codex/audit bench   (after `pnpm --filter @codex/audit build`)
// Compares the audit logger (masking + hash chain + cross-process lock) with pino writing the
// same objects to a file, in the same run, and reports durable-mode throughput.
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { runSuite } from '../../../scripts/bench-lib.mjs';
import { AuditLogger } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'codex-audit-bench-'));
const mask = { home: '/home/alice', user: 'alice' };
const templates = [
  {
    profile: 'workspace-write',
    operation: 'file_write',
    target: '/home/alice/project/src/index.ts',
    decision: 'allowed',
    reason: 'inside workspace root',
    session_id: 's-1',
    task_id: 't-1',
    agent_type: 'coder',
  },
  {
    profile: 'offline',
    operation: 'network_access',
    target: 'https://api.example.com/v1',
    decision: 'denied',
    reason: 'profile offline forbids network',
    session_id: 's-1',
    task_id: 't-2',
    agent_type: 'coder',
  },
  {
    profile: 'offline',
    operation: 'command_exec',
    target: 'git push https://alice:hunter2@example.com/r.git',
    decision: 'requires_approval',
    reason: 'GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 in env',
    session_id: 's-1',
    task_id: 't-3',
    agent_type: 'coder',
  },
  {
    profile: 'workspace-net',
    operation: 'file_read',
    target: '/etc/hosts',
    decision: 'allowed',
    reason: 'reads are allowed everywhere',
    session_id: 's-1',
    task_id: 't-4',
    agent_type: 'researcher',
  },
];
// 4096 distinct objects (targets vary, reasons repeat, as in real sessions): more than the
// masker's cache holds, so target masking is really paid for. pino gets the very same objects.
const events = Array.from({ length: 4096 }, (_, i) => {
  const t = templates[i & 3];
  return { ...t, target: `${t.target}${t.operation === 'command_exec' ? ` --n ${i}` : `#${i}`}` };
});
const PER_OP = 1000;
let cursor = 0;
const next = () => events[cursor++ & 4095];

const pinoDest = pino.destination({ dest: join(dir, 'pino.log'), sync: false, minLength: 4096 });
const pinoLogger = pino({ base: undefined }, pinoDest);
// Wait until pino's buffered lines are written to the OS, *without* fsync (sonic-boom's
// flush(cb) and flushSync() both fsync, which would handicap the baseline): kick a write and
// wait for 'drain'. Same end point as the audit logger's flush() under durability 'none'.
const flushPino = () =>
  new Promise((resolve) => {
    if (!pinoDest._writing && pinoDest._len === 0) return resolve();
    pinoDest.once('drain', resolve);
    pinoDest.flush();
  });

const none = new AuditLogger({ path: join(dir, 'none.jsonl'), durability: 'none', mask });
const batch = new AuditLogger({
  path: join(dir, 'batch.jsonl'),
  durability: 'batch',
  mask,
  flushIntervalMs: 2,
});
const every = new AuditLogger({ path: join(dir, 'every.jsonl'), durability: 'every', mask });
const disabled = new AuditLogger({ path: join(dir, 'disabled.jsonl'), enabled: false });
// The cheapest possible AuditSink: what "a disabled logger costs nothing" is measured against.
const resolved = Promise.resolve();
const noopSink = { log: (_event) => resolved };

// A second view that the machine's load disturbs less: CPU time (user + system) per entry of this
// process, pino and audit interleaved over several rounds. Recorded in results.json as `cpu`.
async function cpuPerEntry(fn, ops) {
  const start = process.cpuUsage();
  for (let k = 0; k < ops; k++) await fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / ops / PER_OP;
}
const pinoOp = async () => {
  for (let i = 0; i < PER_OP; i++) pinoLogger.info(next());
  await flushPino();
};
const noneOp = async () => {
  for (let i = 0; i < PER_OP; i++) none.log(next());
  await none.flush();
};
const rounds = [];
for (let r = 0; r < 7; r++) {
  const audit = await cpuPerEntry(noneOp, 30);
  const base = await cpuPerEntry(pinoOp, 30);
  rounds.push({ auditCpuUsPerEntry: audit, pinoCpuUsPerEntry: base, ratio: base / audit });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = {
  note: 'CPU µs per entry (user+system) of this process; ratio = pino CPU / audit CPU, i.e. audit throughput relative to pino per CPU second',
  medianRatio: median(rounds.map((r) => r.ratio)),
  rounds,
};

// THE buffered+chain figure (issue 19: one honest number). Wall-clock entries/s of pino and of the
// audit logger (durability none: mask + hash chain + lock) on the very same objects, measured in
// interleaved rounds (A B, B A, …) so that the shared machine's load hits both alike; the figure is
// the median of the per-round ratios. It replaces tinybench's ratio in results.json's target, so
// the dashboard (docs/benchmarks.md, built from results.json) shows exactly what this prints.
async function wallRate(fn, ops) {
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < ops; k++) await fn();
  return (ops * PER_OP) / (Number(process.hrtime.bigint() - t0) / 1e9);
}
const wallRounds = [];
for (let r = 0; r < 15; r++) {
  const first = r % 2 === 0;
  const a = first ? await wallRate(pinoOp, 20) : undefined;
  const audit = await wallRate(noneOp, 20);
  const pinoRate = a ?? (await wallRate(pinoOp, 20));
  wallRounds.push({
    pinoEntriesPerSec: Math.round(pinoRate),
    auditEntriesPerSec: Math.round(audit),
    ratio: audit / pinoRate,
  });
}
const bufferedRatio = median(wallRounds.map((r) => r.ratio));

// `every` durability with group commit: 8 concurrent writers, each awaiting its own entry (written
// and fsynced) before logging the next; calls made during an fsync share the next one.
async function concurrentEvery(writers, ms) {
  const logger = new AuditLogger({ path: join(dir, `every-${writers}.jsonl`), durability: 'every', mask });
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < end) {
        await logger.log(events[(w * 7 + n) & 4095]);
        n++;
      }
    }),
  );
  const fsyncs = logger.stats.batches;
  await logger.close();
  return { entriesPerSec: Math.round(n / (ms / 1000)), entriesPerFsync: n / fsyncs };
}
// The disk's own ceiling, measured in the same run: append one line + fsync, in a loop. With 8
// writers each waiting for its entry, group commit can at best reach 8 entries per fsync.
function rawFsyncRate(ms) {
  const fd = openSync(join(dir, 'raw-fsync.bin'), 'a');
  const line = Buffer.from(`${'x'.repeat(299)}\n`);
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    writeSync(fd, line);
    fsyncSync(fd);
    n++;
  }
  closeSync(fd);
  return Math.round(n / (ms / 1000));
}
const rawFsync = rawFsyncRate(1500);
const every1 = await concurrentEvery(1, 2000);
const every8 = await concurrentEvery(8, 2000);
const rawFsyncAfter = rawFsyncRate(1500);

const BATCH_CONCURRENCY = 100;
const result = await runSuite({
  packageDir: fileURLToPath(new URL('..', import.meta.url)),
  name: '@codex/audit',
  tasks: {
    [`pino → file, ${PER_OP} entries (baseline)`]: pinoOp,
    [`audit none (mask + chain + lock), ${PER_OP} entries`]: noneOp,
    [`audit batch, ${BATCH_CONCURRENCY} concurrent entries + group fsync`]: async () => {
      const ps = new Array(BATCH_CONCURRENCY);
      for (let i = 0; i < BATCH_CONCURRENCY; i++) ps[i] = batch.log(next());
      await Promise.all(ps);
    },
    'audit every, 1 entry + fsync': () => every.log(events[1]),
    'no-op AuditSink log() (baseline)': () => noopSink.log(events[0]),
    'disabled logger log()': () => disabled.log(events[0]),
  },
  targets: [
    {
      task: `audit none (mask + chain + lock), ${PER_OP} entries`,
      baseline: `pino → file, ${PER_OP} entries (baseline)`,
      minRatio: 0.7,
      note: 'issue 4: buffered mode with hash chain >= 0.7x pino',
    },
    {
      task: 'disabled logger log()',
      baseline: 'no-op AuditSink log() (baseline)',
      minRatio: 0.5,
      note: 'a disabled logger costs about as much as a no-op sink',
    },
  ],
  extra: {
    entriesPerOp: { none: PER_OP, pino: PER_OP, batch: BATCH_CONCURRENCY, every: 1 },
    cpu,
    bufferedVsPino: {
      note: 'audit none (mask + chain + lock) entries/s ÷ pino entries/s on the same objects, wall clock, median of interleaved rounds',
      medianRatio: bufferedRatio,
      rounds: wallRounds,
    },
    everyGroupCommit: {
      note: 'entries/s with durability every; rawFsyncPerSec: write+fsync of one line in a loop, before and after (the disk ceiling)',
      writers1: every1,
      writers8: every8,
      rawFsyncPerSec: [rawFsync, rawFsyncAfter],
    },
  },
});
// One figure for buffered+chain vs pino: the target in results.json carries the interleaved median
// (tinybench's sequential-sample ratio is kept alongside as `tinybenchRatio`, for reference).
{
  const file = fileURLToPath(new URL('./results.json', import.meta.url));
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  const t = saved.targets[0];
  saved.targets[0] = {
    ...t,
    tinybenchRatio: t.ratio,
    ratio: bufferedRatio,
    pass: bufferedRatio >= t.minRatio,
    method: 'median of 15 interleaved wall-clock rounds (see bufferedVsPino)',
  };
  saved.targets.push({
    task: 'audit every, 8 concurrent writers (group commit)',
    baseline: 'audit every, 1 writer',
    ratio: every8.entriesPerSec / every1.entriesPerSec,
    ofDiskCeiling: every8.entriesPerSec / (8 * Math.max(rawFsync, rawFsyncAfter)),
    minEntriesPerSec: 5000,
    entriesPerSec: every8.entriesPerSec,
    pass: every8.entriesPerSec >= 5000,
    note: 'issue 19: every durability with group commit >= 5,000 entries/s with 8 concurrent writers',
  });
  result.targets = saved.targets;
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
}
const r = result.results;
for (const t of result.targets.slice(0, 1))
  console.log(
    `${t.pass ? 'PASS' : 'MISS'} buffered+chain / pino (same objects, one run): ${bufferedRatio.toFixed(2)}× (median of ${wallRounds.length} interleaved rounds; target >= 0.7×)`,
  );
console.log(
  `${every8.entriesPerSec >= 5000 ? 'PASS' : 'MISS'} every + group commit, 8 concurrent writers: ${every8.entriesPerSec} entries/s (${every8.entriesPerFsync.toFixed(1)} entries per fsync; 1 writer: ${every1.entriesPerSec} entries/s; disk: ${rawFsync}/${rawFsyncAfter} raw fsync/s before/after, so at most ${8 * Math.max(rawFsync, rawFsyncAfter)} entries/s; target >= 5,000)`,
);
const per = (name, n) => Math.round(r[name].opsPerSec * n);
console.log(
  `\nentries/s: pino ${per(`pino → file, ${PER_OP} entries (baseline)`, PER_OP)}, audit none ${per(`audit none (mask + chain + lock), ${PER_OP} entries`, PER_OP)}, batch ${per(`audit batch, ${BATCH_CONCURRENCY} concurrent entries + group fsync`, BATCH_CONCURRENCY)}, every ${per('audit every, 1 entry + fsync', 1)}`,
);
console.log(
  `CPU-time ratio (pino CPU / audit CPU per entry), median of ${rounds.length} rounds: ${cpu.medianRatio.toFixed(2)}`,
);
await Promise.all([none.close(), batch.close(), every.close()]);
pinoDest.end();
rmSync(dir, { recursive: true, force: true });
