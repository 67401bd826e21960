import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AGENT_TRANSITIONS,
  Agent,
  InvalidTransitionError,
  Semaphore,
  TaskDeniedError,
} from '../src/index.js';
import { deferred, ticks } from './helpers.js';

describe('Agent', () => {
  it('refuses transitions the state machine does not have', () => {
    const a = new Agent({ name: 'a', type: 't', handler: async () => 1 });
    expect(a.state).toBe('idle');
    expect(() => a.transition('completed')).toThrow(InvalidTransitionError);
    expect(() => a.transition('failed')).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', from: 'idle', to: 'failed' }),
    );
    a.transition('working');
    expect(() => a.transition('idle')).toThrow(/cannot go from working to idle/);
    expect(AGENT_TRANSITIONS.completed).not.toContain('idle');
  });

  it('processes its mailbox one message at a time, in order, with real file I/O', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-'));
    try {
      const file = join(dir, 'log');
      await writeFile(file, '');
      let active = 0;
      let peak = 0;
      const a = new Agent<string, string>({
        name: 'writer',
        type: 'fs',
        handler: async (text) => {
          active++;
          peak = Math.max(peak, active);
          const before = await readFile(file, 'utf8');
          await writeFile(file, before + text);
          active--;
          return before + text;
        },
      });
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((x) => a.submit(x)));
      expect(results.map((r) => r.output)).toEqual(['a', 'ab', 'abc', 'abcd']);
      expect(peak).toBe(1);
      expect(a.state).toBe('completed');
      expect(a.stats).toMatchObject({ completed: 4, failed: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** An agent whose work cannot start (its only permit is held) so messages pile up in the mailbox. */
  function blockedAgent(policy: 'block' | 'drop-oldest' | 'drop-new') {
    const sem = new Semaphore(1);
    const held = sem.tryAcquire()!;
    const ran: number[] = [];
    const agent = new Agent<number, number>({
      name: `agent-${policy}`,
      type: 't',
      semaphore: sem,
      mailbox: { capacity: 2, policy },
      handler: async (n) => {
        ran.push(n);
        return n;
      },
    });
    return { agent, release: () => held.release(), ran };
  }

  it('drop-new: submissions beyond the mailbox are rejected as dropped (MAILBOX_FULL), and counted', async () => {
    const { agent, release, ran } = blockedAgent('drop-new');
    const first = agent.submit(0); // taken from the mailbox, waiting for the permit
    await ticks();
    expect(agent.state).toBe('waiting');
    const queued = [agent.submit(1), agent.submit(2)];
    const rejected = await Promise.all([agent.submit(3), agent.submit(4)]);
    expect(rejected.map((r) => [r.status, r.error?.code])).toEqual([
      ['dropped', 'MAILBOX_FULL'],
      ['dropped', 'MAILBOX_FULL'],
    ]);
    release();
    expect((await Promise.all([first, ...queued])).map((r) => r.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(ran).toEqual([0, 1, 2]);
    expect(agent.mailbox.stats).toMatchObject({ droppedNew: 2, droppedOldest: 0 });
  });

  it('drop-oldest: the oldest queued work is settled as dropped (MESSAGE_DROPPED); the newest runs', async () => {
    const { agent, release, ran } = blockedAgent('drop-oldest');
    const first = agent.submit(0);
    await ticks();
    const all = [1, 2, 3, 4, 5].map((n) => agent.submit(n));
    await ticks();
    release();
    const results = await Promise.all([first, ...all]);
    expect(results.map((r) => r.status)).toEqual([
      'succeeded',
      'dropped',
      'dropped',
      'dropped',
      'succeeded',
      'succeeded',
    ]);
    expect(results[1]!.error).toMatchObject({ code: 'MESSAGE_DROPPED' });
    expect(ran).toEqual([0, 4, 5]);
    expect(agent.mailbox.stats.droppedOldest).toBe(3);
  });

  it('block: the submitter waits for room; nothing is lost', async () => {
    const { agent, release, ran } = blockedAgent('block');
    const first = agent.submit(0);
    await ticks();
    const all = [1, 2, 3, 4].map((n) => agent.submit(n));
    await ticks(10);
    expect(agent.mailbox.stats).toMatchObject({ size: 2, waitingProducers: 2 });
    release();
    const results = await Promise.all([first, ...all]);
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(agent.mailbox.stats.blockedSends).toBe(2);
  });

  it('close() settles queued work as cancelled', async () => {
    const { agent, release } = blockedAgent('block');
    const first = agent.submit(0);
    await ticks();
    const queued = agent.submit(1);
    await ticks();
    agent.close();
    expect(await queued).toMatchObject({ status: 'cancelled', error: { code: 'TASK_CANCELLED' } });
    release();
    expect((await first).status).toBe('succeeded');
  });

  it('a TaskDeniedError ends the task as denied and records the decision', async () => {
    const a = new Agent({
      name: 'd',
      type: 't',
      handler: async () => {
        throw new TaskDeniedError('curl is blocked under offline');
      },
    });
    const r = await a.submit(undefined);
    expect(r).toMatchObject({ status: 'denied', error: { code: 'TASK_DENIED' } });
    expect(r.decisions).toEqual([{ decision: 'denied', reason: 'curl is blocked under offline' }]);
    expect(a.state).toBe('failed');
  });

  it('progress is clamped to 0..1 and a non-CodexError becomes TASK_FAILED with the cause', async () => {
    const gate = deferred();
    const seen: number[] = [];
    const a = new Agent<number, never>({
      name: 'p',
      type: 't',
      onEvent: (e) => {
        if (e.type === 'progress') seen.push(e.progress);
      },
      handler: async (n, ctx) => {
        ctx.progress(-1);
        ctx.progress(n);
        await gate.promise;
        throw new RangeError('nope');
      },
    });
    const p = a.submit(7);
    await ticks();
    expect(a.progress).toBe(1);
    gate.resolve();
    const r = await p;
    expect(seen).toEqual([0, 1]);
    expect(r).toMatchObject({
      status: 'failed',
      error: { code: 'TASK_FAILED', message: 'task "p-1" failed: nope'.replace('p-1', r.taskId) },
    });
    expect((r.error as Error).cause).toBeInstanceOf(RangeError);
  });
});

describe('Supervisor.spawn and shutdown', () => {
  it('long-lived agents share the supervisor cap; shutdown settles queued work and refuses new runs', async () => {
    const { Supervisor, SupervisorClosedError } = await import('../src/index.js');
    const gate = deferred();
    let active = 0;
    let peak = 0;
    const sup = new Supervisor({ maxConcurrent: 1, mailbox: { capacity: 4 } });
    sup.register<string, string>('upper', async (s) => {
      active++;
      peak = Math.max(peak, active);
      await gate.promise;
      active--;
      return s.toUpperCase();
    });
    const a = sup.spawn<string, string>('a', 'upper');
    const b = sup.spawn<string, string>('b', 'upper');
    expect(() => sup.spawn('a', 'upper')).toThrow(/agent "a" already exists/);
    expect(() => sup.spawn('c', 'nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_AGENT' }));
    const ra = a.submit('x');
    const rb = b.submit('y');
    const queued = a.submit('z');
    await ticks();
    expect([a.state, b.state]).toEqual(['working', 'waiting']);
    gate.resolve();
    expect((await Promise.all([ra, rb, queued])).map((r) => r.output)).toEqual(['X', 'Y', 'Z']);
    expect(peak).toBe(1);
    expect(sup.agents.map((x) => x.name)).toEqual(['a', 'b']);
    await sup.shutdown();
    expect(a.mailbox.closed).toBe(true);
    expect(await a.submit('late')).toMatchObject({ status: 'cancelled', error: { code: 'MAILBOX_CLOSED' } });
    expect(() => sup.start({ tasks: [{ id: 't', agent: 'upper' }] })).toThrow(SupervisorClosedError);
  });
});

describe('mailbox policies in a plan', () => {
  it('drops are reported per task and counted in the run report', async () => {
    const { Supervisor } = await import('../src/index.js');
    const ran: string[] = [];
    const sup = new Supervisor().register('w', async (_i, ctx) => {
      ran.push(ctx.taskId);
      return ctx.taskId;
    });
    const plan = (policy: 'drop-new' | 'drop-oldest' | 'block') => ({
      failure: 'skip-dependents' as const,
      mailbox: { capacity: 1, policy },
      // four tasks submitted at once to one shared agent with a one-slot mailbox
      tasks: ['t1', 't2', 't3', 't4'].map((id) => ({ id, agent: 'w', agentName: 'shared' })),
    });
    const dropNew = await sup.run(plan('drop-new'));
    expect(dropNew.tasks.map((t) => t.status)).toEqual(['succeeded', 'dropped', 'dropped', 'dropped']);
    expect(dropNew.tasks[1]?.error?.code).toBe('MAILBOX_FULL');
    expect(dropNew.mailboxes).toEqual({ droppedNew: 3, droppedOldest: 0, blockedSends: 0 });
    expect(dropNew.status).toBe('failed');

    ran.length = 0;
    const dropOldest = await sup.run(plan('drop-oldest'));
    expect(dropOldest.tasks.map((t) => t.status)).toEqual(['dropped', 'dropped', 'dropped', 'succeeded']);
    expect(dropOldest.tasks[0]?.error?.code).toBe('MESSAGE_DROPPED');
    expect(dropOldest.mailboxes.droppedOldest).toBe(3);
    expect(ran).toEqual(['t4']);

    ran.length = 0;
    const block = await sup.run(plan('block'));
    expect(block.status).toBe('succeeded');
    expect(ran).toEqual(['t1', 't2', 't3', 't4']);
    expect(block.mailboxes).toEqual({ droppedNew: 0, droppedOldest: 0, blockedSends: 3 });
  });
});
