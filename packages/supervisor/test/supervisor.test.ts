import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentHandler,
  type ProcessResult,
  runProcess,
  Supervisor,
  type SupervisorEvent,
  type TaskContext,
} from '../src/index.js';
import { alive, deferred, until } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'supervisor-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const node = process.execPath;

/** A real agent: runs `node -e <script>` in its own process group, killed on abort. */
const nodeAgent: AgentHandler<{ script: string; args?: string[] }, ProcessResult> = (input, ctx) =>
  runProcess(node, ['-e', input.script, ...(input.args ?? [])], { signal: ctx.signal }).then((r) => {
    if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${r.stderr.trim()}`);
    return r;
  });

describe('concurrency cap', () => {
  it('measured concurrency never goes above the cap (real child processes)', async () => {
    let active = 0;
    let peak = 0;
    const sup = new Supervisor({ maxConcurrent: 3 });
    sup.register<number, number>('proc', async (n, ctx) => {
      active++;
      peak = Math.max(peak, active);
      try {
        const r = await runProcess(node, ['-e', `setTimeout(() => console.log(${n} * 2), 30)`], {
          signal: ctx.signal,
        });
        return Number(r.stdout);
      } finally {
        active--;
      }
    });
    const tasks = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, agent: 'proc', input: i }));
    const report = await sup.run({ tasks });
    expect(report.status).toBe('succeeded');
    expect(report.tasks.map((t) => t.output)).toEqual(tasks.map((_, i) => i * 2));
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBe(3); // and it really ran in parallel
    expect(report.peakConcurrency).toBe(3);
    expect(sup.semaphore.inUse).toBe(0);
  });

  it('sequential strategy runs one task at a time in dependency order', async () => {
    let active = 0;
    let peak = 0;
    const order: string[] = [];
    const sup = new Supervisor({ maxConcurrent: 8 });
    sup.register('io', async (_input, ctx: TaskContext) => {
      active++;
      peak = Math.max(peak, active);
      order.push(ctx.taskId);
      await appendFile(join(dir, 'log'), `${ctx.taskId}\n`);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return ctx.taskId;
    });
    const report = await sup.run({
      strategy: 'sequential',
      tasks: [
        { id: 'c', agent: 'io', dependsOn: ['b'] },
        { id: 'b', agent: 'io', dependsOn: ['a'] },
        { id: 'a', agent: 'io' },
        { id: 'x', agent: 'io' },
      ],
    });
    expect(peak).toBe(1);
    expect(order).toEqual(['a', 'x', 'b', 'c']);
    expect(await readFile(join(dir, 'log'), 'utf8')).toBe('a\nx\nb\nc\n');
    expect(report.peakConcurrency).toBe(1);
  });
});

describe('DAG order', () => {
  it('a task starts only after its dependencies finished, and sees their outputs', async () => {
    const sup = new Supervisor({ maxConcurrent: 4 });
    sup.register<string, string>('file', async (text, ctx) => {
      for (const [id, dep] of Object.entries(ctx.deps)) {
        // the dependency's file exists and holds what it returned
        expect(await readFile(join(dir, id), 'utf8')).toBe(dep.output);
      }
      const content = [text, ...Object.keys(ctx.deps).sort()].join('+');
      await writeFile(join(dir, ctx.taskId), content);
      return content;
    });
    const report = await sup.run({
      tasks: [
        { id: 'd', agent: 'file', input: 'D', dependsOn: ['b', 'c'] },
        { id: 'b', agent: 'file', input: 'B', dependsOn: ['a'] },
        { id: 'c', agent: 'file', input: 'C', dependsOn: ['a'] },
        { id: 'a', agent: 'file', input: 'A' },
      ],
    });
    expect(report.status).toBe('succeeded');
    const byId = Object.fromEntries(report.tasks.map((t) => [t.taskId, t]));
    expect(byId.d?.output).toBe('D+b+c');
    for (const [task, deps] of [
      ['b', ['a']],
      ['c', ['a']],
      ['d', ['b', 'c']],
    ] as const) {
      for (const dep of deps) expect(byId[task]!.startedAt!).toBeGreaterThanOrEqual(byId[dep]!.finishedAt);
      for (const dep of deps)
        expect(report.startOrder.indexOf(task)).toBeGreaterThan(report.startOrder.indexOf(dep));
    }
  });

  it('parallel starts a task as soon as its own dependencies are done; hybrid waits for the whole level', async () => {
    const run = async (strategy: 'parallel' | 'hybrid') => {
      const fastDone = deferred();
      const afterFastDone = deferred();
      const sup = new Supervisor({ maxConcurrent: 4 });
      sup.register<string, string>('gate', async (kind, ctx) => {
        if (kind === 'fast') fastDone.resolve();
        if (kind === 'after-fast') afterFastDone.resolve();
        if (kind === 'slow') {
          // parallel: only finishes once after-fast has run; hybrid: after fast, plus a real timer
          if (strategy === 'parallel') await ctx.wait(afterFastDone.promise);
          else {
            await fastDone.promise;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        return kind;
      });
      return sup.run({
        strategy,
        tasks: [
          { id: 'slow', agent: 'gate', input: 'slow', timeoutMs: 20_000 },
          { id: 'fast', agent: 'gate', input: 'fast' },
          { id: 'after-fast', agent: 'gate', input: 'after-fast', dependsOn: ['fast'] },
        ],
      });
    };
    const parallel = await run('parallel');
    expect(parallel.status).toBe('succeeded');
    const p = Object.fromEntries(parallel.tasks.map((t) => [t.taskId, t]));
    expect(p['after-fast']!.finishedAt).toBeLessThanOrEqual(p.slow!.finishedAt);

    const hybrid = await run('hybrid');
    expect(hybrid.status).toBe('succeeded');
    const h = Object.fromEntries(hybrid.tasks.map((t) => [t.taskId, t]));
    expect(h['after-fast']!.startedAt!).toBeGreaterThanOrEqual(h.slow!.finishedAt);
  });
});

describe('failure policies', () => {
  const plan = (failure: 'fail-fast' | 'skip-dependents', sleeperFile: string) => ({
    failure,
    tasks: [
      { id: 'bad', agent: 'node', input: { script: 'process.stderr.write("boom"); process.exit(3)' } },
      { id: 'child', agent: 'node', input: { script: '' }, dependsOn: ['bad'] },
      { id: 'grandchild', agent: 'node', input: { script: '' }, dependsOn: ['child'] },
      {
        id: 'independent',
        agent: 'node',
        // writes its pid, then lives until killed (fail-fast) or until the file says stop
        input: {
          script: `const fs=require('fs');fs.writeFileSync(${JSON.stringify(sleeperFile)}, String(process.pid));
            const t=setInterval(()=>{ if(fs.readFileSync(${JSON.stringify(sleeperFile)},'utf8')==='stop'){clearInterval(t)} },20)`,
        },
      },
      {
        id: 'after-independent',
        agent: 'node',
        input: { script: 'console.log("ok")' },
        dependsOn: ['independent'],
      },
    ],
  });

  it('skip-dependents: transitive dependents are skipped, independent work continues', async () => {
    const sup = new Supervisor({ maxConcurrent: 4 }).register('node', nodeAgent);
    const file = join(dir, 'sleeper');
    const handle = sup.start(plan('skip-dependents', file));
    await until(() => existsSync(file) && readFileSync(file, 'utf8').length > 0, 20_000, 'sleeper pid');
    await writeFile(file, 'stop');
    const report = await handle.done;
    const s = Object.fromEntries(report.tasks.map((t) => [t.taskId, t]));
    expect(report.status).toBe('failed');
    expect(s.bad).toMatchObject({ status: 'failed', error: { code: 'TASK_FAILED' } });
    expect(s.bad!.error!.message).toMatch(/exit 3: boom/);
    expect(s.child).toMatchObject({ status: 'skipped', error: { code: 'DEPENDENCY_FAILED' } });
    expect(s.grandchild).toMatchObject({ status: 'skipped', error: { code: 'DEPENDENCY_FAILED' } });
    expect(s.independent!.status).toBe('succeeded');
    expect(s['after-independent']).toMatchObject({ status: 'succeeded' });
    expect((s['after-independent']!.output as ProcessResult).stdout).toBe('ok\n');
  });

  it('fail-fast: the first failure cancels running tasks (killing their processes) and skips the rest', async () => {
    const sup = new Supervisor({ maxConcurrent: 4 }).register('node', nodeAgent);
    const file = join(dir, 'sleeper');
    const report = await sup.run(plan('fail-fast', file));
    const s = Object.fromEntries(report.tasks.map((t) => [t.taskId, t]));
    expect(report.status).toBe('failed');
    expect(report.cancelReason).toMatch(/fail-fast: task "bad" failed/);
    expect(s.bad!.status).toBe('failed');
    // `independent` was either cancelled while running or never started: never succeeded
    expect(['cancelled', 'skipped']).toContain(s.independent!.status);
    expect(s['after-independent']!.status).toBe('skipped');
    expect(s.child!.status).toBe('skipped');
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid > 0) expect(alive(pid)).toBe(false);
    }
  });
});

describe('timeouts and cancellation', () => {
  it('a task past its own timeout is aborted (TASK_TIMEOUT) and its process is gone; others are unaffected', async () => {
    const pids: number[] = [];
    const sup = new Supervisor({ maxConcurrent: 2 });
    sup.register<string, string>('sleep', async (seconds, ctx) => {
      const r = await runProcess('sleep', [seconds], {
        signal: ctx.signal,
        onSpawn: (pid) => pids.push(pid),
      });
      return `slept ${seconds} (exit ${r.exitCode})`;
    });
    const report = await sup.run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'long', agent: 'sleep', input: '30', timeoutMs: 300 },
        { id: 'short', agent: 'sleep', input: '0', timeoutMs: 20_000 },
      ],
    });
    const [long, short] = report.tasks;
    expect(long).toMatchObject({ status: 'timed-out', error: { code: 'TASK_TIMEOUT', timeoutMs: 300 } });
    expect(short).toMatchObject({ status: 'succeeded', output: 'slept 0 (exit 0)' });
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('cancelling mid-run leaves no child process running, and runs every cleanup', async () => {
    const shPids: number[] = [];
    const sup = new Supervisor({ maxConcurrent: 4 });
    const taskCleanups: string[] = [];
    sup.register<number, string>('tree', async (i, ctx) => {
      // a shell with a grandchild `sleep`, whose pid it writes to a file
      const pidFile = join(dir, `grandchild-${i}`);
      ctx.onCleanup(() => {
        taskCleanups.push(ctx.taskId);
      });
      const r = await runProcess('sh', ['-c', `sleep 60 & echo $! > ${pidFile}; wait`], {
        signal: ctx.signal,
        onSpawn: (pid) => shPids.push(pid),
      });
      return r.stdout;
    });
    const runCleanups: string[] = [];
    const handle = sup.start(
      { tasks: [0, 1, 2, 3, 4, 5].map((i) => ({ id: `t${i}`, agent: 'tree', input: i })), maxConcurrent: 4 },
      { onCleanup: () => void runCleanups.push('options') },
    );
    handle.onCleanup(async () => {
      await new Promise((r) => setTimeout(r, 1));
      runCleanups.push('handle');
    });
    const grandchildFiles = [0, 1, 2, 3].map((i) => join(dir, `grandchild-${i}`));
    await until(
      () => grandchildFiles.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim().length > 0),
      20_000,
      'four running process trees',
    );
    const grandchildPids = grandchildFiles.map((f) => Number(readFileSync(f, 'utf8')));
    for (const pid of [...shPids, ...grandchildPids]) expect(alive(pid)).toBe(true);
    handle.cancel('user pressed ^C');
    const report = await handle.done;
    expect(report.status).toBe('cancelled');
    expect(report.cancelReason).toBe('user pressed ^C');
    expect(report.tasks.slice(0, 4).map((t) => t.status)).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    // t4 and t5 were queued for a permit: cancelled without ever starting work
    expect(report.tasks.slice(4).map((t) => [t.status, t.startedAt])).toEqual([
      ['cancelled', undefined],
      ['cancelled', undefined],
    ]);
    expect(taskCleanups.sort()).toEqual(['t0', 't1', 't2', 't3']);
    expect(runCleanups).toEqual(['handle', 'options']); // last registered first
    await until(
      () => [...shPids, ...grandchildPids].every((pid) => !alive(pid)),
      5_000,
      'process trees to be reaped',
    );
    for (const pid of [...shPids, ...grandchildPids]) expect(alive(pid)).toBe(false);
    expect(sup.semaphore.inUse).toBe(0);
  });

  it('an AbortSignal passed to run() cancels it the same way', async () => {
    const sup = new Supervisor();
    const started = deferred();
    sup.register('wait', async (_i, ctx) => {
      started.resolve();
      await new Promise((_r, reject) =>
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
      );
    });
    const ac = new AbortController();
    const done = sup.run({ tasks: [{ id: 'w', agent: 'wait' }] }, { signal: ac.signal });
    await started.promise;
    ac.abort(new Error('outer abort'));
    const report = await done;
    expect(report.status).toBe('cancelled');
    expect(report.tasks[0]).toMatchObject({ status: 'cancelled', error: { code: 'TASK_CANCELLED' } });
  });

  it('a handler that ignores its signal is given up on after the grace period', async () => {
    const sup = new Supervisor({ abortGraceMs: 50 });
    const release = deferred();
    sup.register('stubborn', async () => {
      await release.promise;
      return 'late';
    });
    const report = await sup.run({ tasks: [{ id: 's', agent: 'stubborn', timeoutMs: 50 }] });
    expect(report.tasks[0]).toMatchObject({ status: 'timed-out' });
    release.resolve();
  });

  it('unknown agent types are rejected before anything runs', () => {
    const sup = new Supervisor().register('a', async () => 1);
    expect(() => sup.start({ tasks: [{ id: 'x', agent: 'b' }] }, { source: 'p.json' })).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_AGENT',
        message: 'p.json: tasks.0.agent: no agent registered for type "b"; registered: a',
      }),
    );
  });
});

describe('agents: state machine, progress, events', () => {
  it('reports idle → working → waiting → working → completed with progress', async () => {
    const events: SupervisorEvent[] = [];
    const sup = new Supervisor({ onEvent: (e) => events.push(e) });
    sup.register<string, number>('reader', async (path, ctx) => {
      ctx.progress(0.25, 'reading');
      const text = await ctx.wait(readFile(path, 'utf8'));
      ctx.progress(0.75);
      return text.length;
    });
    await writeFile(join(dir, 'f'), 'hello');
    const report = await sup.run({ tasks: [{ id: 'r', agent: 'reader', input: join(dir, 'f') }] });
    expect(report.tasks[0]).toMatchObject({ status: 'succeeded', output: 5, progress: 1 });
    const states = events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state);
    expect(states).toEqual(['working', 'waiting', 'working', 'completed']);
    const progress = events
      .filter((e) => e.type === 'progress')
      .map((e) => (e as { progress: number }).progress);
    expect(progress).toEqual([0.25, 0.75]);
    expect(events.at(-1)).toMatchObject({ type: 'task', result: { taskId: 'r', status: 'succeeded' } });
  });

  it('tasks sharing an agentName queue in one agent mailbox and run one after another', async () => {
    let active = 0;
    let peak = 0;
    const sup = new Supervisor({ maxConcurrent: 4 });
    sup.register('io', async (_i, ctx: TaskContext) => {
      active++;
      peak = Math.max(peak, active);
      await appendFile(join(dir, 'shared'), ctx.taskId);
      await new Promise((r) => setTimeout(r, 5));
      active--;
    });
    const report = await sup.run({
      tasks: ['a', 'b', 'c'].map((id) => ({ id, agent: 'io', agentName: 'worker' })),
    });
    expect(report.status).toBe('succeeded');
    expect(peak).toBe(1);
    expect(report.tasks.map((t) => t.agent)).toEqual(['worker', 'worker', 'worker']);
    expect(await readFile(join(dir, 'shared'), 'utf8')).toBe('abc');
  });
});
