#!/usr/bin/env node
// `pnpm bench`: every package's tinybench suite (via turbo), then whole-process figures for the
// `codex` binary against `node -e 0` measured in the same run. Writes bench/results.json.
//
// Wall time: median over RUNS interleaved runs of each command (no preload).
// Peak RSS: separate runs with a tiny `--require` preload that reports
// process.resourceUsage().maxRSS at exit; both commands carry the same preload, so the
// difference between them is the CLI's own cost.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const onlyProcess = process.argv.includes('--process-only');

if (!onlyProcess) {
  execFileSync('pnpm', ['exec', 'turbo', 'run', 'bench', '--concurrency=1', '--output-logs=full'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
}

const bin = join(root, 'apps/cli/dist/bin.js');
if (!existsSync(bin)) throw new Error('apps/cli is not built; run pnpm build first');

const work = mkdtempSync(join(tmpdir(), 'codex-bench-'));
const preload = join(work, 'rss.cjs');
writeFileSync(
  preload,
  "process.on('exit',()=>{require('fs').writeFileSync(process.env.CODEX_BENCH_RSS_FILE,String(process.resourceUsage().maxRSS))})",
);

const subjects = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'codex --version': [process.execPath, [bin, '--version']],
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const wall = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
const rss = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
const env = { ...process.env, NODE_OPTIONS: '' };
for (let i = 0; i < 3; i++) for (const [cmd, args] of Object.values(subjects)) spawnSync(cmd, args, { env }); // warm the page cache
for (let i = 0; i < RUNS; i++) {
  for (const [name, [cmd, args]] of Object.entries(subjects)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    wall[name].push(ms);
    const file = join(work, `rss-${i}`);
    const r2 = spawnSync(cmd, ['--require', preload, ...args], {
      env: { ...env, CODEX_BENCH_RSS_FILE: file },
      stdio: 'ignore',
    });
    if (r2.status !== 0) throw new Error(`${name} (rss run) exited ${r2.status}`);
    rss[name].push(Number(readFileSync(file, 'utf8')) / 1024); // KiB → MiB
  }
}
rmSync(work, { recursive: true, force: true });

const base = 'node -e 0';
const cli = 'codex --version';
const wallRatio = median(wall[cli]) / median(wall[base]);
const rssDelta = Math.max(...rss[cli]) - Math.max(...rss[base]);
const wholeProcess = {
  runs: RUNS,
  method:
    'median wall time of interleaved spawnSync runs; peak RSS from process.resourceUsage().maxRSS at exit',
  subjects: Object.fromEntries(
    Object.keys(subjects).map((k) => [
      k,
      { medianWallMs: +median(wall[k]).toFixed(2), peakRssMiB: +Math.max(...rss[k]).toFixed(2) },
    ]),
  ),
  targets: [
    {
      name: 'codex --version wall time ≤ 1.15× node -e 0',
      value: +wallRatio.toFixed(3),
      limit: 1.15,
      pass: wallRatio <= 1.15,
    },
    {
      name: 'codex --version peak RSS ≤ node -e 0 + 8 MiB',
      value: +rssDelta.toFixed(2),
      limit: 8,
      pass: rssDelta <= 8,
    },
  ],
};

const packages = {};
for (const dir of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, dir))) {
    const file = join(root, dir, name, 'bench', 'results.json');
    if (existsSync(file)) packages[name] = JSON.parse(readFileSync(file, 'utf8'));
  }
}
mkdirSync(join(root, 'bench'), { recursive: true });
const out = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  wholeProcess,
  packages,
};
writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(out, null, 2)}\n`);

console.log('\n## Whole process');
console.table(wholeProcess.subjects);
for (const t of wholeProcess.targets) console.log(`${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.value}`);
const misses = [
  ...wholeProcess.targets.filter((t) => !t.pass).map((t) => t.name),
  ...Object.values(packages).flatMap((p) =>
    (p.targets ?? []).filter((t) => !t.pass).map((t) => `${p.suite}: ${t.task}`),
  ),
];
console.log(misses.length ? `\n${misses.length} target(s) missed` : '\nall targets met');
console.log('results: bench/results.json');
