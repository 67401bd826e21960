import { describe, expect, it } from 'vitest';
import { type MergeCandidate, MergeError, merge, outputText, runProcess, Supervisor } from '../src/index.js';
import { normalizeText } from '../src/merge.js';

const ok = (taskId: string, output: unknown, finishedAt = 0, score?: number): MergeCandidate => ({
  taskId,
  status: 'succeeded',
  output,
  finishedAt,
  ...(score === undefined ? {} : { score }),
});
const bad = (taskId: string): MergeCandidate => ({ taskId, status: 'failed', finishedAt: 0 });

describe('merge strategies', () => {
  it('concatenate joins successful outputs in order and lists the excluded', () => {
    const r = merge('concatenate', [ok('a', 'one'), bad('b'), ok('c', { z: 1, a: 2 })], { separator: '|' });
    expect(r).toEqual({
      strategy: 'concatenate',
      output: 'one|{"a":2,"z":1}',
      sources: ['a', 'c'],
      excluded: ['b'],
    });
  });

  it('voting: a real majority over normalised outputs', () => {
    const r = merge('voting', [ok('a', 'Yes '), ok('b', 'yes'), ok('c', ' YES\n'), ok('d', 'no'), bad('e')]);
    expect(r).toMatchObject({
      strategy: 'voting',
      outcome: 'majority',
      winner: 'yes',
      output: 'Yes ',
      voters: 4,
      excluded: ['e'],
    });
    if (r.strategy !== 'voting') throw new Error();
    expect(r.votes).toEqual([
      { value: 'yes', count: 3, tasks: ['a', 'b', 'c'] },
      { value: 'no', count: 1, tasks: ['d'] },
    ]);
  });

  it('voting: ties are reported, with no winner', () => {
    const r = merge('voting', [ok('a', 'x'), ok('b', 'y'), ok('c', 'Y'), ok('d', 'X')]);
    expect(r).toMatchObject({ outcome: 'tie', tied: ['x', 'y'] });
    expect(r).not.toHaveProperty('winner');
  });

  it('voting: a plurality that is not a majority is not a win', () => {
    const r = merge('voting', [ok('a', 'x'), ok('b', 'x'), ok('c', 'y'), ok('d', 'z'), ok('e', 'w')]);
    expect(r).toMatchObject({ outcome: 'no-majority', tied: [] });
    expect(r).not.toHaveProperty('winner');
    expect(merge('voting', [ok('a', 'x'), ok('b', 'x'), ok('c', 'y')])).toMatchObject({
      outcome: 'majority',
      winner: 'x',
    });
  });

  it('voting: objects compare by content regardless of key order', () => {
    const r = merge('voting', [
      ok('a', { pass: true, n: 1 }),
      ok('b', { n: 1, pass: true }),
      ok('c', { n: 2, pass: true }),
    ]);
    expect(r).toMatchObject({ outcome: 'majority', output: { pass: true, n: 1 } });
  });

  it('voting with nothing to count fails with MERGE_FAILED', () => {
    expect(() => merge('voting', [bad('a')])).toThrow(MergeError);
    expect(() => merge('voting', [])).toThrow(expect.objectContaining({ code: 'MERGE_FAILED' }));
  });

  it('first-success picks the earliest finisher among successes', () => {
    const r = merge('first-success', [ok('a', 'slow', 30), bad('b'), ok('c', 'fast', 10)]);
    expect(r).toEqual({ strategy: 'first-success', output: 'fast', source: 'c', excluded: ['b'] });
    expect(() => merge('first-success', [bad('a')])).toThrow(/no task succeeded/);
  });

  it('highest-score picks the top score and reports ties and unscored tasks', () => {
    const r = merge('highest-score', [
      ok('a', 'A', 0, 0.5),
      ok('b', 'B', 0, 0.9),
      ok('c', 'C', 0, 0.9),
      ok('d', 'D'),
      bad('e'),
    ]);
    expect(r).toEqual({
      strategy: 'highest-score',
      output: 'B',
      source: 'b',
      score: 0.9,
      tied: ['c'],
      excluded: ['e', 'd'],
    });
    const custom = merge('highest-score', [ok('a', 'short'), ok('b', 'longer')], {
      score: (c) => String(c.output).length,
    });
    expect(custom).toMatchObject({ source: 'b', score: 6 });
    expect(() => merge('highest-score', [ok('a', 'x')])).toThrow(/no successful task reported a score/);
  });

  it('normalisation folds width, case and whitespace', () => {
    expect(normalizeText('  Ｈｅｌｌｏ\t\n World ')).toBe('hello world');
    expect(outputText(undefined)).toBe('');
  });

  it('in a plan: real processes vote, and a tie is reported in the run report', async () => {
    const sup = new Supervisor({ maxConcurrent: 4 });
    sup.register<string, string>('echo', async (text, ctx) => {
      const r = await runProcess(process.execPath, ['-e', 'process.stdout.write(process.argv[1])', text], {
        signal: ctx.signal,
      });
      return r.stdout;
    });
    const plan = (inputs: string[]) => ({
      tasks: inputs.map((input, i) => ({ id: `v${i}`, agent: 'echo', input })),
      merge: { strategy: 'voting' as const },
    });
    const majority = await sup.run(plan(['4', ' 4', '5', '4\n']));
    expect(majority.merged).toMatchObject({ outcome: 'majority', winner: '4', voters: 4 });
    const tie = await sup.run(plan(['left', 'right', 'LEFT', 'Right']));
    expect(tie.merged).toMatchObject({ outcome: 'tie', tied: ['left', 'right'] });
    expect(tie.status).toBe('succeeded');
  });

  it('in a plan: highest-score uses the score handlers set; a merge error is reported, not thrown', async () => {
    const sup = new Supervisor();
    sup.register<string, string>('scored', async (text, ctx) => {
      ctx.score(text.length);
      return text;
    });
    sup.register('unscored', async () => 'x');
    const r = await sup.run({
      tasks: [
        { id: 'a', agent: 'scored', input: 'ab' },
        { id: 'b', agent: 'scored', input: 'abcd' },
      ],
      merge: { strategy: 'highest-score' },
    });
    expect(r.merged).toMatchObject({ source: 'b', score: 4, output: 'abcd' });
    const none = await sup.run({
      tasks: [{ id: 'u', agent: 'unscored' }],
      merge: { strategy: 'highest-score' },
    });
    expect(none.status).toBe('succeeded');
    expect(none.mergeError).toMatchObject({ code: 'MERGE_FAILED' });
  });
});

describe('merge options on the supervisor', () => {
  it('toText decides what concatenation and voting see', async () => {
    const sup = new Supervisor({ merge: { toText: (o) => String((o as { stdout: string }).stdout) } });
    sup.register<string, { stdout: string; exitCode: number }>('proc', async (text, ctx) => {
      const r = await runProcess('echo', [text], { signal: ctx.signal });
      return { stdout: r.stdout, exitCode: r.exitCode ?? -1 };
    });
    const r = await sup.run({
      tasks: ['a', 'b'].map((x) => ({ id: x, agent: 'proc', input: x })),
      merge: { strategy: 'concatenate', separator: '' },
    });
    expect(r.merged).toMatchObject({ output: 'a\nb\n' });
  });
});

describe('first-success with cancelRest: a race', () => {
  it('the first success wins, the others are cancelled and their processes killed', async () => {
    const { alive, deferred, until } = await import('./helpers.js');
    const pids: number[] = [];
    const brokenDone = deferred();
    const sup = new Supervisor({
      maxConcurrent: 4,
      onEvent: (e) => {
        if (e.type === 'task' && e.result.taskId === 'broken') brokenDone.resolve();
      },
    });
    sup.register<string, string>('try', async (script, ctx) => {
      // `fast` starts its process only once `broken` has failed, so the order is deterministic
      if (ctx.taskId === 'fast') await brokenDone.promise;
      const r = await runProcess(process.execPath, ['-e', script], {
        signal: ctx.signal,
        onSpawn: (pid) => pids.push(pid),
      });
      if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}`);
      return r.stdout.trim();
    });
    const report = await sup.run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'slow', agent: 'try', input: 'setTimeout(() => console.log("slow"), 30000)' },
        { id: 'broken', agent: 'try', input: 'process.exit(4)' },
        { id: 'fast', agent: 'try', input: 'setTimeout(() => console.log("fast"), 300)' },
        { id: 'later', agent: 'try', input: 'console.log("later")', dependsOn: ['slow'] },
      ],
      merge: { strategy: 'first-success', tasks: ['slow', 'broken', 'fast'], cancelRest: true },
    });
    const s = Object.fromEntries(report.tasks.map((t) => [t.taskId, t.status]));
    expect(s).toEqual({ slow: 'cancelled', broken: 'failed', fast: 'succeeded', later: 'skipped' });
    expect(report.status).toBe('succeeded');
    expect(report.cancelReason).toBe('first-success: task "fast" won');
    expect(report.merged).toMatchObject({ strategy: 'first-success', source: 'fast', output: 'fast' });
    await until(() => pids.every((pid) => !alive(pid)), 5_000, 'racers to exit');
  });

  it('cancelRest is refused for other strategies', () => {
    const sup = new Supervisor().register('x', async () => 1);
    expect(() =>
      sup.validate({ tasks: [{ id: 'a', agent: 'x' }], merge: { strategy: 'voting', cancelRest: true } }),
    ).toThrow(/merge\.cancelRest: only applies to the first-success strategy/);
  });
});
