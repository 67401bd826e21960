import { logFiles } from './files.js';
import { followEntries } from './follow.js';
import { type AuditRecord, type CorruptLine, readEntries } from './reader.js';

export interface TailOptions {
  /** How many of the latest entries to keep (default 10; 0 keeps none but still finds the head). */
  readonly count?: number;
  /** Called once for each corrupt line, in the history and while following. */
  readonly onCorrupt?: (corrupt: CorruptLine) => void;
}

/** The end of a (rotated) log, and a way to follow it from there. */
export interface AuditTail {
  /** The log's files, oldest first (empty when there is no log). */
  readonly files: readonly string[];
  /** The latest `count` entries, oldest first. */
  readonly last: readonly AuditRecord[];
  /**
   * Entries appended after those read (`tail -f`), until `signal` aborts. It follows from the start
   * of the live file and skips what was already read (seq is the chain's order), so entries
   * appended between reading the history and starting to follow are not lost.
   */
  follow(signal: AbortSignal): AsyncIterable<AuditRecord>;
}

/** `tail [-f]` of the log at `path` with its rotated files. */
export async function tailEntries(path: string, options: TailOptions = {}): Promise<AuditTail> {
  const count = options.count ?? 10;
  const files = await logFiles(path);
  const last: AuditRecord[] = [];
  const reported = new Set<string>();
  const onCorrupt = (c: CorruptLine) => {
    const key = `${c.file}:${c.line}`;
    if (reported.has(key)) return;
    reported.add(key);
    options.onCorrupt?.(c);
  };
  let lastSeq = 0;
  for await (const r of readEntries(files, {}, { onCorrupt })) {
    lastSeq = Math.max(lastSeq, r.entry.seq);
    if (count === 0) continue;
    last.push(r);
    if (last.length > count) last.shift();
  }
  return {
    files,
    last,
    async *follow(signal) {
      for await (const r of followEntries(path, { signal, fromStart: true, onCorrupt })) {
        if (r.entry.seq <= lastSeq) continue;
        lastSeq = r.entry.seq;
        yield r;
      }
    },
  };
}
