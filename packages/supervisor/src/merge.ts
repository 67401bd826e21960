import { MergeError } from './errors.js';

export const MERGE_STRATEGIES = ['concatenate', 'voting', 'first-success', 'highest-score'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/** The part of a task result a merge looks at. */
export interface MergeCandidate {
  readonly taskId: string;
  readonly status: string;
  readonly output?: unknown;
  readonly score?: number;
  readonly finishedAt: number;
}

export interface MergeOptions {
  /** Separator for `concatenate` (default a blank line). */
  readonly separator?: string;
  /** Turns an output into text (default: strings as they are, everything else as stable JSON). */
  readonly toText?: (output: unknown) => string;
  /** Normalisation before voting (default: NFKC, trim, collapse whitespace, lower case). */
  readonly normalize?: (text: string) => string;
  /** Score for `highest-score` (default: the score the handler set). */
  readonly score?: (candidate: MergeCandidate) => number | undefined;
}

export interface VoteCount {
  /** The normalised value voted for. */
  readonly value: string;
  readonly count: number;
  readonly tasks: readonly string[];
}

export type MergeResult =
  | {
      readonly strategy: 'concatenate';
      readonly output: string;
      readonly sources: readonly string[];
      /** Candidates that did not succeed and were left out. */
      readonly excluded: readonly string[];
    }
  | {
      readonly strategy: 'voting';
      /** `majority`: more than half of the successful voters agree. */
      readonly outcome: 'majority' | 'tie' | 'no-majority';
      /** The winning output (the first original output with the winning normalised value). */
      readonly output?: unknown;
      readonly winner?: string;
      readonly voters: number;
      /** Every distinct normalised value, most votes first. */
      readonly votes: readonly VoteCount[];
      /** Values sharing the top count, when `outcome` is `tie`. */
      readonly tied: readonly string[];
      readonly excluded: readonly string[];
    }
  | {
      readonly strategy: 'first-success';
      readonly output: unknown;
      readonly source: string;
      readonly excluded: readonly string[];
    }
  | {
      readonly strategy: 'highest-score';
      readonly output: unknown;
      readonly source: string;
      readonly score: number;
      /** Other tasks with the same top score (the earliest in order wins). */
      readonly tied: readonly string[];
      readonly excluded: readonly string[];
    };

/** Strings as they are; other values as JSON with sorted keys, so equal objects give equal text. */
export function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output === undefined) return '';
  return stableStringify(output);
}

export function normalizeText(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

/**
 * Merges task results. Only candidates with status `succeeded` take part; the others are listed
 * in `excluded`. Throws {@link MergeError} (MERGE_FAILED) when nothing can be merged.
 */
export function merge(
  strategy: MergeStrategy,
  candidates: readonly MergeCandidate[],
  options: MergeOptions = {},
): MergeResult {
  const ok = candidates.filter((c) => c.status === 'succeeded');
  const excluded = candidates.filter((c) => c.status !== 'succeeded').map((c) => c.taskId);
  const toText = options.toText ?? outputText;
  switch (strategy) {
    case 'concatenate':
      return {
        strategy,
        output: ok.map((c) => toText(c.output)).join(options.separator ?? '\n\n'),
        sources: ok.map((c) => c.taskId),
        excluded,
      };
    case 'voting': {
      if (ok.length === 0) throw new MergeError('voting: no successful task to count');
      const normalize = options.normalize ?? normalizeText;
      const tally = new Map<string, { count: number; tasks: string[]; first: unknown }>();
      for (const c of ok) {
        const key = normalize(toText(c.output));
        const entry = tally.get(key);
        if (entry) {
          entry.count++;
          entry.tasks.push(c.taskId);
        } else tally.set(key, { count: 1, tasks: [c.taskId], first: c.output });
      }
      // stable: equal counts keep first-seen order
      const votes = [...tally].map(([value, e]) => ({ value, count: e.count, tasks: e.tasks }));
      votes.sort((a, b) => b.count - a.count);
      const top = votes[0] as VoteCount;
      const tied = votes.filter((v) => v.count === top.count).map((v) => v.value);
      if (tied.length > 1) return { strategy, outcome: 'tie', voters: ok.length, votes, tied, excluded };
      if (top.count * 2 <= ok.length)
        return { strategy, outcome: 'no-majority', voters: ok.length, votes, tied: [], excluded };
      return {
        strategy,
        outcome: 'majority',
        output: tally.get(top.value)?.first,
        winner: top.value,
        voters: ok.length,
        votes,
        tied: [],
        excluded,
      };
    }
    case 'first-success': {
      let best: MergeCandidate | undefined;
      for (const c of ok) if (!best || c.finishedAt < best.finishedAt) best = c;
      if (!best) throw new MergeError('first-success: no task succeeded');
      return { strategy, output: best.output, source: best.taskId, excluded };
    }
    case 'highest-score': {
      const scoreOf = options.score ?? ((c: MergeCandidate) => c.score);
      const scored = ok
        .map((c) => ({ c, s: scoreOf(c) }))
        .filter((x): x is { c: MergeCandidate; s: number } => typeof x.s === 'number' && !Number.isNaN(x.s));
      if (scored.length === 0) throw new MergeError('highest-score: no successful task reported a score');
      let best = scored[0] as { c: MergeCandidate; s: number };
      for (const x of scored) if (x.s > best.s) best = x;
      const tied = scored.filter((x) => x.s === best.s && x.c !== best.c).map((x) => x.c.taskId);
      const unscored = ok.filter((c) => !scored.some((x) => x.c === c)).map((c) => c.taskId);
      return {
        strategy,
        output: best.c.output,
        source: best.c.taskId,
        score: best.s,
        tied,
        excluded: [...excluded, ...unscored],
      };
    }
    default:
      throw new MergeError(`unknown merge strategy "${String(strategy)}"`);
  }
}
