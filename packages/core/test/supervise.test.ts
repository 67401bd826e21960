import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { type Plan, PlanError } from '@codex/supervisor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_TYPES, createPlanRun, type PlanEngine } from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-supervise-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const options = () => ({
  config: defaultConfig(),
  codexHome: home,
  cwd: home,
  env: {},
  profile: 'offline' as const,
  explicitProfile: false,
  version: '0.0.0-test',
});

const PLAN = JSON.stringify({
  tasks: [
    { id: 'a', agent: 'command', input: { argv: ['echo', 'hi'] } },
    { id: 'b', agent: 'command', input: { argv: ['echo', 'there'] }, dependsOn: ['a'] },
  ],
  merge: { strategy: 'concatenate' },
});

describe('createPlanRun', () => {
  it('validates plans against the standard agents and runs them on the given engine', async () => {
    const calls: string[] = [];
    const checked: string[] = [];
    const engine: PlanEngine = {
      name: 'fake',
      async execute(task) {
        calls.push(`${task.type}:${(task.input as { argv: string[] }).argv.join(' ')}`);
        return { stdout: `${(task.input as { argv: string[] }).argv[1]}\n`, stderr: '', exitCode: 0 };
      },
      checkPlan: (plan: Plan, source?: string) => {
        checked.push(`${source}:${plan.tasks.length}`);
      },
      close: async () => {
        calls.push('closed');
      },
    };
    const events: string[] = [];
    const run = await createPlanRun({ ...options(), engine, onEvent: (e) => events.push(e.type) });
    expect(AGENT_TYPES.every((t) => run.supervisor.agentTypes.includes(t))).toBe(true);
    const plan = run.loadPlan(PLAN, 'p.json');
    expect(checked).toEqual(['p.json:2']);
    const report = await run.supervisor.start(plan, { source: 'p.json' }).done;
    expect(report.status).toBe('succeeded');
    expect(report.engine).toBe('fake');
    expect(report.merged).toMatchObject({ strategy: 'concatenate', output: 'hi\n\n\nthere\n' });
    expect(events).toContain('task');
    await run.close();
    expect(calls).toEqual(['command:echo hi', 'command:echo there', 'closed']);
  });

  it('throws a PlanError for an invalid plan or an unknown agent, before anything runs', async () => {
    const run = await createPlanRun(options());
    try {
      expect(() => run.loadPlan('tasks: [', 'bad.yaml')).toThrow(PlanError);
      expect(() =>
        run.loadPlan(JSON.stringify({ tasks: [{ id: 'a', agent: 'nope', input: {} }] }), 'p.json'),
      ).toThrow(/nope/);
    } finally {
      await run.close();
    }
  });
});
