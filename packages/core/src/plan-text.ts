// `codex supervise` in words: a plan's dry run, a line per task as it starts and ends, and the
// run's report (a row per task, the merged output, the verdict). Type-only imports: a host that
// never runs a plan does not load the supervisor for this.
import {
  CodexError,
  plainText,
  type SecurityProfile,
  type Styler,
  type TextStyle,
} from '@codex/security-profile';
import type { MergeResult, Plan, RunReport, SupervisorEvent, TaskResult, TaskSpec } from '@codex/supervisor';

/** The mark of each task status in progress lines and the report. */
export const TASK_MARKS: Readonly<Record<TaskResult['status'], string>> = {
  succeeded: '✓',
  failed: '✗',
  denied: '⊘',
  'timed-out': '⏱',
  cancelled: '✗',
  skipped: '-',
  dropped: '-',
};

export interface PlanTextOptions {
  /** The `--max-concurrent` override, else the plan's `maxConcurrent`, else 4. */
  readonly maxConcurrent?: number | undefined;
  readonly profile: SecurityProfile;
}

const capOf = (plan: Plan, o: PlanTextOptions) => o.maxConcurrent ?? plan.maxConcurrent ?? 4;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The line a run starts with: name, task count, strategy, failure policy, cap, profile. */
export function planHeader(plan: Plan, options: PlanTextOptions): string {
  return `${plan.name ?? 'plan'}: ${plan.tasks.length} tasks, ${plan.strategy}, ${plan.failure}, max ${capOf(plan, options)} concurrent, profile ${options.profile}`;
}

/**
 * A validated plan that is not run (`--dry-run`): the JSON document and the lines, given its
 * dependency levels (`levels(plan.tasks)` from `@codex/supervisor`).
 */
export function describeDryRun(
  plan: Plan,
  tiers: readonly (readonly TaskSpec[])[],
  options: PlanTextOptions,
): { json: Record<string, unknown>; lines: string[] } {
  const cap = capOf(plan, options);
  const json = {
    ...{ valid: true, name: plan.name ?? null, strategy: plan.strategy, failure: plan.failure },
    ...{ maxConcurrent: cap, profile: options.profile, levels: tiers.map((t) => t.map((x) => x.id)) },
    merge: plan.merge ?? null,
  };
  const lines = [
    `plan ${plan.name ?? '(unnamed)'} is valid: ${plan.tasks.length} tasks, ${plan.strategy}, ${plan.failure}, max ${cap} concurrent, profile ${options.profile}`,
    ...tiers.map((tier, i) => `  level ${i}: ${tier.map((t) => `${t.id} (${t.agent})`).join(', ')}`),
    ...(plan.merge ? [`  merge: ${plan.merge.strategy}`] : []),
  ];
  return { json, lines };
}

/**
 * Progress from the supervisor's own events: a line when a task starts (once, when its agent
 * begins working on it) and when it ends, with the style to show it in; nothing for other events.
 */
export function planProgress(): (event: SupervisorEvent) => { style: TextStyle; text: string } | undefined {
  const started = new Set<string>();
  return (event) => {
    if (event.type === 'state' && event.state === 'working' && event.taskId !== undefined) {
      if (started.has(event.taskId)) return undefined;
      started.add(event.taskId);
      return { style: 'dim', text: `▸ ${event.taskId} started` };
    }
    if (event.type !== 'task') return undefined;
    const r = event.result;
    const took = r.startedAt === undefined ? '' : ` in ${seconds(r.durationMs)}`;
    const style = r.status === 'succeeded' ? 'ok' : r.status === 'skipped' ? 'dim' : 'error';
    return { style, text: `${TASK_MARKS[r.status]} ${r.taskId} ${r.status}${took}` };
  };
}

function firstLine(s: string): string {
  const first = s.split('\n')[0] ?? '';
  return first.length > 160 ? `${first.slice(0, 159)}…` : first;
}

function asText(output: unknown): string {
  if (typeof output === 'string') return output.trimEnd();
  if (output && typeof output === 'object' && 'stdout' in output) return String(output.stdout).trimEnd();
  return JSON.stringify(output, null, 2);
}

/** The merged result in words: which strategy chose what, then the output. */
export function describeMerge(merged: MergeResult): string[] {
  switch (merged.strategy) {
    case 'concatenate':
      return [
        `--- merged (concatenate: ${merged.sources.join(', ') || 'nothing succeeded'})`,
        ...(merged.output ? [merged.output.trimEnd()] : []),
        ...(merged.excluded.length ? [`(left out: ${merged.excluded.join(', ')})`] : []),
      ];
    case 'voting': {
      const votes = merged.votes.map((v) => `${JSON.stringify(v.value)}×${v.count}`).join(' ');
      return [
        `--- merged (voting: ${merged.outcome}, ${merged.voters} voters) ${votes}`,
        ...(merged.outcome === 'majority' ? [asText(merged.output)] : []),
        ...(merged.outcome === 'tie'
          ? [`tie between ${merged.tied.map((v) => JSON.stringify(v)).join(', ')}`]
          : []),
      ];
    }
    case 'first-success':
      return [`--- merged (first-success: ${merged.source})`, asText(merged.output)];
    case 'highest-score': {
      const tied = merged.tied.length ? `, tied with ${merged.tied.join(', ')}` : '';
      return [
        `--- merged (highest-score: ${merged.source}, score ${merged.score}${tied})`,
        asText(merged.output),
      ];
    }
  }
}

function stderrTails(report: RunReport, style: Styler): string[] {
  const out: string[] = [];
  for (const t of report.tasks) {
    if (t.status !== 'failed' || !(t.error instanceof CodexError) || !('stderrTail' in t.error)) continue;
    const tail = String((t.error as { stderrTail: unknown }).stderrTail).trim();
    if (tail) out.push(style('dim', `--- ${t.taskId} (stderr, last lines)`), tail);
  }
  return out;
}

/**
 * A finished run in words: `tasks` is a row per task (mark and id, agent, status, time, error,
 * worker) for a table; `after` the failed tasks' stderr tails, the merge, cleanup errors and the
 * verdict line.
 */
export function describeRunReport(
  report: RunReport,
  style: Styler = plainText,
): { tasks: string[][]; after: string[] } {
  const tasks = report.tasks.map((t) => [
    `${TASK_MARKS[t.status]} ${t.taskId}`,
    t.agentType,
    t.status,
    t.startedAt === undefined ? '' : seconds(t.durationMs),
    t.error ? `${t.error.code}: ${firstLine(t.error.message)}` : '',
    ...(report.engine === 'in-process' || t.worker === undefined
      ? []
      : [`on ${t.worker.workerId}${t.attempts > 1 ? ` (${t.attempts} attempts)` : ''}`]),
  ]);
  const drops = report.mailboxes.droppedOldest + report.mailboxes.droppedNew;
  const tone = report.status === 'succeeded' ? 'ok' : report.status === 'failed' ? 'error' : 'warning';
  const cancel = report.cancelReason ? `: ${report.cancelReason}` : '';
  const after = [
    ...stderrTails(report, style),
    ...(report.merged ? describeMerge(report.merged) : []),
    ...(report.mergeError ? [`merge failed: ${report.mergeError.message}`] : []),
    ...report.cleanupErrors.map((e) => `cleanup error: ${e}`),
    `${style(tone, `run ${report.status}`)} in ${seconds(report.durationMs)} (peak ${report.peakConcurrency} concurrent; mailbox drops ${drops})${cancel}`,
  ];
  return { tasks, after };
}
