import { createReadStream } from 'node:fs';
import type { AuditDecision, AuditOperation, SecurityProfile } from '@codex/security-profile';
import { fsp } from './fsp.js';
import { type AuditEntry, auditEntrySchema } from './schema.js';

export interface AuditFilter {
  /** Entries at or after this time (Date, ISO string or epoch ms). */
  readonly since?: Date | string | number;
  /** Entries before this time. */
  readonly until?: Date | string | number;
  readonly decision?: AuditDecision | readonly AuditDecision[];
  readonly operation?: AuditOperation | readonly AuditOperation[];
  readonly profile?: SecurityProfile | readonly SecurityProfile[];
  readonly session?: string | readonly string[];
  readonly task?: string | readonly string[];
}

export interface CorruptLine {
  readonly file: string;
  /** 1-based line number (0: the file itself could not be read). */
  readonly line: number;
  readonly kind: 'bad-json' | 'bad-entry' | 'torn-tail' | 'unreadable';
  readonly message: string;
}

export interface AuditRecord {
  readonly file: string;
  readonly line: number;
  readonly entry: AuditEntry;
}

export interface ReadOptions {
  /** Called for each corrupt line (also collected in `reader.corrupt`). */
  readonly onCorrupt?: (corrupt: CorruptLine) => void;
}

/** A compiled filter; also used by `followEntries` and `auditStats`. */
export function matcher(filter: AuditFilter = {}): (entry: AuditEntry) => boolean {
  const time = (v: Date | string | number | undefined) =>
    v === undefined ? undefined : new Date(v).getTime();
  const since = time(filter.since);
  const until = time(filter.until);
  const set = <T extends string>(v: T | readonly T[] | undefined) =>
    v === undefined ? undefined : new Set<string>(typeof v === 'string' ? [v] : v);
  const decisions = set(filter.decision);
  const operations = set(filter.operation);
  const profiles = set(filter.profile);
  const sessions = set(filter.session);
  const tasks = set(filter.task);
  return (e) => {
    if (since !== undefined || until !== undefined) {
      const t = Date.parse(e.timestamp);
      if (since !== undefined && t < since) return false;
      if (until !== undefined && t >= until) return false;
    }
    if (decisions && !decisions.has(e.decision)) return false;
    if (operations && !operations.has(e.operation)) return false;
    if (profiles && !profiles.has(e.profile)) return false;
    if (sessions && (e.session_id === null || !sessions.has(e.session_id))) return false;
    if (tasks && (e.task_id === null || !tasks.has(e.task_id))) return false;
    return true;
  };
}

/** Parses one line; returns the entry or what is wrong with it. */
export function parseEntryLine(
  text: string,
): { entry: AuditEntry } | { kind: 'bad-json' | 'bad-entry'; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'bad-json', message: text === '' ? 'empty line' : 'not JSON' };
  }
  const r = auditEntrySchema.safeParse(value);
  if (r.success) return { entry: r.data };
  const issue = r.error.issues[0];
  return {
    kind: 'bad-entry',
    message: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
  };
}

/**
 * Streams the entries of one file or of several (a rotated log, oldest first) that match
 * `filter`. Corrupt lines are reported (with file and line number) in `corrupt` and through
 * `onCorrupt`, and skipped; the stream itself never throws for bad content or a missing file.
 *
 *   const reader = readEntries('audit.jsonl', { decision: 'denied', since: '2026-01-01' });
 *   for await (const { entry, line } of reader) …
 *   reader.corrupt // [{ file, line, kind, message }]
 */
export function readEntries(
  files: string | readonly string[],
  filter: AuditFilter = {},
  options: ReadOptions = {},
): AuditReader {
  return new AuditReader(typeof files === 'string' ? [files] : files, filter, options);
}

export class AuditReader implements AsyncIterable<AuditRecord> {
  readonly corrupt: CorruptLine[] = [];
  /** Lines read (including corrupt ones). */
  lines = 0;
  private readonly match: (e: AuditEntry) => boolean;

  constructor(
    private readonly files: readonly string[],
    filter: AuditFilter,
    private readonly options: ReadOptions,
  ) {
    this.match = matcher(filter);
  }

  private report(c: CorruptLine): void {
    this.corrupt.push(c);
    try {
      this.options.onCorrupt?.(c);
    } catch {
      // A throwing callback must not break the stream either.
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AuditRecord> {
    for (const file of this.files) {
      let endsWithNewline = true;
      try {
        const { open, stat } = await fsp();
        const st = await stat(file);
        if (st.size > 0) {
          const fh = await open(file, 'r');
          try {
            const b = Buffer.alloc(1);
            await fh.read(b, 0, 1, st.size - 1);
            endsWithNewline = b[0] === 0x0a;
          } finally {
            await fh.close();
          }
        }
      } catch (error) {
        this.report({
          file,
          line: 0,
          kind: 'unreadable',
          message: `cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        });
        continue;
      }
      const stream = createReadStream(file, { encoding: 'utf8' });
      // Loaded here: a process that only writes entries (every `codex exec`) never needs readline.
      const { createInterface } = await import('node:readline');
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      let n = 0;
      let pendingBad: CorruptLine | undefined;
      try {
        for await (const text of rl) {
          if (pendingBad) this.report(pendingBad);
          pendingBad = undefined;
          n++;
          this.lines++;
          const r = parseEntryLine(text);
          if ('entry' in r) {
            if (this.match(r.entry)) yield { file, line: n, entry: r.entry };
          } else {
            // Held back one line: the last line of a file without a final newline is a torn tail.
            pendingBad = { file, line: n, kind: r.kind, message: r.message };
          }
        }
      } catch (error) {
        this.report({ file, line: n, kind: 'unreadable', message: `read failed (${String(error)})` });
      } finally {
        rl.close();
        stream.destroy();
      }
      if (pendingBad) {
        this.report(
          endsWithNewline
            ? pendingBad
            : {
                ...pendingBad,
                kind: 'torn-tail',
                message: 'last line is incomplete (a writer stopped mid-line)',
              },
        );
      }
    }
  }

  /** Collects every matching record. */
  async toArray(): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for await (const r of this) out.push(r);
    return out;
  }
}
