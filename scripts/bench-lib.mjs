// Shared tinybench runner for every package's `pnpm bench`.
// Writes <package>/bench/results.json: per-task ops/s and latency, plus target checks expressed
// as ratios against a baseline task measured in the same run (never absolute timings).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';

/**
 * @param {object} suite
 * @param {string} suite.packageDir absolute path of the package (results go to <dir>/bench/results.json)
 * @param {string} suite.name suite name
 * @param {Record<string, () => unknown>} suite.tasks task name → function (sync or async)
 * @param {{ task: string, baseline?: string, minRatio?: number, minOpsPerSec?: number, note?: string }[]} [suite.targets]
 * @param {number} [suite.time] ms per task (default 500, or BENCH_TIME)
 * @param {Record<string, unknown>} [suite.extra] more figures to record verbatim
 */
export async function runSuite({ packageDir, name, tasks, targets = [], time, extra = {} }) {
  const bench = new Bench({ time: Number(process.env.BENCH_TIME ?? time ?? 500), warmup: true });
  for (const [taskName, fn] of Object.entries(tasks)) bench.add(taskName, fn);
  await bench.run();
  const results = {};
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`bench task "${task.name}" ${r.state}: ${r.error ?? ''}`);
    results[task.name] = {
      opsPerSec: r.throughput.mean,
      meanMs: r.latency.mean,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      rmePercent: r.latency.rme,
      samples: r.latency.samplesCount ?? r.latency.samples?.length,
    };
  }
  const checks = targets.map((t) => {
    const ops = results[t.task]?.opsPerSec;
    if (ops === undefined) throw new Error(`target names unknown task "${t.task}"`);
    const base = t.baseline ? results[t.baseline]?.opsPerSec : undefined;
    const ratio = base ? ops / base : undefined;
    const pass =
      (t.minRatio === undefined || (ratio !== undefined && ratio >= t.minRatio)) &&
      (t.minOpsPerSec === undefined || ops >= t.minOpsPerSec);
    return { ...t, opsPerSec: ops, ratio, pass };
  });
  const out = {
    suite: name,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    results,
    targets: checks,
    ...extra,
  };
  mkdirSync(join(packageDir, 'bench'), { recursive: true });
  writeFileSync(join(packageDir, 'bench', 'results.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\n## ${name}`);
  console.table(
    Object.fromEntries(
      Object.entries(results).map(([k, v]) => [
        k,
        {
          'ops/s': Math.round(v.opsPerSec),
          'mean µs': +(v.meanMs * 1000).toFixed(2),
          'rme %': +v.rmePercent.toFixed(2),
        },
      ]),
    ),
  );
  for (const c of checks) {
    const ratio = c.ratio === undefined ? '' : ` = ${c.ratio.toFixed(2)}× ${c.baseline}`;
    console.log(
      `${c.pass ? 'PASS' : 'MISS'} ${c.task}: ${Math.round(c.opsPerSec)} ops/s${ratio}${c.note ? ` (${c.note})` : ''}`,
    );
  }
  return out;
}
