// The ratio comparison behind `pnpm bench:regression` (see scripts/bench-regression.mjs):
// thresholds, the comparable figures of a results file, baseline vs current, and the terminal table.

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

export const fmt = (v) => (v === undefined ? '–' : `${v.toFixed(3)}×`);
export const pct = (v) =>
  v === undefined
    ? ''
    : Math.abs(v) < 0.0005
      ? '±0.0 %'
      : `${v > 0 ? '+' : '−'}${(Math.abs(v) * 100).toFixed(1)} % ${v > 0 ? 'worse' : 'better'}`;

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
