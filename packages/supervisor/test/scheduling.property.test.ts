import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { levels, parsePlan, Supervisor } from '../src/index.js';

interface Spec {
  n: number;
  deps: number[][];
  fail: boolean[];
  delay: number[];
  cap: number;
  strategy: 'sequential' | 'parallel' | 'hybrid';
  failure: 'fail-fast' | 'skip-dependents';
}

const specArb: fc.Arbitrary<Spec> = fc.integer({ min: 1, max: 10 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    // edges only point backwards: always a DAG
    deps: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.subarray(
          Array.from({ length: i }, (_, j) => j),
          { maxLength: Math.min(3, i) },
        ),
      ),
    ),
    fail: fc.array(
      fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
      { minLength: n, maxLength: n },
    ),
    delay: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    cap: fc.integer({ min: 1, max: 4 }),
    strategy: fc.constantFrom('sequential', 'parallel', 'hybrid'),
    failure: fc.constantFrom('fail-fast', 'skip-dependents'),
  }),
);

describe('scheduling invariants (property, real timers)', () => {
  it('cap, dependency order, hybrid barriers and failure policies hold for random DAGs', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        let clock = 0;
        let active = 0;
        let peak = 0;
        const started = new Map<string, number>();
        const finished = new Map<string, number>();
        const sup = new Supervisor({ maxConcurrent: spec.cap });
        sup.register<{ fail: boolean; delay: number }, string>('work', async (input, ctx) => {
          active++;
          peak = Math.max(peak, active);
          started.set(ctx.taskId, ++clock);
          try {
            await sleep(input.delay, undefined, { signal: ctx.signal });
            if (input.fail) throw new Error(`${ctx.taskId} fails`);
            return ctx.taskId;
          } finally {
            finished.set(ctx.taskId, ++clock);
            active--;
          }
        });
        const planInput = {
          strategy: spec.strategy,
          failure: spec.failure,
          tasks: Array.from({ length: spec.n }, (_, i) => ({
            id: `t${i}`,
            agent: 'work',
            input: { fail: spec.fail[i], delay: spec.delay[i] },
            dependsOn: (spec.deps[i] ?? []).map((j) => `t${j}`),
          })),
        };
        const report = await sup.run(planInput);
        const status = Object.fromEntries(report.tasks.map((t) => [t.taskId, t.status]));

        expect(peak).toBeLessThanOrEqual(spec.strategy === 'sequential' ? 1 : spec.cap);
        expect(report.peakConcurrency).toBeLessThanOrEqual(spec.cap);
        expect(sup.semaphore.inUse).toBe(0);
        for (const t of planInput.tasks) {
          const s = started.get(t.id);
          if (s === undefined) continue;
          for (const d of t.dependsOn) {
            expect(status[d]).toBe('succeeded');
            expect(finished.get(d)).toBeLessThan(s);
          }
        }
        if (spec.strategy === 'hybrid') {
          const tiers = levels(parsePlan(planInput).tasks);
          for (let k = 1; k < tiers.length; k++) {
            const prevEnd = Math.max(...tiers[k - 1]!.map((t) => finished.get(t.id) ?? 0));
            for (const t of tiers[k]!) {
              const s = started.get(t.id);
              if (s !== undefined) expect(s).toBeGreaterThan(prevEnd);
            }
          }
        }
        const anyFailed = report.tasks.some((t) => t.status === 'failed');
        if (!anyFailed) {
          expect(report.status).toBe('succeeded');
          expect(report.tasks.every((t) => t.status === 'succeeded')).toBe(true);
        } else {
          expect(report.status).toBe('failed');
        }
        if (spec.failure === 'skip-dependents') {
          // exactly: a task ran iff all its deps succeeded; it failed iff it was meant to
          planInput.tasks.forEach((t, i) => {
            const depsOk = t.dependsOn.every((d) => status[d] === 'succeeded');
            if (depsOk) expect(status[t.id]).toBe(spec.fail[i] ? 'failed' : 'succeeded');
            else expect(status[t.id]).toBe('skipped');
          });
        } else if (anyFailed) {
          // fail-fast: nothing starts after the first failure has finished
          const firstFail = Math.min(
            ...report.tasks
              .filter((t) => t.status === 'failed')
              .map((t) => finished.get(t.taskId) ?? Number.POSITIVE_INFINITY),
          );
          for (const s of started.values()) expect(s).toBeLessThan(firstFail);
        }
      }),
      { numRuns: 60 },
    );
  });
});
