// The engine seam: a custom ExecutionEngine runs task bodies, the Supervisor keeps the plan
// semantics (timeouts, cancellation, fail-fast, placement) even when the engine misbehaves.
import { describe, expect, it } from 'vitest';
import { type EngineTask, type ExecutionEngine, Supervisor, type TaskContext, z } from '../src/index.js';

/** Runs bodies on a "remote" map of handlers and says they ran on worker `remote-1`, attempt 2. */
class RecordingEngine implements ExecutionEngine {
  readonly name = 'recording';
  readonly calls: EngineTask[] = [];
  constructor(readonly bodies: Record<string, (input: unknown, ctx: TaskContext) => Promise<unknown>>) {}
  async execute(task: EngineTask, ctx: TaskContext): Promise<unknown> {
    this.calls.push(task);
    ctx.placement({ workerId: 'remote-1', host: 'elsewhere' }, 2);
    const body = this.bodies[task.type];
    if (!body) throw new Error(`no body for ${task.type}`);
    return body(task.input, ctx);
  }
}

describe('ExecutionEngine', () => {
  it('runs every task through the engine with the validated input; the local handler is not called', async () => {
    let localCalls = 0;
    const engine = new RecordingEngine({ echo: async (input) => (input as { n: number }).n * 2 });
    const s = new Supervisor({ engine }).register(
      'echo',
      async () => {
        localCalls++;
        return 0;
      },
      { input: z.strictObject({ n: z.coerce.number() }) },
    );
    const r = await s.run({
      tasks: [
        { id: 'a', agent: 'echo', input: { n: '2' }, timeoutMs: 5000 },
        { id: 'b', agent: 'echo', input: { n: 5 }, dependsOn: ['a'] },
      ],
    });
    expect(r.engine).toBe('recording');
    expect(r.tasks.map((t) => t.output)).toEqual([4, 10]);
    expect(localCalls).toBe(0);
    expect(engine.calls.map((c) => [c.type, c.input, c.timeoutMs])).toEqual([
      ['echo', { n: 2 }, 5000],
      ['echo', { n: 5 }, undefined],
    ]);
    expect(engine.calls[0]?.runId).toBe(r.runId);
    expect(r.tasks[0]).toMatchObject({ worker: { workerId: 'remote-1', host: 'elsewhere' }, attempts: 2 });
  });

  it('an engine that never settles still gets timed out and cancelled by the supervisor', async () => {
    const engine = new RecordingEngine({ hang: () => new Promise(() => {}) });
    const s = new Supervisor({ engine, abortGraceMs: 50 }).register('hang', async () => null);
    const r = await s.run({
      failure: 'fail-fast',
      tasks: [
        { id: 'slow', agent: 'hang', timeoutMs: 100 },
        { id: 'other', agent: 'hang' },
        { id: 'never', agent: 'hang', dependsOn: ['other'] },
      ],
    });
    expect(r.tasks.map((t) => [t.taskId, t.status, t.error?.code])).toEqual([
      ['slow', 'timed-out', 'TASK_TIMEOUT'],
      ['other', 'cancelled', 'TASK_CANCELLED'],
      ['never', 'skipped', 'TASK_CANCELLED'],
    ]);
  });

  it('in-process tasks say they ran here, once; tasks that never ran have no worker and 0 attempts', async () => {
    const s = new Supervisor()
      .register('ok', async () => 1)
      .register('bad', async () => {
        throw new Error('x');
      });
    const r = await s.run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'a', agent: 'ok' },
        { id: 'b', agent: 'bad' },
        { id: 'c', agent: 'ok', dependsOn: ['b'] },
      ],
    });
    expect(r.engine).toBe('in-process');
    expect(r.tasks[0]).toMatchObject({ worker: { workerId: 'in-process' }, attempts: 1 });
    expect(r.tasks[1]).toMatchObject({ worker: { workerId: 'in-process' }, attempts: 1 });
    expect(r.tasks[2]?.worker).toBeUndefined();
    expect(r.tasks[2]?.attempts).toBe(0);
  });

  it('a task the engine failed without reporting a placement has no worker and 0 attempts', async () => {
    const engine: ExecutionEngine = {
      name: 'down',
      execute: async () => {
        throw new Error('queue unreachable');
      },
    };
    const r = await new Supervisor({ engine })
      .register('x', async () => 1)
      .run({ tasks: [{ id: 'a', agent: 'x' }] });
    expect(r.tasks[0]).toMatchObject({ status: 'failed', attempts: 0 });
    expect(r.tasks[0]?.worker).toBeUndefined();
  });
});
