import { createHasher, keyBytes, splitLine } from './chain.js';
import { type RawLine, readLines } from './lines.js';
import { type AuditEntry, auditEntrySchema, GENESIS_HASH } from './schema.js';
import { isTornEntryPrefix } from './torn.js';

/**
 * What went wrong, at the first broken line:
 * - `edited`: the line's content no longer matches its hash, or (unkeyed chain, hash recomputed)
 *   no longer matches the hash its successor recorded in `prev`, or the entry at a signed
 *   checkpoint's seq is not the one the checkpoint recorded.
 * - `deleted`: entries are missing before this line (sequence gap, no later line fills it).
 * - `reordered`: this line comes too early; the expected entry appears later.
 * - `inserted`: this line does not belong: its successor links straight to its predecessor, or it
 *   repeats an earlier sequence number.
 * - `truncated`: a line cut short in the middle of the log, a rotated file whose end is missing,
 *   or a log that ends before the seq its latest checkpoint (or anchor) recorded.
 * - `bad-json`: a line that is not JSON (not a truncated entry either), or longer than 16 MiB.
 * - `bad-entry`: JSON that is not an audit entry of a known version.
 * - `bad-tail`: an unterminated last line that is not the start of the next entry (plain text,
 *   random bytes, another seq): tampering, not a crashed writer.
 * - `unkeyed`: a key was given but the line is not HMAC-chained (or the other way round).
 * - `unreadable`: a file could not be read.
 */
export type VerifyProblemKind =
  | 'edited'
  | 'deleted'
  | 'reordered'
  | 'inserted'
  | 'truncated'
  | 'bad-json'
  | 'bad-entry'
  | 'bad-tail'
  | 'unkeyed'
  | 'unreadable';

export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  readonly file: string;
  /** 1-based line number in `file` (0 for a file-level problem). */
  readonly line: number;
  readonly seq?: number;
  readonly message: string;
  /** The problem lies at or before the latest checkpoint's seq: a signed state was changed. */
  readonly beforeCheckpoint?: boolean;
}

export interface TornTail {
  readonly file: string;
  readonly line: number;
  readonly bytes: number;
}

/** A chain head recorded elsewhere: `logger.head`, or a verified signed checkpoint. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export interface VerifyResult {
  /** No problem and no torn tail. */
  readonly ok: boolean;
  /** No tampering: `ok`, or only a torn final line (a crashed writer), which is not tampering. */
  readonly intact: boolean;
  readonly status: 'ok' | 'torn-tail' | 'tampered';
  readonly files: readonly string[];
  /** Entries checked and found good before the first problem (all of them when intact). */
  readonly entries: number;
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  readonly lastHash?: string;
  readonly chain?: 'sha256' | 'hmac-sha256';
  readonly problem?: VerifyProblem;
  readonly tornTail?: TornTail;
  /** Checkpoints (and anchor) the entries were checked against; the latest one's seq. */
  readonly checkpoints?: { readonly count: number; readonly latestSeq: number };
}

export interface VerifyOptions {
  /** Key of an HMAC chain. With a key, every line must be HMAC-chained with it. */
  readonly hmacKey?: string | Uint8Array;
  /**
   * Accept a log that starts after seq 1 (a suffix, e.g. only the live file after rotation).
   * Its first line is then taken on trust as the anchor. Default `false`: the log must start at
   * seq 1 with the genesis link.
   */
  readonly partial?: boolean;
  /**
   * A head recorded elsewhere (e.g. `logger.head` saved at shutdown, or sent to another system).
   * The chain alone cannot see lines removed from the *end* of the newest file; with an anchor,
   * a log that ends before `seq` is `truncated`, and a different entry at `seq` is `edited`.
   */
  readonly anchor?: ChainHead;
  /**
   * Heads from verified signed checkpoints (see `readCheckpoints`): like `anchor`, each entry at
   * a checkpoint's seq must be the one it recorded, and the log must reach the latest one.
   */
  readonly checkpoints?: readonly ChainHead[];
}

type Parsed =
  | { ok: false; kind: 'bad-json' | 'bad-entry' | 'truncated'; message: string }
  | { ok: true; entry: AuditEntry; hashOk: boolean };

interface Line extends RawLine {
  parsed?: Parsed;
}

/**
 * Verifies a log: one file, or the files of a rotated log oldest first (see `logFiles`). The
 * chain must run unbroken across files. Reports the first problem with its file and line.
 *
 * Streams: memory stays bounded (one read chunk, the current and the next line) whatever the
 * size of the log. Only when a problem is found are the files read again, to name it precisely.
 */
export async function verify(
  files: string | readonly string[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const list = typeof files === 'string' ? [files] : [...files];
  const key = keyBytes(options.hmacKey);
  const { hash, algorithm } = createHasher(key);
  const heads = new Map<number, string>();
  for (const h of [...(options.checkpoints ?? []), ...(options.anchor ? [options.anchor] : [])])
    heads.set(h.seq, h.hash);
  const latestHead = heads.size === 0 ? 0 : Math.max(...heads.keys());

  const parse = (l: Line): Parsed => {
    if (l.parsed) return l.parsed;
    if (l.tooLong) {
      l.parsed = { ok: false, kind: 'bad-json', message: `line is longer than 16 MiB (${l.bytes} bytes)` };
      return l.parsed;
    }
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch {
      l.parsed = /^\{"v":\d/.test(l.text)
        ? { ok: false, kind: 'truncated', message: 'line is cut short (not complete JSON)' }
        : { ok: false, kind: 'bad-json', message: l.text === '' ? 'empty line' : 'not JSON' };
      return l.parsed;
    }
    const r = auditEntrySchema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      l.parsed = {
        ok: false,
        kind: 'bad-entry',
        message: `not an audit entry: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      };
      return l.parsed;
    }
    const split = splitLine(l.text);
    l.parsed = {
      ok: true,
      entry: r.data,
      hashOk: split !== undefined && r.data.chain === algorithm && hash(split.prefix) === split.hash,
    };
    return l.parsed;
  };
  const entryOf = (l: Line | undefined): AuditEntry | undefined => {
    if (l === undefined) return undefined;
    const p = parse(l);
    return p.ok ? p.entry : undefined;
  };
  const linked = (l: Line | undefined, seq: number, prev: string): boolean => {
    if (l === undefined) return false;
    const p = parse(l);
    return p.ok && p.hashOk && p.entry.seq === seq && p.entry.prev === prev;
  };
  /** Second pass, only on a problem: where else does an entry with `seq` occur? */
  const findSeq = async (seq: number, where: (l: RawLine) => boolean): Promise<RawLine | undefined> => {
    const head = `"seq":${seq},`;
    for await (const l of readLines(list)) {
      if ('unreadable' in l) return undefined;
      if (!where(l) || !l.text.includes(head)) continue;
      if (entryOf({ ...l })?.seq === seq) return l;
    }
    return undefined;
  };
  const before = (a: RawLine, b: RawLine) =>
    a.fileIndex < b.fileIndex || (a.fileIndex === b.fileIndex && a.line < b.line);

  let expectedSeq: number | undefined;
  let expectedPrev = GENESIS_HASH;
  let good = 0;
  let firstSeq: number | undefined;
  let chain: VerifyResult['chain'];
  const at = (l: RawLine, kind: VerifyProblemKind, message: string, seq?: number): VerifyProblem => ({
    kind,
    file: l.file,
    line: l.line,
    ...(seq === undefined ? {} : { seq }),
    message,
  });
  const done = (problem?: VerifyProblem, tornTail?: TornTail): VerifyResult => {
    const p =
      problem && latestHead > 0 && problem.kind !== 'unreadable'
        ? { ...problem, beforeCheckpoint: Math.min(problem.seq ?? Infinity, expectedSeq ?? 1) <= latestHead }
        : problem;
    return result(
      list,
      good,
      {
        firstSeq,
        lastSeq: expectedSeq === undefined ? undefined : expectedSeq - 1,
        lastHash: expectedPrev,
        chain,
      },
      p,
      tornTail,
      heads.size > 0 ? { count: heads.size, latestSeq: latestHead } : undefined,
    );
  };

  const source = readLines(list)[Symbol.asyncIterator]();
  let unreadable: VerifyProblem | undefined;
  const next = async (): Promise<Line | undefined> => {
    if (unreadable) return undefined;
    const r = await source.next();
    if (r.done) return undefined;
    if ('unreadable' in r.value) {
      unreadable = {
        kind: 'unreadable',
        file: r.value.file,
        line: 0,
        message: `cannot read ${r.value.file} (${r.value.code})`,
      };
      return undefined;
    }
    return { ...r.value };
  };
  let prevLine: Line | undefined;
  let cur = await next();
  let nxt = cur === undefined ? undefined : await next();
  let lastComplete: Line | undefined;
  try {
    for (; cur !== undefined; prevLine = cur, cur = nxt, nxt = cur === undefined ? undefined : await next()) {
      const l = cur;
      if (!l.unterminated) lastComplete = l;
      if (l.unterminated) {
        // The last line has no newline: a crashed writer's torn tail only if it is the start of
        // the next entry; a whole line without its newline counts if it is exactly that entry.
        const seq =
          expectedSeq ?? (options.partial ? Number(/^\{"v":1,"seq":(\d+),/.exec(l.text)?.[1] ?? 1) : 1);
        const p = parse(l);
        const whole =
          p.ok &&
          p.hashOk &&
          p.entry.seq === seq &&
          (expectedSeq === undefined || p.entry.prev === expectedPrev);
        if (
          !l.tooLong &&
          (whole || isTornEntryPrefix(l.text, seq, expectedSeq === undefined ? '' : expectedPrev))
        )
          return finish(l);
        return done(
          at(
            l,
            'bad-tail',
            `the last line (${l.bytes} bytes, no newline) is not the start of entry seq ${seq}: not a crashed write`,
          ),
        );
      }
      const p = parse(l);
      if (!p.ok) return done(at(l, p.kind, p.message));
      const e = p.entry;
      if (expectedSeq === undefined) {
        firstSeq = e.seq;
        chain = e.chain;
        if (e.seq === 1 || !options.partial) {
          expectedSeq = 1;
          expectedPrev = GENESIS_HASH;
        } else {
          expectedSeq = e.seq;
          expectedPrev = e.prev;
        }
      }
      if (e.chain !== algorithm) {
        return done(
          at(
            l,
            'unkeyed',
            key
              ? `entry is chained with ${e.chain}, but a key was given (expected hmac-sha256)`
              : 'entry is HMAC-chained: pass the key (codex audit verify --key-env NAME)',
            e.seq,
          ),
        );
      }
      const fits = p.hashOk && e.seq === expectedSeq && e.prev === expectedPrev;
      if (fits && heads.has(e.seq) && heads.get(e.seq) !== e.hash) {
        return done(
          at(l, 'edited', `entry seq ${e.seq} is not the one its signed checkpoint recorded`, e.seq),
        );
      }
      if (fits) {
        expectedSeq++;
        expectedPrev = e.hash;
        good++;
        continue;
      }
      // The next line continues from the previous one: this line does not belong here. A genuine
      // entry whose seq occurs nowhere else was moved (reordered); anything else was inserted.
      if (linked(nxt, expectedSeq, expectedPrev)) {
        const moved =
          p.hashOk &&
          e.seq > expectedSeq &&
          (await findSeq(e.seq, (o) => o.fileIndex !== l.fileIndex || o.line !== l.line)) === undefined;
        return done(
          moved
            ? at(l, 'reordered', `out of order: seq ${e.seq} comes before seq ${expectedSeq}`, e.seq)
            : at(
                l,
                'inserted',
                'line does not belong: the next line continues the chain from the line before',
                e.seq,
              ),
        );
      }
      if (!p.hashOk) {
        return done(at(l, 'edited', `content does not match its hash (seq ${e.seq})`, e.seq));
      }
      if (e.seq === expectedSeq) {
        if (good === 0 || prevLine === undefined) {
          return done(
            at(
              l,
              expectedSeq === 1 ? 'edited' : 'deleted',
              expectedSeq === 1
                ? 'first entry does not start from the genesis hash'
                : `first entry does not link to seq ${expectedSeq - 1}`,
              e.seq,
            ),
          );
        }
        if (prevLine.fileIndex !== l.fileIndex) {
          return done(
            at(
              l,
              'truncated',
              `first entry of this file does not link to the last entry of ${prevLine.file}`,
              e.seq,
            ),
          );
        }
        return done(
          at(
            prevLine,
            'edited',
            `line was changed: its hash is not the one line ${l.line} recorded`,
            e.seq - 1,
          ),
        );
      }
      if (e.seq < expectedSeq) {
        // Two lines claim the same place; the one the next line links to is genuine.
        const b = entryOf(prevLine);
        if (prevLine && b && b.seq === e.seq && b.prev === e.prev && linked(nxt, e.seq + 1, e.hash)) {
          return done(
            at(
              prevLine,
              'inserted',
              `line does not belong: line ${l.line + 1} links to the line after it`,
              e.seq,
            ),
          );
        }
        return done(
          at(l, 'inserted', `sequence goes back: seq ${e.seq} after seq ${expectedSeq - 1}`, e.seq),
        );
      }
      // e.seq > expectedSeq: something is missing here, or comes later.
      const later = await findSeq(expectedSeq, (o) => before(l, o));
      if (later !== undefined) {
        return done(
          at(
            l,
            'reordered',
            `out of order: seq ${e.seq} comes before seq ${expectedSeq} (line ${later.line})`,
            e.seq,
          ),
        );
      }
      if (prevLine !== undefined && prevLine.fileIndex !== l.fileIndex) {
        return done(
          at(
            l,
            'truncated',
            `${prevLine.file} ends at seq ${expectedSeq - 1} but this file starts at seq ${e.seq}: the end of the previous file is missing`,
            e.seq,
          ),
        );
      }
      const missing =
        e.seq - expectedSeq === 1 ? `seq ${expectedSeq} is` : `seq ${expectedSeq}..${e.seq - 1} are`;
      return done(at(l, 'deleted', `${missing} missing before this line`, e.seq));
    }
    return finish(undefined);
  } finally {
    await source.return?.(undefined);
  }

  function finish(torn: Line | undefined): VerifyResult {
    if (unreadable) return result(list, 0, undefined, unreadable);
    const lastSeq = expectedSeq === undefined ? 0 : expectedSeq - 1;
    if (latestHead > lastSeq) {
      const file = lastComplete?.file ?? list.at(-1) ?? '';
      const line =
        lastComplete === undefined || lastComplete.file !== list.at(-1) ? 1 : lastComplete.line + 1;
      return done({
        kind: 'truncated',
        file,
        line,
        seq: lastSeq + 1,
        message: `the log ends at seq ${lastSeq}, but a signed checkpoint (or anchor) says seq ${latestHead} was written: the end is missing`,
      });
    }
    return done(undefined, torn ? { file: torn.file, line: torn.line, bytes: torn.bytes } : undefined);
  }
}

function result(
  files: readonly string[],
  entries: number,
  chainInfo:
    | {
        firstSeq?: number | undefined;
        lastSeq?: number | undefined;
        lastHash?: string;
        chain?: VerifyResult['chain'];
      }
    | undefined,
  problem?: VerifyProblem,
  tornTail?: TornTail,
  checkpoints?: VerifyResult['checkpoints'],
): VerifyResult {
  const status = problem ? 'tampered' : tornTail ? 'torn-tail' : 'ok';
  const out: { -readonly [K in keyof VerifyResult]: VerifyResult[K] } = {
    ok: status === 'ok',
    intact: status !== 'tampered',
    status,
    files,
    entries,
  };
  if (chainInfo?.firstSeq !== undefined) out.firstSeq = chainInfo.firstSeq;
  if (chainInfo?.lastSeq !== undefined && entries > 0) {
    out.lastSeq = chainInfo.lastSeq;
    if (chainInfo.lastHash !== undefined) out.lastHash = chainInfo.lastHash;
  }
  if (chainInfo?.chain !== undefined) out.chain = chainInfo.chain;
  if (problem) out.problem = problem;
  if (tornTail) out.tornTail = tornTail;
  if (checkpoints) out.checkpoints = checkpoints;
  return out;
}
