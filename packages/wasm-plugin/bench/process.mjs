// Whole-process figures for plugins through the `codex` CLI, each against `node -e 0` measured in
// the same run (interleaved, medians). Used by scripts/bench.mjs; also runnable on its own after
// `pnpm build`:  node packages/wasm-plugin/bench/process.mjs [runs]
//
//   - `codex plugin run json-format.wasm` cold: a fresh CODEX_HOME per run (empty build cache);
//     target ≤ 1.5 s.
//   - the same warm (cache filled by an earlier run); target ≤ 1.5× `node -e 0`.
//   - `codex help` in the same loop (context, no target): Node plus the CLI and @codex/core
//     loaded, which every subcommand pays before it starts, so the warm figure reads as that
//     floor plus the plugin's own cost.
//   - `codex supervise` with 1 and with 100 json-format plugin tasks (warm cache), and 100 tasks on
//     an empty cache: the plugin agents share one PluginPool, so 100 tasks should cost about one
//     start plus 100 warm runs, not 100 starts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlugins } from '../scripts/build-plugins.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;

export async function measurePluginProcess({ root, runs = 10 }) {
  const bin = join(root, 'apps/cli/dist/bin.cjs');
  const work = mkdtempSync(join(tmpdir(), 'codex-plugin-process-'));
  try {
    const plugins = await buildPlugins(join(work, 'plugins'));
    const json = plugins['json-format'];
    const input = '{"name":"codex","tags":["a","b"],"n":[1,2,3]}';
    const env = (home) => ({ ...process.env, NODE_OPTIONS: '', CODEX_HOME: home });
    const time = (args, home, check = (r) => r.status === 0) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, args, { env: env(home), input, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (!check(r)) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      return ms;
    };
    const home = mkdtempSync(join(work, 'home-'));
    const node = [];
    const cold = [];
    const warm = [];
    const help = [];
    time([bin, 'plugin', 'run', json], home); // fills the cache
    for (let i = 0; i < 3; i++) time(['-e', '0'], home); // warm the page cache
    for (let i = 0; i < runs; i++) {
      node.push(time(['-e', '0'], home));
      warm.push(time([bin, 'plugin', 'run', json], home));
      help.push(time([bin, 'help'], home));
      cold.push(time([bin, 'plugin', 'run', json], mkdtempSync(join(work, 'cold-'))));
    }

    const plan = (n) => {
      const file = join(work, `plan-${n}.json`);
      const tasks = Array.from({ length: n }, (_, i) => ({
        id: `p${i}`,
        agent: 'plugin',
        input: { plugin: json, input },
      }));
      writeFileSync(file, JSON.stringify({ tasks }));
      return file;
    };
    const one = plan(1);
    const hundred = plan(100);
    const supervise1 = [];
    const supervise100 = [];
    const supervise100Cold = [];
    for (let i = 0; i < 3; i++) {
      supervise1.push(time([bin, 'supervise', one, '--json'], home));
      supervise100.push(time([bin, 'supervise', hundred, '--json'], home));
      supervise100Cold.push(time([bin, 'supervise', hundred, '--json'], mkdtempSync(join(work, 'cold-'))));
    }

    const base = median(node);
    const coldMs = median(cold);
    const warmRatio = median(warm) / base;
    const perTask = (median(supervise100) - median(supervise1)) / 99;
    const figures = {
      runs,
      nodeMedianMs: r1(base),
      pluginRunColdMs: cold.map(r1),
      pluginRunColdMedianMs: r1(coldMs),
      pluginRunWarmMedianMs: r1(median(warm)),
      pluginRunWarmRatio: +warmRatio.toFixed(3),
      cliHelpMedianMs: r1(median(help)),
      cliHelpRatio: +(median(help) / base).toFixed(3),
      pluginRunWarmOverCliHelpMs: r1(median(warm) - median(help)),
      supervise1TaskMedianMs: r1(median(supervise1)),
      supervise100TasksMedianMs: r1(median(supervise100)),
      supervise100TasksColdCacheMedianMs: r1(median(supervise100Cold)),
      supervisePerExtraTaskMs: r1(perTask),
      supervise100VsOneTask: +(median(supervise100) / median(supervise1)).toFixed(3),
    };
    const targets = [
      {
        name: 'codex plugin run (cold, empty cache) ≤ 1500 ms',
        value: r1(coldMs),
        limit: 1500,
        pass: coldMs <= 1500,
      },
      {
        name: 'codex plugin run (warm) ≤ 1.5× node -e 0',
        value: +warmRatio.toFixed(3),
        limit: 1.5,
        pass: warmRatio <= 1.5,
      },
    ];
    return { figures, targets };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const { figures, targets } = await measurePluginProcess({ root, runs: Number(process.argv[2] ?? 10) });
  console.log(JSON.stringify(figures, null, 2));
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.value}`);
}
