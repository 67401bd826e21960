// scripts/bench-regression.mjs: the ratio comparison, its exit codes and the dashboard renderers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compare,
  DEFAULT_THRESHOLDS,
  extractMetrics,
  renderMarkdown,
  renderSvg,
} from '../../../scripts/bench-regression.mjs';

const root = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
const script = join(root, 'scripts/bench-regression.mjs');

function results({ wall = 1.05, rss = 1.1, policyWall = 3, ratio = 2, extraSuite = false } = {}) {
  return {
    date: '2026-01-01T00:00:00.000Z',
    node: 'v20.0.0',
    platform: 'linux-x64',
    wholeProcess: {
      runs: 20,
      method: 'median',
      subjects: {
        'node -e 0': { medianWallMs: 40, peakRssMiB: 40 },
        'codex --version': { medianWallMs: 42, peakRssMiB: 44 },
      },
      ratios: {
        'codex --version': { wall, rss },
        'codex policy check -- ls -la': { wall: policyWall, rss: 2 },
      },
      targets: [
        { name: 'codex --version wall time ≤ 1.15× node -e 0', value: wall, limit: 1.15, pass: wall <= 1.15 },
      ],
    },
    packages: {
      lib: {
        suite: '@codex/lib',
        results: {
          'fast path': { opsPerSec: 2000, meanMs: 0.5, p99Ms: 0.9, rmePercent: 1 },
          'plain JS (baseline)': { opsPerSec: 1000, meanMs: 1, p99Ms: 2, rmePercent: 1 },
        },
        targets: [
          { task: 'fast path', baseline: 'plain JS (baseline)', ratio, minRatio: 1, pass: ratio >= 1 },
        ],
      },
      ...(extraSuite
        ? {
            more: {
              suite: '@codex/more',
              results: {},
              targets: [{ task: 'x', baseline: 'y', ratio: 1, pass: true }],
            },
          }
        : {}),
    },
  };
}

describe('compare', () => {
  it('extracts only ratios: whole-process wall and RSS, and package targets with a baseline task', () => {
    const m = extractMetrics(results());
    expect([...m.keys()]).toEqual([
      'process: codex --version wall time / node -e 0',
      'process: codex --version peak RSS / node -e 0',
      'process: codex policy check -- ls -la wall time / node -e 0',
      'process: codex policy check -- ls -la peak RSS / node -e 0',
      '@codex/lib: fast path / plain JS (baseline)',
    ]);
    expect(m.get('@codex/lib: fast path / plain JS (baseline)')).toMatchObject({
      value: 2,
      better: 'higher',
    });
  });

  it('lower-is-better ratios regress beyond the threshold of their kind only (wall 40 %, RSS 15 %)', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({ wall: 0.4, rss: 0.15, ops: 0.25 });
    const within = compare(results({ wall: 1.0, rss: 1.0 }), results({ wall: 1.35, rss: 1.1 }));
    expect(within.regressions).toEqual([]);
    const beyond = compare(results({ wall: 1.0, rss: 1.0 }), results({ wall: 1.45, rss: 1.2 }));
    expect(beyond.regressions.map((r) => r.id)).toEqual([
      'process: codex --version wall time / node -e 0',
      'process: codex --version peak RSS / node -e 0',
    ]);
    expect(beyond.regressions[0].change).toBeCloseTo(0.45);
    expect(beyond.regressions.map((r) => r.threshold)).toEqual([0.4, 0.15]);
  });

  it('higher-is-better ratios regress when they shrink', () => {
    const c = compare(results({ ratio: 2 }), results({ ratio: 1.5 }));
    expect(c.regressions.map((r) => r.id)).toEqual(['@codex/lib: fast path / plain JS (baseline)']);
    const up = compare(results({ ratio: 2 }), results({ ratio: 3 }));
    expect(up.regressions).toEqual([]);
    expect(up.rows.find((r) => r.id.startsWith('@codex/lib')).status).toBe('improved');
  });

  it('new figures never fail; vanished figures are reported as missing', () => {
    const c = compare(results(), results({ extraSuite: true }));
    expect(c.regressions).toEqual([]);
    expect(c.rows.find((r) => r.id.startsWith('@codex/more')).status).toBe('new');
    const gone = compare(results({ extraSuite: true }), results());
    expect(gone.rows.find((r) => r.id.startsWith('@codex/more')).status).toBe('missing');
  });

  it('a custom threshold applies', () => {
    expect(compare(results({ wall: 1.0 }), results({ wall: 1.12 }), 0.1).regressions).toHaveLength(1);
  });
});

describe('dashboard', () => {
  it('the SVG is one A bar and one B bar per figure, regressions in red', () => {
    const c = compare(results({ wall: 1.0 }), results({ wall: 2.0 }));
    const svg = renderSvg(c);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/fill="#b0b0b0"/g)).toHaveLength(c.rows.length);
    expect(svg.match(/fill="#d73a49"/g)).toHaveLength(1);
    expect(svg).toContain('1.000× → 2.000×');
  });

  it('the markdown has the A/B table, the whole-process table and each suite', () => {
    const r = results();
    const md = renderMarkdown(r, compare(r, r));
    expect(md).toContain('![A/B benchmark ratios](benchmarks.svg)');
    expect(md).toContain('| `codex --version` | 42 | 1.050× | 44 | 1.100× |');
    expect(md).toContain('### @codex/lib');
    expect(md).toContain('| fast path | 2.000× plain JS (baseline) | ≥ 1× | PASS |');
    expect(md).toMatch(/whole-process wall time 40 %, peak RSS 15 %, tinybench ratios 25 %/);
  });
});

describe('bench-regression CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codex-bench-reg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name, data) => {
    writeFileSync(join(dir, name), JSON.stringify(data));
    return join(dir, name);
  };
  const run = (...args) =>
    spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });

  it('exit 0 when nothing regressed', () => {
    const r = run('--results', write('a.json', results()), '--baseline', write('b.json', results()));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /no regression beyond the thresholds \(whole-process wall time 40 %, peak RSS 15 %, tinybench ratios 25 %\)/,
    );
  });

  it('exit 1 with a readable diff naming the figure, both values and the change', () => {
    const r = run(
      '--results',
      write('slow.json', results({ wall: 1.5 })),
      '--baseline',
      write('base.json', results()),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/1 figure\(s\) regressed beyond their threshold/);
    expect(r.stderr).toMatch(
      /process: codex --version wall time \/ node -e 0: 1\.050× → 1\.500× \(\+42\.9 % worse; limit 40 %\)/,
    );
    const loose = run(
      '--results',
      join(dir, 'slow.json'),
      '--baseline',
      join(dir, 'base.json'),
      '--threshold',
      '0.5',
    );
    expect(loose.status).toBe(0);
  });

  it('exit 2 on a missing file or a bad threshold', () => {
    expect(run('--results', join(dir, 'nope.json'), '--baseline', write('c.json', results())).status).toBe(2);
    expect(run('--threshold', 'abc').status).toBe(2);
  });
});

describe('issue 14 whole-process scenarios', () => {
  const withScenarios = (ratio, runCommandMs) => {
    const r = results();
    r.wholeProcess.scenarios = {
      supervise: { runs: 5, medianOneTaskMs: 600, medianEightTasksMs: 600 * ratio, ratio },
      mcp: {
        runs: 10,
        rung: 'full',
        medianRunCommandMs: runCommandMs,
        medianBareSpawnMs: 2,
        addedOverBareSpawnMs: runCommandMs - 2,
      },
      targets: [],
    };
    r.wholeProcess.targets = [
      {
        name: "codex exec -- bash -lc 'ls | wc -l' wall time ≤ 3.0× node -e 0",
        value: 2.5,
        limit: 3,
        pass: true,
      },
    ];
    return r;
  };

  it('tracks the supervise 8-vs-1 ratio and the mcp run_command ratio, and flags a regression in either', () => {
    const m = extractMetrics(withScenarios(1.05, 40));
    expect(m.get('process: codex supervise 8×sleep 0.5 wall / one task')?.value).toBe(1.05);
    expect(m.get('process: mcp serve run_command / bare spawn')?.value).toBe(20);
    const worse = compare(withScenarios(1.05, 40), withScenarios(2, 40));
    expect(worse.regressions.map((r) => r.id)).toEqual([
      'process: codex supervise 8×sleep 0.5 wall / one task',
    ]);
  });

  it('the dashboard describes the scenarios and escapes "|" in target names', () => {
    const r = withScenarios(1.05, 40);
    const md = renderMarkdown(r, compare(r, r));
    expect(md).toContain('8 parallel sandboxed `sleep 0.5` tasks: median 630 ms against 600 ms');
    expect(md).toContain('38 ms added');
    expect(md).toContain(
      "| codex exec -- bash -lc 'ls \\| wc -l' wall time ≤ 3.0× node -e 0 | 2.5 | 3 | PASS |",
    );
  });
});
