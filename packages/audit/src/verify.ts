import { readFile } from 'node:fs/promises';
import { createHasher, keyBytes, splitLine } from './chain.js';
import { type AuditEntry, auditEntrySchema, GENESIS_HASH } from './schema.js';

/**
 * What went wrong, at the first broken line:
 * - `edited`: the line's content no longer matches its hash, or (unkeyed chain, hash recomputed)
 *   no longer matches the hash its successor recorded in `prev`.
 * - `deleted`: entries are missing before this line (sequence gap, no later line fills it).
 * - `reordered`: this line comes too early; the expected entry appears later.
 * - `inserted`: this line does not belong: its successor links straight to its predecessor, or it
 *   repeats an earlier sequence number.
 * - `truncated`: a line cut short in the middle of the log, or a rotated file whose end is missing.
 * - `bad-json`: a line that is not JSON (not a truncated entry either).
 * - `bad-entry`: JSON that is not an audit entry of a known version.
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
  | 'unkeyed'
  | 'unreadable';

export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  readonly file: string;
  /** 1-based line number in `file` (0 for a file-level problem). */
  readonly line: number;
  readonly seq?: number;
  readonly message: string;
}

export interface TornTail {
  readonly file: string;
  readonly line: number;
  readonly bytes: number;
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
  readonly anchor?: { readonly seq: number; readonly hash: string };
}

interface Line {
  readonly file: string;
  readonly fileIndex: number;
  readonly line: number;
  readonly text: string;
  /** Last line of the last file, with no newline after it. */
  readonly unterminated: boolean;
  parsed?: Parsed;
}

type Parsed =
  | { ok: false; kind: 'bad-json' | 'bad-entry' | 'truncated'; message: string }
  | { ok: true; entry: AuditEntry; hashOk: boolean };

/**
 * Verifies a log: one file, or the files of a rotated log oldest first (see `logFiles`). The
 * chain must run unbroken across files. Reports the first problem with its file and line.
 */
export async function verify(
  files: string | readonly string[],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const list = typeof files === 'string' ? [files] : [...files];
  const key = keyBytes(options.hmacKey);
  const { hash, algorithm } = createHasher(key);
  const lines: Line[] = [];
  for (const [fileIndex, file] of list.entries()) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return result(list, 0, undefined, {
        kind: 'unreadable',
        file,
        line: 0,
        message: `cannot read ${file} (${code})`,
      });
    }
    const parts = text.split('\n');
    const terminated = parts[parts.length - 1] === '';
    if (terminated) parts.pop();
    const lastFile = fileIndex === list.length - 1;
    for (let i = 0; i < parts.length; i++) {
      lines.push({
        file,
        fileIndex,
        line: i + 1,
        text: parts[i]!,
        unterminated: lastFile && !terminated && i === parts.length - 1,
      });
    }
  }

  const parse = (l: Line): Parsed => {
    if (l.parsed) return l.parsed;
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
  const entryAt = (i: number): AuditEntry | undefined => {
    const l = lines[i];
    if (l === undefined) return undefined;
    const p = parse(l);
    return p.ok ? p.entry : undefined;
  };
  const linked = (i: number, seq: number, prev: string): boolean => {
    const l = lines[i];
    if (l === undefined) return false;
    const p = parse(l);
    return p.ok && p.hashOk && p.entry.seq === seq && p.entry.prev === prev;
  };

  let expectedSeq: number | undefined;
  let expectedPrev = GENESIS_HASH;
  let good = 0;
  let firstSeq: number | undefined;
  let chain: VerifyResult['chain'];
  const at = (l: Line, kind: VerifyProblemKind, message: string, seq?: number): VerifyProblem => ({
    kind,
    file: l.file,
    line: l.line,
    ...(seq === undefined ? {} : { seq }),
    message,
  });
  const done = (problem?: VerifyProblem, tornTail?: TornTail): VerifyResult =>
    result(
      list,
      good,
      {
        firstSeq,
        lastSeq: expectedSeq === undefined ? undefined : expectedSeq - 1,
        lastHash: expectedPrev,
        chain,
      },
      problem,
      tornTail,
    );

  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const p = parse(l);
    if (!p.ok) {
      if (l.unterminated)
        return done(undefined, { file: l.file, line: l.line, bytes: Buffer.byteLength(l.text) });
      return done(at(l, p.kind, p.message));
    }
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
    if (
      fits &&
      options.anchor !== undefined &&
      e.seq === options.anchor.seq &&
      e.hash !== options.anchor.hash
    ) {
      return done(at(l, 'edited', `entry seq ${e.seq} is not the one recorded in the anchor`, e.seq));
    }
    if (fits) {
      expectedSeq++;
      expectedPrev = e.hash;
      good++;
      continue;
    }
    // The next line continues from the previous one: this line does not belong here. A genuine
    // entry whose seq occurs nowhere else was moved (reordered); anything else was inserted.
    if (linked(i + 1, expectedSeq, expectedPrev)) {
      const moved =
        p.hashOk && e.seq > expectedSeq && !lines.some((_, j) => j !== i && entryAt(j)?.seq === e.seq);
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
      const prevLine = lines[i - 1];
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
      const before = entryAt(i - 1);
      if (before && before.seq === e.seq && before.prev === e.prev && linked(i + 1, e.seq + 1, e.hash)) {
        return done(
          at(
            lines[i - 1]!,
            'inserted',
            `line does not belong: line ${l.line + 1} links to the line after it`,
            e.seq,
          ),
        );
      }
      return done(at(l, 'inserted', `sequence goes back: seq ${e.seq} after seq ${expectedSeq - 1}`, e.seq));
    }
    // e.seq > expectedSeq: something is missing here, or comes later.
    for (let j = i + 1; j < lines.length; j++) {
      if (entryAt(j)?.seq === expectedSeq) {
        return done(
          at(
            l,
            'reordered',
            `out of order: seq ${e.seq} comes before seq ${expectedSeq} (line ${lines[j]!.line})`,
            e.seq,
          ),
        );
      }
    }
    const prevLine = lines[i - 1];
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
  const lastSeq = expectedSeq === undefined ? 0 : expectedSeq - 1;
  if (options.anchor !== undefined && lastSeq < options.anchor.seq) {
    const last = lines.filter((l) => !l.unterminated).at(-1);
    const file = last?.file ?? list.at(-1) ?? '';
    const line = last === undefined || last.file !== list.at(-1) ? 1 : last.line + 1;
    return done({
      kind: 'truncated',
      file,
      line,
      seq: lastSeq + 1,
      message: `the log ends at seq ${lastSeq}, but the anchor says seq ${options.anchor.seq} was written: the end is missing`,
    });
  }
  return done();
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
  return out;
}
