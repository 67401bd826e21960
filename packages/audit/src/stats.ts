import type { AuditFilter, CorruptLine } from './reader.js';
import { readEntries } from './reader.js';

export interface AuditStats {
  readonly files: readonly string[];
  /** Entries that matched the filter. */
  readonly entries: number;
  readonly corrupt: readonly CorruptLine[];
  readonly byDecision: Readonly<Record<string, number>>;
  readonly byOperation: Readonly<Record<string, number>>;
  readonly byProfile: Readonly<Record<string, number>>;
  readonly sessions: number;
  readonly tasks: number;
  readonly first?: string;
  readonly last?: string;
  readonly lastSeq?: number;
}

/** Counts entries by decision, operation and profile (one pass over the files). */
export async function auditStats(
  files: string | readonly string[],
  filter: AuditFilter = {},
): Promise<AuditStats> {
  const reader = readEntries(files, filter);
  const byDecision: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
  const byProfile: Record<string, number> = {};
  const sessions = new Set<string>();
  const tasks = new Set<string>();
  let entries = 0;
  let first: string | undefined;
  let last: string | undefined;
  let lastSeq: number | undefined;
  for await (const { entry: e } of reader) {
    entries++;
    byDecision[e.decision] = (byDecision[e.decision] ?? 0) + 1;
    byOperation[e.operation] = (byOperation[e.operation] ?? 0) + 1;
    byProfile[e.profile] = (byProfile[e.profile] ?? 0) + 1;
    if (e.session_id !== null) sessions.add(e.session_id);
    if (e.task_id !== null) tasks.add(e.task_id);
    if (first === undefined || e.timestamp < first) first = e.timestamp;
    if (last === undefined || e.timestamp > last) last = e.timestamp;
    lastSeq = e.seq;
  }
  return {
    files: typeof files === 'string' ? [files] : [...files],
    entries,
    corrupt: reader.corrupt,
    byDecision,
    byOperation,
    byProfile,
    sessions: sessions.size,
    tasks: tasks.size,
    ...(first === undefined ? {} : { first }),
    ...(last === undefined ? {} : { last }),
    ...(lastSeq === undefined ? {} : { lastSeq }),
  };
}
