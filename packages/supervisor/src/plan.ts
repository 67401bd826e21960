import { createRequire } from 'node:module';
import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import { PlanCycleError, PlanError, type PlanIssue } from './errors.js';
import { MAILBOX_FULL_POLICIES } from './mailbox.js';
import { MERGE_STRATEGIES } from './merge.js';

export const EXECUTION_STRATEGIES = ['sequential', 'parallel', 'hybrid'] as const;
/**
 * - `sequential`: one task at a time, in dependency order.
 * - `parallel`: a task starts as soon as its own dependencies succeeded (up to the cap).
 * - `hybrid`: dependency levels run one after another; the tasks of a level run in parallel.
 */
export type ExecutionStrategy = (typeof EXECUTION_STRATEGIES)[number];

export const FAILURE_POLICIES = ['fail-fast', 'skip-dependents'] as const;
/**
 * - `fail-fast`: the first failure cancels running tasks and skips everything not started.
 * - `skip-dependents`: tasks depending (transitively) on a failure are skipped; the rest go on.
 */
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

const id = deferred(() =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/, 'use letters, digits, "_", ".", ":" or "-"'),
);

export const taskSpecSchema = deferred(() =>
  z.strictObject({
    id,
    /** Agent type: which registered handler runs it. */
    agent: z.string().min(1),
    /** Agent instance name; tasks sharing a name share one agent and queue in its mailbox. Default: the task id. */
    agentName: id.optional(),
    input: z.unknown().optional(),
    dependsOn: z.array(id).default([]),
    timeoutMs: z.number().int().positive().max(86_400_000).optional(),
  }),
);

export const mergeSpecSchema = deferred(() =>
  z.strictObject({
    strategy: z.enum(MERGE_STRATEGIES),
    /** Tasks whose outputs are merged, in this order; default every task in plan order. */
    tasks: z.array(id).min(1).optional(),
    separator: z.string().optional(),
    /**
     * `first-success` only: as soon as one merged task succeeds, cancel the rest of the run
     * (running tasks are aborted, pending ones skipped) and report the run as succeeded.
     */
    cancelRest: z.boolean().default(false),
  }),
);

export const planSchema = deferred(() =>
  z.strictObject({
    name: z.string().min(1).optional(),
    strategy: z.enum(EXECUTION_STRATEGIES).default('parallel'),
    failure: z.enum(FAILURE_POLICIES).default('fail-fast'),
    maxConcurrent: z.number().int().min(1).max(1024).optional(),
    defaultTimeoutMs: z.number().int().positive().max(86_400_000).optional(),
    mailbox: z
      .strictObject({
        capacity: z.number().int().min(1).max(1_000_000).optional(),
        policy: z.enum(MAILBOX_FULL_POLICIES).optional(),
      })
      .optional(),
    tasks: z.array(taskSpecSchema).min(1, 'a plan needs at least one task'),
    merge: mergeSpecSchema.optional(),
  }),
);

export type TaskSpec = z.output<typeof taskSpecSchema>;
export type TaskSpecInput = z.input<typeof taskSpecSchema>;
export type Plan = z.output<typeof planSchema>;
export type PlanInput = z.input<typeof planSchema>;
export type MergeSpec = z.output<typeof mergeSpecSchema>;

/**
 * Validates a plan from outside: the schema, then duplicate ids, unknown dependencies,
 * self-dependencies, merge task ids and cycles. Throws {@link PlanError} (INVALID_PLAN) or
 * {@link PlanCycleError} (PLAN_CYCLE) whose message names `source`, the key and the problem.
 */
export function parsePlan(value: unknown, source = 'plan'): Plan {
  const parsed = planSchema.safeParse(value);
  if (!parsed.success) {
    throw new PlanError(
      source,
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    );
  }
  const plan = parsed.data;
  const issues: PlanIssue[] = [];
  const index = new Map<string, number>();
  plan.tasks.forEach((t, i) => {
    const first = index.get(t.id);
    if (first !== undefined)
      issues.push({
        path: `tasks.${i}.id`,
        message: `duplicate task id "${t.id}" (first at tasks.${first})`,
      });
    else index.set(t.id, i);
  });
  plan.tasks.forEach((t, i) => {
    t.dependsOn.forEach((d, j) => {
      if (d === t.id)
        issues.push({ path: `tasks.${i}.dependsOn.${j}`, message: `task "${t.id}" depends on itself` });
      else if (!index.has(d))
        issues.push({ path: `tasks.${i}.dependsOn.${j}`, message: `unknown dependency "${d}"` });
    });
  });
  if (plan.merge?.cancelRest && plan.merge.strategy !== 'first-success') {
    issues.push({ path: 'merge.cancelRest', message: 'only applies to the first-success strategy' });
  }
  plan.merge?.tasks?.forEach((t, j) => {
    if (!index.has(t)) issues.push({ path: `merge.tasks.${j}`, message: `unknown task "${t}"` });
  });
  if (issues.length > 0) throw new PlanError(source, issues);
  const cycle = findCycle(plan.tasks);
  if (cycle) throw new PlanCycleError(source, cycle);
  return plan;
}

/** Parses plan text: JSON when `source` ends in `.json` (or the text starts with `{`), else YAML. */
export function parsePlanText(text: string, source = 'plan'): Plan {
  let value: unknown;
  const json = /\.json$/i.test(source) || (!/\.ya?ml$/i.test(source) && text.trimStart().startsWith('{'));
  try {
    value = json ? JSON.parse(text) : loadYaml().parse(text, { prettyErrors: false });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'parse error';
    throw new PlanError(source, [{ path: '', message: `not valid ${json ? 'JSON' : 'YAML'}: ${message}` }]);
  }
  return parsePlan(value, source);
}

/** `yaml` is loaded on first use, so importing the package does not pay for it. */
function loadYaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

/** First cycle found by depth-first search, as ids with the first repeated at the end. */
export function findCycle(tasks: readonly Pick<TaskSpec, 'id' | 'dependsOn'>[]): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.id, t.dependsOn]));
  const state = new Map<string, 1 | 2>(); // 1 on stack, 2 done
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 1);
    stack.push(node);
    for (const d of deps.get(node) ?? []) {
      const s = state.get(d);
      if (s === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (s === undefined && deps.has(d)) {
        const found = visit(d);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, 2);
    return undefined;
  };
  for (const t of tasks) {
    if (!state.has(t.id)) {
      const found = visit(t.id);
      if (found) return found;
    }
  }
  return undefined;
}

/** Tasks in dependency order; ties keep declaration order. Assumes a validated plan. */
export function topologicalOrder(tasks: readonly TaskSpec[]): TaskSpec[] {
  return levels(tasks).flat();
}

/** Dependency levels: level 0 has no dependencies, level n depends on something at level n-1. */
export function levels(tasks: readonly TaskSpec[]): TaskSpec[][] {
  const depth = new Map<string, number>();
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const depthOf = (t: TaskSpec): number => {
    const known = depth.get(t.id);
    if (known !== undefined) return known;
    let d = 0;
    for (const dep of t.dependsOn) d = Math.max(d, depthOf(byId.get(dep) as TaskSpec) + 1);
    depth.set(t.id, d);
    return d;
  };
  const out: TaskSpec[][] = [];
  for (const t of tasks) {
    const d = depthOf(t);
    const level = out[d];
    if (level) level.push(t);
    else out[d] = [t];
  }
  return out.filter((l) => l !== undefined);
}
