import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAILBOX_FULL_POLICIES, Mailbox, MailboxClosedError, MailboxFullError } from '../src/index.js';
import { ticks } from './helpers.js';

describe('Mailbox', () => {
  it('defaults to capacity 32 and block', () => {
    const m = new Mailbox<number>();
    expect(m.capacity).toBe(32);
    expect(m.policy).toBe('block');
  });

  it('rejects a bad capacity or policy with INVALID_SUPERVISOR_CONFIG', () => {
    expect(() => new Mailbox({ capacity: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SUPERVISOR_CONFIG' }),
    );
    expect(() => new Mailbox({ capacity: 1.5 })).toThrow(/integer >= 1/);
    expect(() => new Mailbox({ policy: 'lossy' as never })).toThrow(/unknown mailbox policy "lossy"/);
  });

  it('block really blocks the producer until a consumer makes room, and keeps FIFO order', async () => {
    const m = new Mailbox<string>({ capacity: 2, policy: 'block' });
    await m.send('a');
    await m.send('b');
    let thirdDone = false;
    let fourthDone = false;
    const third = m.send('c').then((o) => {
      thirdDone = true;
      return o;
    });
    const fourth = m.send('d').then(() => {
      fourthDone = true;
    });
    await ticks(20);
    expect(thirdDone).toBe(false);
    expect(fourthDone).toBe(false);
    expect(m.stats).toMatchObject({ size: 2, waitingProducers: 2, blockedSends: 2 });
    expect(m.tryReceive()).toBe('a');
    expect(await third).toBe('queued');
    await ticks(5);
    expect(fourthDone).toBe(false);
    expect(await m.receive()).toBe('b');
    await fourth;
    expect([m.tryReceive(), m.tryReceive(), m.tryReceive()]).toEqual(['c', 'd', undefined]);
    expect(m.stats).toMatchObject({ sent: 4, received: 4, droppedNew: 0, droppedOldest: 0 });
  });

  it('block: an aborted wait withdraws the message', async () => {
    const m = new Mailbox<number>({ capacity: 1 });
    await m.send(1);
    const ac = new AbortController();
    const blocked = m.send(2, ac.signal);
    ac.abort(new Error('gave up'));
    await expect(blocked).rejects.toThrow('gave up');
    expect(m.tryReceive()).toBe(1);
    expect(m.tryReceive()).toBeUndefined();
    expect(m.stats.waitingProducers).toBe(0);
  });

  it('drop-oldest keeps the newest N messages and counts the drops', async () => {
    const dropped: number[] = [];
    const m = new Mailbox<number>({ capacity: 3, policy: 'drop-oldest', onDrop: (x) => dropped.push(x) });
    for (let i = 1; i <= 7; i++) expect(await m.send(i)).toBe(i <= 3 ? 'queued' : 'queued-dropped-oldest');
    expect(m.drain()).toEqual([5, 6, 7]);
    expect(dropped).toEqual([1, 2, 3, 4]);
    expect(m.stats.droppedOldest).toBe(4);
  });

  it('drop-new rejects new messages with MAILBOX_FULL and keeps the queued ones', async () => {
    const m = new Mailbox<number>({ capacity: 2, policy: 'drop-new', name: 'inbox' });
    await m.send(1);
    await m.send(2);
    await expect(m.send(3)).rejects.toBeInstanceOf(MailboxFullError);
    await expect(m.send(4)).rejects.toMatchObject({
      code: 'MAILBOX_FULL',
      message: expect.stringMatching(/"inbox" is full/),
    });
    expect(m.stats.droppedNew).toBe(2);
    expect(m.drain()).toEqual([1, 2]);
    await m.send(5);
    expect(m.tryReceive()).toBe(5);
  });

  it('hands a message straight to a waiting receiver', async () => {
    const m = new Mailbox<string>({ capacity: 1 });
    const r = m.receive();
    expect(await m.send('x')).toBe('delivered');
    expect(await r).toBe('x');
    expect(m.size).toBe(0);
  });

  it('close: sends throw, blocked producers and idle receivers reject, queued messages still drain', async () => {
    const m = new Mailbox<number>({ capacity: 1 });
    await m.send(1);
    const blocked = m.send(2);
    m.close();
    await expect(blocked).rejects.toBeInstanceOf(MailboxClosedError);
    expect(() => m.trySend(3)).toThrow(MailboxClosedError);
    expect(await m.receive()).toBe(1);
    await expect(m.receive()).rejects.toMatchObject({ code: 'MAILBOX_CLOSED' });
    const m2 = new Mailbox<number>();
    const waiting = m2.receive();
    m2.close();
    await expect(waiting).rejects.toBeInstanceOf(MailboxClosedError);
  });

  it('async iteration ends when closed and drained', async () => {
    const m = new Mailbox<number>({ capacity: 4 });
    const seen: number[] = [];
    const consumer = (async () => {
      for await (const x of m) seen.push(x);
    })();
    for (let i = 0; i < 10; i++) await m.send(i); // more than capacity: the consumer keeps up
    m.close();
    await consumer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('property: matches a reference model under any mix of sends and receives', () => {
    const op = fc.oneof(fc.record({ send: fc.integer() }), fc.constant({ receive: true as const }));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(...MAILBOX_FULL_POLICIES),
        fc.array(op, { maxLength: 120 }),
        (capacity, policy, ops) => {
          const m = new Mailbox<number>({ capacity, policy });
          const model: number[] = [];
          let droppedOldest = 0;
          let droppedNew = 0;
          for (const o of ops) {
            if ('send' in o) {
              if (model.length < capacity) {
                expect(m.trySend(o.send)).toBe('queued');
                model.push(o.send);
              } else if (policy === 'drop-oldest') {
                expect(m.trySend(o.send)).toBe('queued-dropped-oldest');
                model.shift();
                model.push(o.send);
                droppedOldest++;
              } else if (policy === 'drop-new') {
                expect(m.trySend(o.send)).toBe('rejected');
                droppedNew++;
              } else {
                expect(m.trySend(o.send)).toBe('full');
              }
            } else {
              expect(m.tryReceive()).toBe(model.shift());
            }
            expect(m.size).toBe(model.length);
            expect(m.size).toBeLessThanOrEqual(capacity);
          }
          expect(m.stats.droppedOldest).toBe(droppedOldest);
          expect(m.stats.droppedNew).toBe(droppedNew);
          expect(m.drain()).toEqual(model);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: drop-oldest always holds exactly the newest min(n, capacity) messages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.string(), { maxLength: 100 }),
        (capacity, msgs) => {
          const m = new Mailbox<string>({ capacity, policy: 'drop-oldest' });
          for (const x of msgs) m.trySend(x);
          expect(m.drain()).toEqual(msgs.slice(Math.max(0, msgs.length - capacity)));
          expect(m.stats.droppedOldest).toBe(Math.max(0, msgs.length - capacity));
        },
      ),
    );
  });
});
