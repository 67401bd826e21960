import { describe, expect, it } from 'vitest';
import { levels, PlanCycleError, PlanError, parsePlan, parsePlanText } from '../src/index.js';
import { findCycle, topologicalOrder } from '../src/plan.js';

const t = (id: string, dependsOn: string[] = []) => ({ id, agent: 'cmd', dependsOn });

describe('plan validation', () => {
  it('fills defaults', () => {
    const plan = parsePlan({ tasks: [{ id: 'a', agent: 'cmd' }] });
    expect(plan).toMatchObject({
      strategy: 'parallel',
      failure: 'fail-fast',
      tasks: [{ id: 'a', dependsOn: [] }],
    });
  });

  it('duplicate ids: INVALID_PLAN naming both positions', () => {
    const e = catchErr(() => parsePlan({ tasks: [t('a'), t('b'), t('a')] }, 'plan.json'));
    expect(e).toBeInstanceOf(PlanError);
    expect(e).toMatchObject({ code: 'INVALID_PLAN' });
    expect(e.message).toBe('plan.json: tasks.2.id: duplicate task id "a" (first at tasks.0)');
  });

  it('unknown and self dependencies', () => {
    const e = catchErr(() => parsePlan({ tasks: [t('a', ['zz']), t('b', ['b'])] }, 'p.yaml'));
    expect(e.message).toBe('p.yaml: tasks.0.dependsOn.0: unknown dependency "zz" (and 1 more problem)');
    expect((e as PlanError).issues[1]).toEqual({
      path: 'tasks.1.dependsOn.0',
      message: 'task "b" depends on itself',
    });
  });

  it('cycles: PLAN_CYCLE with the path of the cycle', () => {
    const e = catchErr(() =>
      parsePlan({ tasks: [t('a', ['c']), t('b', ['a']), t('c', ['b']), t('d')] }, 'plan.yaml'),
    );
    expect(e).toBeInstanceOf(PlanCycleError);
    expect(e).toMatchObject({ code: 'PLAN_CYCLE', cycle: ['a', 'c', 'b', 'a'] });
    expect(e.message).toMatch(/^plan\.yaml: tasks: dependency cycle a -> c -> b -> a/);
    expect(findCycle([t('x'), t('y', ['x'])])).toBeUndefined();
  });

  it('schema problems name the key', () => {
    expect(catchErr(() => parsePlan({ tasks: [] })).message).toBe(
      'plan: tasks: a plan needs at least one task',
    );
    expect(catchErr(() => parsePlan({ tasks: [{ id: 'a', agent: 'x', timeoutMs: -5 }] })).message).toMatch(
      /^plan: tasks\.0\.timeoutMs: /,
    );
    expect(catchErr(() => parsePlan({ tasks: [t('a')], strategy: 'random' })).message).toMatch(
      /^plan: strategy: /,
    );
    expect(catchErr(() => parsePlan({ tasks: [t('a')], colour: 'red' })).message).toMatch(/colour/);
    expect(catchErr(() => parsePlan({ tasks: [{ id: 'has space', agent: 'x' }] })).message).toMatch(
      /^plan: tasks\.0\.id: use letters/,
    );
    expect(
      catchErr(() => parsePlan({ tasks: [t('a')], merge: { strategy: 'voting', tasks: ['q'] } })).message,
    ).toBe('plan: merge.tasks.0: unknown task "q"');
    expect(catchErr(() => parsePlan('nope')).message).toMatch(/^plan: \(root\): /);
  });

  it('parses YAML and JSON text; syntax errors are one line', () => {
    const yaml = `
name: checks
strategy: hybrid
failure: skip-dependents
tasks:
  - id: lint
    agent: command
    input: { command: [pnpm, lint] }
  - id: report
    agent: command
    dependsOn: [lint]
merge:
  strategy: concatenate
`;
    const plan = parsePlanText(yaml, 'plan.yaml');
    expect(plan).toMatchObject({
      name: 'checks',
      strategy: 'hybrid',
      tasks: [{ id: 'lint' }, { id: 'report', dependsOn: ['lint'] }],
    });
    expect(parsePlanText('{"tasks":[{"id":"a","agent":"x"}]}', 'p.json').tasks).toHaveLength(1);
    const bad = catchErr(() => parsePlanText('{"tasks": [', 'p.json'));
    expect(bad).toMatchObject({ code: 'INVALID_PLAN' });
    expect(bad.message).toMatch(/^p\.json: \(root\): not valid JSON: /);
    expect(bad.message).not.toMatch(/\n/);
    expect(catchErr(() => parsePlanText('tasks: [a, b\n  c: d', 'p.yaml')).message).toMatch(
      /^p\.yaml: \(root\): not valid YAML: [^\n]+$/,
    );
  });

  it('levels and topological order respect dependencies, keeping declaration order', () => {
    const plan = parsePlan({ tasks: [t('d', ['b', 'c']), t('b', ['a']), t('c', ['a']), t('a'), t('e')] });
    expect(levels(plan.tasks).map((l) => l.map((x) => x.id))).toEqual([['a', 'e'], ['b', 'c'], ['d']]);
    expect(topologicalOrder(plan.tasks).map((x) => x.id)).toEqual(['a', 'e', 'b', 'c', 'd']);
  });
});

function catchErr(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('agent input schemas', () => {
  it('task inputs are validated against the agent schema before anything runs, with defaults applied', async () => {
    const { Supervisor, z } = await import('../src/index.js');
    const seen: unknown[] = [];
    const sup = new Supervisor().register(
      'cmd',
      async (input: { argv: string[]; retries: number }) => {
        seen.push(input);
        return input.argv.join(' ');
      },
      { input: z.strictObject({ argv: z.array(z.string()).min(1), retries: z.number().int().default(0) }) },
    );
    let error: unknown;
    try {
      sup.start(
        {
          tasks: [
            { id: 'ok', agent: 'cmd', input: { argv: ['ls'] } },
            { id: 'bad', agent: 'cmd', input: { argv: [] } },
          ],
        },
        { source: 'p.yaml' },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'INVALID_PLAN' });
    expect((error as Error).message).toMatch(/^p\.yaml: tasks\.1\.input\.argv: /);
    expect(seen).toEqual([]);
    const report = await sup.run({ tasks: [{ id: 'ok', agent: 'cmd', input: { argv: ['ls', '-l'] } }] });
    expect(report.tasks[0]?.output).toBe('ls -l');
    expect(seen).toEqual([{ argv: ['ls', '-l'], retries: 0 }]);
  });
});
