#!/usr/bin/env node
// `pnpm bench:regression`: compares bench/results.json (from `pnpm bench`) with the committed
// bench/baseline.json, as ratios only, and fails with a readable table when any ratio got worse
// by more than the threshold. Also the shared code that renders docs/benchmarks.md and its SVG
// (scripts/bench/: compare.mjs, markdown.mjs, svg.mjs; re-exported here).
//
//   node scripts/bench-regression.mjs [--threshold 0.25] [--results F] [--baseline F]
//   node scripts/bench-regression.mjs --update-baseline     (copy results → baseline)
//
// Why ratios: every figure is measured against a baseline taken in the same run (codex vs
// `node -e 0`, a library call vs the plain-JS equivalent), so a slower or faster machine moves
// both sides and the ratio stays put. Absolute ops/s and milliseconds are never compared.
//
// Thresholds (documented in docs/benchmarks.md): whole-process wall-time ratios 40 %, peak-RSS
// ratios 15 %, tinybench ratios 25 %. A "lower is better" ratio regresses when
// current > baseline × (1 + t); a "higher is better" one when current < baseline ÷ (1 + t).
// `--threshold 0.1` applies one threshold to every figure.
// Exit codes: 0 no regression; 1 at least one regression; 2 missing or unreadable input.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  compare,
  comparisonText,
  DEFAULT_THRESHOLDS,
  describeThreshold,
  fmt,
  pct,
} from './bench/compare.mjs';
import { comparisonTable, renderMarkdown } from './bench/markdown.mjs';
import { renderSvg } from './bench/svg.mjs';

export {
  compare,
  comparisonText,
  DEFAULT_THRESHOLDS,
  describeThreshold,
  extractMetrics,
  thresholdFor,
} from './bench/compare.mjs';
export { comparisonTable, renderMarkdown } from './bench/markdown.mjs';
export { renderSvg } from './bench/svg.mjs';

/** Writes docs/benchmarks.md and docs/benchmarks.svg for `results`, against the baseline if any. */
export function writeDashboard(root, results, threshold = DEFAULT_THRESHOLDS) {
  const baselineFile = join(root, 'bench', 'baseline.json');
  const baselineMissing = !existsSync(baselineFile);
  const baseline = baselineMissing ? results : JSON.parse(readFileSync(baselineFile, 'utf8'));
  const comparison = compare(baseline, results, threshold);
  writeFileSync(join(root, 'docs', 'benchmarks.svg'), renderSvg(comparison));
  writeFileSync(
    join(root, 'docs', 'benchmarks.md'),
    renderMarkdown(results, comparison, { baselineDate: baseline.date, baselineMissing }),
  );
  // keep the generated page lint-clean (biome aligns markdown tables); best effort
  spawnSync('pnpm', ['exec', 'biome', 'format', '--write', 'docs/benchmarks.md'], {
    cwd: root,
    stdio: 'ignore',
  });
  return comparison;
}

function main() {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        threshold: { type: 'string' },
        results: { type: 'string' },
        baseline: { type: 'string' },
        'update-baseline': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(
      `bench-regression: ${String(error instanceof Error ? error.message : error).split('\n')[0]}`,
    );
    return 2;
  }
  const resultsFile = resolve(values.results ?? join(root, 'bench', 'results.json'));
  const baselineFile = resolve(values.baseline ?? join(root, 'bench', 'baseline.json'));
  const raw = values.threshold ?? process.env.BENCH_REGRESSION_THRESHOLD;
  const threshold = raw === undefined ? DEFAULT_THRESHOLDS : Number(raw);
  if (typeof threshold === 'number' && !(threshold > 0 && threshold < 10)) {
    console.error(`bench-regression: --threshold must be a fraction such as 0.25, got ${values.threshold}`);
    return 2;
  }
  const load = (file, what) => {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      console.error(
        `bench-regression: cannot read ${what} ${file}: ${error instanceof Error ? error.message : error}`,
      );
      return undefined;
    }
  };
  if (values['update-baseline']) {
    if (!load(resultsFile, 'results')) return 2;
    copyFileSync(resultsFile, baselineFile);
    console.log(`bench-regression: baseline updated from ${resultsFile}`);
    return 0;
  }
  const results = load(resultsFile, 'results (run `pnpm bench` first)');
  const baseline = load(baselineFile, 'baseline');
  if (!results || !baseline) return 2;
  const comparison = compare(baseline, results, threshold);
  console.log(
    `bench-regression: ${resultsFile} vs ${baselineFile}; thresholds: ${describeThreshold(threshold)}\n`,
  );
  console.log(comparisonText(comparison));
  // The whole-process targets (docs/benchmarks.md) as measured in the results being checked.
  const targets = results.wholeProcess?.targets ?? [];
  if (targets.length > 0) {
    console.log('\nwhole-process targets in these results:');
    for (const t of targets)
      console.log(`  ${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.value} (limit ${t.limit})`);
  }
  if (process.env.GITHUB_STEP_SUMMARY) {
    writeFileSync(
      process.env.GITHUB_STEP_SUMMARY,
      `## Benchmark regression check\n\n${comparisonTable(comparison)}\n`,
      {
        flag: 'a',
      },
    );
  }
  if (comparison.regressions.length > 0) {
    console.error(
      `\nbench-regression: ${comparison.regressions.length} figure(s) regressed beyond their threshold (${describeThreshold(threshold)}):`,
    );
    for (const r of comparison.regressions) {
      console.error(
        `  ${r.id}: ${fmt(r.baseline)} → ${fmt(r.current)} (${pct(r.change)}; limit ${Math.round(r.threshold * 100)} %)`,
      );
    }
    return 1;
  }
  console.log(`\nbench-regression: no regression beyond the thresholds (${describeThreshold(threshold)})`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
