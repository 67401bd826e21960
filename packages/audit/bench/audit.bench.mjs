// pnpm --filter @codex/audit bench   (after `pnpm --filter @codex/audit build`)
// Compares the audit logger (masking + hash chain + cross-process lock) with pino writing the
// same objects to a file, in the same run, and reports durable-mode throughput.
import { mkdtempSync, rmSync } from 'node:fs';
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
  extra: { entriesPerOp: { none: PER_OP, pino: PER_OP, batch: BATCH_CONCURRENCY, every: 1 }, cpu },
});
const r = result.results;
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
