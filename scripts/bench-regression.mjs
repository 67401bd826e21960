#!/usr/bin/env node
// `pnpm bench:regression`: compares bench/results.json (from `pnpm bench`) with the committed
// bench/baseline.json, as ratios only, and fails with a readable table when any ratio got worse
// by more than the threshold. Also the shared code that renders docs/benchmarks.md and its SVG.
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

/**
 * Per kind of figure, from the spread measured between two runs on the same shared 2-core
 * machine (see docs/benchmarks.md): cold-start wall ratios moved up to 23 %, RSS ratios 3 %.
 */
export const DEFAULT_THRESHOLDS = Object.freeze({ wall: 0.4, rss: 0.15, ops: 0.25 });
const KIND_NAMES = { wall: 'whole-process wall time', rss: 'peak RSS', ops: 'tinybench ratios' };

/** `0.25` (every figure) or `{ wall, rss, ops }` → the threshold for one kind. */
export function thresholdFor(threshold, kind) {
  return typeof threshold === 'number' ? threshold : (threshold[kind] ?? DEFAULT_THRESHOLDS[kind]);
}

/** "wall time 40 %, RSS 15 %, tinybench 25 %" or "25 %". */
export function describeThreshold(threshold) {
  if (typeof threshold === 'number') return `${Math.round(threshold * 100)} %`;
  return Object.keys(KIND_NAMES)
    .map((k) => `${KIND_NAMES[k]} ${Math.round(thresholdFor(threshold, k) * 100)} %`)
    .join(', ');
}

/**
 * The comparable figures of one results file: id → { value, better, group, label }.
 * @param {any} results bench/results.json
 */
export function extractMetrics(results) {
  const metrics = new Map();
  const wp = results.wholeProcess;
  for (const [subject, r] of Object.entries(wp?.ratios ?? {})) {
    metrics.set(`process: ${subject} wall time / node -e 0`, {
      value: r.wall,
      better: 'lower',
      kind: 'wall',
      group: 'whole process',
      label: `${subject}: wall`,
    });
    metrics.set(`process: ${subject} peak RSS / node -e 0`, {
      value: r.rss,
      better: 'lower',
      kind: 'rss',
      group: 'whole process',
      label: `${subject}: RSS`,
    });
  }
  const sv = wp?.scenarios?.supervise;
  if (typeof sv?.ratio === 'number') {
    metrics.set('process: codex supervise 8×sleep 0.5 wall / one task', {
      value: sv.ratio,
      better: 'lower',
      kind: 'wall',
      group: 'whole process',
      label: 'supervise 8 parallel / 1 task: wall',
    });
  }
  const mcp = wp?.scenarios?.mcp;
  if (typeof mcp?.medianRunCommandMs === 'number' && mcp.medianBareSpawnMs > 0) {
    metrics.set('process: mcp serve run_command / bare spawn', {
      value: +(mcp.medianRunCommandMs / mcp.medianBareSpawnMs).toFixed(4),
      better: 'lower',
      kind: 'wall',
      group: 'whole process',
      label: 'mcp run_command / bare spawn: wall',
    });
  }
  for (const [pkg, suite] of Object.entries(results.packages ?? {})) {
    for (const t of suite.targets ?? []) {
      if (typeof t.ratio !== 'number' || !t.baseline) continue;
      metrics.set(`${suite.suite ?? pkg}: ${t.task} / ${t.baseline}`, {
        value: t.ratio,
        better: 'higher',
        kind: 'ops',
        group: suite.suite ?? pkg,
        label: t.task,
      });
    }
  }
  return metrics;
}

/**
 * @param {any} baseline
 * @param {any} current
 * @param {number} [threshold]
 */
export function compare(baseline, current, threshold = DEFAULT_THRESHOLDS) {
  const base = extractMetrics(baseline);
  const cur = extractMetrics(current);
  const rows = [];
  for (const [id, c] of cur) {
    const b = base.get(id);
    if (!b) {
      rows.push({ id, ...c, baseline: undefined, current: c.value, change: undefined, status: 'new' });
      continue;
    }
    // change > 0 means worse, whatever the direction
    const change = c.better === 'lower' ? c.value / b.value - 1 : b.value / c.value - 1;
    const t = thresholdFor(threshold, c.kind);
    const status = change > t ? 'regressed' : change < -t ? 'improved' : 'ok';
    rows.push({ id, ...c, baseline: b.value, current: c.value, change, threshold: t, status });
  }
  for (const [id, b] of base) {
    if (!cur.has(id))
      rows.push({ id, ...b, baseline: b.value, current: undefined, change: undefined, status: 'missing' });
  }
  return { threshold, rows, regressions: rows.filter((r) => r.status === 'regressed') };
}

const fmt = (v) => (v === undefined ? '–' : `${v.toFixed(3)}×`);
const pct = (v) =>
  v === undefined
    ? ''
    : Math.abs(v) < 0.0005
      ? '±0.0 %'
      : `${v > 0 ? '+' : '−'}${(Math.abs(v) * 100).toFixed(1)} % ${v > 0 ? 'worse' : 'better'}`;
const MARK = { ok: 'ok', improved: 'improved', regressed: '**REGRESSED**', new: 'new', missing: 'missing' };

/** Markdown table of a comparison. */
export function comparisonTable(comparison) {
  const lines = [
    '| Figure | Better | Baseline | Current | Change | Status |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of comparison.rows) {
    lines.push(
      `| ${r.id.replace(/\|/g, '\\|')} | ${r.better} | ${fmt(r.baseline)} | ${fmt(r.current)} | ${pct(r.change)} | ${MARK[r.status]} |`,
    );
  }
  return lines.join('\n');
}

/** Plain-text version for the terminal. */
export function comparisonText(comparison) {
  const rows = comparison.rows.map((r) => [
    r.status === 'regressed' ? '✗' : r.status === 'improved' ? '↑' : r.status === 'ok' ? '✓' : '·',
    r.id,
    fmt(r.baseline),
    '→',
    fmt(r.current),
    pct(r.change),
    r.status,
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => String(row[i]).length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((c, i) => String(c).padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A/B bar chart: for every comparable figure, the baseline (A) and current (B) ratio on a
 * shared axis, with the 1× line (parity with the in-run baseline) marked.
 */
export function renderSvg(comparison) {
  const rows = comparison.rows.filter((r) => r.current !== undefined || r.baseline !== undefined);
  const labelW = 430;
  const barW = 360;
  const rowH = 34;
  const top = 40;
  const height = top + rows.length * rowH + 30;
  const width = labelW + barW + 120;
  // log scale: ratios span 0.001× to 20×+, and 1× (parity) sits where it can be seen
  const values = rows.flatMap((r) => [r.baseline, r.current]).filter((v) => typeof v === 'number' && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.5, ...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(2, ...values)));
  const x = (v) =>
    labelW + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * barW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img">`,
    `<title>Benchmark ratios, baseline against current run</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">Benchmark ratios: baseline (A, grey) vs current (B, colour)</text>`,
    `<text x="10" y="33" fill="#555">log scale; lower-is-better figures in blue, higher-is-better in green; red = regressed beyond its threshold</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const label = r.id.length > 70 ? `${r.id.slice(0, 67)}…` : r.id;
    out.push(`<text x="10" y="${y + 17}">${esc(label)}</text>`);
    if (r.baseline !== undefined) {
      out.push(
        `<rect x="${labelW}" y="${y + 4}" width="${(x(r.baseline) - labelW).toFixed(1)}" height="11" fill="#b0b0b0"/>`,
      );
    }
    if (r.current !== undefined) {
      const colour = r.status === 'regressed' ? '#d73a49' : r.better === 'lower' ? '#2f6fdd' : '#2da44e';
      out.push(
        `<rect x="${labelW}" y="${y + 16}" width="${(x(r.current) - labelW).toFixed(1)}" height="11" fill="${colour}"/>`,
      );
    }
    const text = `${fmt(r.baseline)} → ${fmt(r.current)}`;
    out.push(`<text x="${labelW + barW + 8}" y="${y + 20}" fill="#333">${esc(text)}</text>`);
  });
  const bottom = top + rows.length * rowH;
  for (let t = lo; t <= hi * 1.001; t *= 10) {
    const tx = x(t).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${top - 2}" x2="${tx}" y2="${bottom}" stroke="${t === 1 ? '#000' : '#ddd'}"${t === 1 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${tx}" y="${bottom + 14}" text-anchor="middle">${t >= 1 ? t : t.toPrecision(1)}×</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** docs/benchmarks.md: the whole dashboard. */
export function renderMarkdown(
  results,
  comparison,
  { svgPath = 'benchmarks.svg', baselineDate, baselineMissing = false } = {},
) {
  const wp = results.wholeProcess;
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`pnpm bench\` on ${results.date} (Node ${results.node}, ${results.platform}). Do not edit by`,
    'hand: run `pnpm bench` and commit the result. Every figure is a ratio against a baseline measured',
    'in the same run, so it means the same on a laptop and on a CI runner.',
    '',
    '## A/B: baseline vs this run',
    '',
    baselineMissing
      ? 'There is no `bench/baseline.json` yet, so A is this run itself. `pnpm bench:regression`'
      : `A is the committed \`bench/baseline.json\`${baselineDate ? ` (${baselineDate})` : ''}, B is this run. \`pnpm bench:regression\``,
    `fails when a ratio is worse than A by more than its threshold (${describeThreshold(comparison.threshold)}; see "Regression check" below).`,
    '',
    `![A/B benchmark ratios](${svgPath})`,
    '',
    comparisonTable(comparison),
    '',
    '## Whole process',
    '',
    `${wp.runs} interleaved runs each; ${wp.method}.`,
    '',
    '| Command | Median wall (ms) | Wall / `node -e 0` | Peak RSS (MiB) | RSS / `node -e 0` |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [name, s] of Object.entries(wp.subjects)) {
    const r = wp.ratios?.[name];
    lines.push(
      `| \`${name.replace(/\|/g, '\\|')}\` | ${s.medianWallMs} | ${r ? `${r.wall.toFixed(3)}×` : '1×'} | ${s.peakRssMiB} | ${r ? `${r.rss.toFixed(3)}×` : '1×'} |`,
    );
  }
  for (const note of wp.notes ?? []) lines.push('', `Note: ${note}`);
  const sc = wp.scenarios;
  if (sc?.supervise) {
    const s = sc.supervise;
    lines.push(
      '',
      `\`codex supervise\` with 8 parallel sandboxed \`sleep 0.5\` tasks: median ${s.medianEightTasksMs} ms against ${s.medianOneTaskMs} ms for the same plan with one task (${s.runs} interleaved runs each): ${s.ratio.toFixed(3)}×.`,
    );
  }
  if (sc?.mcp) {
    const m = sc.mcp;
    lines.push(
      '',
      `\`run_command\` through \`codex mcp serve\` (rung ${m.rung}): median ${m.medianRunCommandMs} ms against ${m.medianBareSpawnMs} ms for a bare spawn of the same command (${m.runs} interleaved calls): ${m.addedOverBareSpawnMs} ms added.`,
    );
  }
  lines.push('', '### Targets', '', '| Target | Value | Limit | Result |', '| --- | --- | --- | --- |');
  for (const t of wp.targets)
    lines.push(`| ${t.name.replace(/\|/g, '\\|')} | ${t.value} | ${t.limit} | ${t.pass ? 'PASS' : 'MISS'} |`);
  lines.push('', '## Packages (tinybench)');
  if (results.processOnly) {
    lines.push(
      '',
      'This run was `pnpm bench --process-only`: the package figures below were not re-measured; they are',
      "each package's latest `bench/results.json`.",
    );
  }
  for (const [pkg, suite] of Object.entries(results.packages ?? {}).sort()) {
    lines.push(
      '',
      `### ${suite.suite ?? pkg}`,
      '',
      '| Task | ops/s | mean (µs) | p99 (µs) | rme % |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [task, r] of Object.entries(suite.results ?? {})) {
      lines.push(
        `| ${task.replace(/\|/g, '\\|')} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${(r.meanMs * 1000).toFixed(2)} | ${r.p99Ms === undefined ? '–' : (r.p99Ms * 1000).toFixed(2)} | ${r.rmePercent?.toFixed(2) ?? '–'} |`,
      );
    }
    const targets = suite.targets ?? [];
    if (targets.length > 0) {
      lines.push('', '| Target | Ratio | Required | Result |', '| --- | --- | --- | --- |');
      for (const t of targets) {
        const ratio =
          typeof t.ratio === 'number'
            ? `${t.ratio.toFixed(3)}× ${t.baseline}`
            : `${Math.round(t.opsPerSec)} ops/s`;
        const need = [
          t.minRatio === undefined ? '' : `≥ ${t.minRatio}×`,
          t.minOpsPerSec === undefined ? '' : `≥ ${t.minOpsPerSec} ops/s`,
        ]
          .filter(Boolean)
          .join(', ');
        lines.push(
          `| ${t.task.replace(/\|/g, '\\|')} | ${ratio} | ${need || '–'} | ${t.pass ? 'PASS' : 'MISS'} |`,
        );
      }
    }
  }
  lines.push(
    '',
    '## Regression check',
    '',
    '`pnpm bench:regression` compares `bench/results.json` with `bench/baseline.json`, figure by figure,',
    'as ratios only: the whole-process wall-time and peak-RSS ratios against `node -e 0`, and every',
    'package target that is a ratio against a task of the same suite. A lower-is-better ratio regresses',
    'when it grows by more than its threshold; a higher-is-better one when it shrinks by more than that',
    '(current < baseline ÷ (1 + threshold)). Thresholds:',
    '',
    '| Figure kind | Threshold | Why |',
    '| --- | --- | --- |',
    '| whole-process wall time / `node -e 0` | 40 % | two back-to-back runs on the shared 2-core dev machine moved these by +11.6 % (`codex --version`) and +23.2 % (`codex policy check`) |',
    '| peak RSS / `node -e 0` | 15 % | the same two runs moved these by 0.1 % and 2.9 % |',
    '| tinybench ratio targets | 25 % | both sides run in one process seconds apart; an eager import, a sync scan or an O(n²) slip costs far more than 25 % |',
    '',
    'New figures are listed but never fail; a figure that disappeared is listed as missing. One',
    'threshold for everything: `--threshold 0.1` or `BENCH_REGRESSION_THRESHOLD=0.1`. Refresh the',
    'baseline deliberately with `pnpm bench && node scripts/bench-regression.mjs --update-baseline`',
    'and commit it with the regenerated docs/benchmarks.md.',
    '',
  );
  return lines.join('\n');
}

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
