import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { levels, type MergeResult, type SupervisorEvent } from '@codex/supervisor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentRunError,
  createPlanRun,
  describeDryRun,
  describeMerge,
  describeRunReport,
  type PlanEngine,
  planHeader,
  planProgress,
} from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-plan-text-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const PLAN = JSON.stringify({
  name: 'two',
  tasks: [
    { id: 'a', agent: 'command', input: { argv: ['echo', 'hi'] } },
    { id: 'b', agent: 'command', input: { argv: ['false'] }, dependsOn: ['a'] },
  ],
  merge: { strategy: 'concatenate' },
});

/** Runs PLAN on an engine that answers `echo` and fails `false`, collecting the progress lines. */
async function runPlan() {
  const engine: PlanEngine = {
    name: 'fake',
    async execute(task) {
      const argv = (task.input as { argv: string[] }).argv;
      if (argv[0] === 'false') throw new AgentRunError('COMMAND_FAILED', 'false exited 1', 1, 'it broke\n');
      return {
        stdout: argv[0] === 'echo' ? `${argv[1]}\n` : '',
        stderr: '',
        exitCode: argv[0] === 'false' ? 1 : 0,
      };
    },
  };
  const progress = planProgress();
  const said: string[] = [];
  const onEvent = (e: SupervisorEvent) => {
    const p = progress(e);
    if (p) said.push(`${p.style} ${p.text}`);
  };
  const run = await createPlanRun({
    ...{ config: defaultConfig(), codexHome: home, cwd: home, env: {}, profile: 'offline' as const },
    ...{ explicitProfile: false, version: '0.0.0-test', engine, onEvent },
  });
  try {
    const plan = run.loadPlan(PLAN, 'p.json');
    const report = await run.supervisor.start(plan, { source: 'p.json' }).done;
    return { plan, report, said };
  } finally {
    await run.close();
  }
}

describe('plan text', () => {
  it('planHeader and describeDryRun: name, counts, cap (override, plan, else 4), levels, merge', async () => {
    const { plan } = await runPlan();
    expect(planHeader(plan, { profile: 'offline' })).toBe(
      'two: 2 tasks, parallel, fail-fast, max 4 concurrent, profile offline',
    );
    const dry = describeDryRun(plan, levels(plan.tasks), { maxConcurrent: 2, profile: 'offline' });
    expect(dry.json).toMatchObject({ valid: true, name: 'two', maxConcurrent: 2, levels: [['a'], ['b']] });
    expect(dry.lines).toEqual([
      'plan two is valid: 2 tasks, parallel, fail-fast, max 2 concurrent, profile offline',
      '  level 0: a (command)',
      '  level 1: b (command)',
      '  merge: concatenate',
    ]);
  });

  it('planProgress says when each task starts (once) and how it ended; describeRunReport rows and verdict', async () => {
    const { report, said } = await runPlan();
    expect(said.filter((s) => s.endsWith('a started'))).toHaveLength(1);
    expect(said).toContainEqual(expect.stringMatching(/^ok ✓ a succeeded in \d+\.\d\d s$/));
    expect(said).toContainEqual(expect.stringMatching(/^error ✗ b failed in /));
    const tags = (style: string, text: string) => `<${style}>${text}</${style}>`;
    const { tasks, after } = describeRunReport(report, tags);
    expect(tasks.map((r) => r.slice(0, 3))).toEqual([
      ['✓ a', 'command', 'succeeded'],
      ['✗ b', 'command', 'failed'],
    ]);
    expect(tasks[1]![4]).toBe('COMMAND_FAILED: false exited 1');
    expect(after.slice(0, 2)).toEqual(['<dim>--- b (stderr, last lines)</dim>', 'it broke']);
    expect(after.at(-1)).toMatch(
      /^<error>run failed<\/error> in \d+\.\d\d s \(peak 1 concurrent; mailbox drops 0\)/,
    );
  });

  it('describeMerge names the strategy and shows what it chose', () => {
    const m = (x: unknown) => describeMerge(x as MergeResult);
    expect(m({ strategy: 'concatenate', sources: [], excluded: ['b'], output: '' })).toEqual([
      '--- merged (concatenate: nothing succeeded)',
      '(left out: b)',
    ]);
    expect(
      m({
        strategy: 'voting',
        outcome: 'majority',
        voters: 3,
        votes: [{ value: 'x', count: 2 }],
        output: 'x\n',
        tied: [],
      }),
    ).toEqual(['--- merged (voting: majority, 3 voters) "x"×2', 'x']);
    expect(m({ strategy: 'first-success', source: 'a', output: { stdout: 'out\n' } })).toEqual([
      '--- merged (first-success: a)',
      'out',
    ]);
    expect(m({ strategy: 'highest-score', source: 'a', score: 3, tied: ['b'], output: { n: 1 } })).toEqual([
      '--- merged (highest-score: a, score 3, tied with b)',
      '{\n  "n": 1\n}',
    ]);
  });
});
