import { readSync } from 'node:fs';
import { type Hasher, splitLine } from './chain.js';
import { AuditCorruptTailError } from './errors.js';
import { GENESIS_HASH } from './schema.js';
import { isTornEntryPrefix } from './torn.js';

const TAIL_CHUNK = 64 * 1024;

/**
 * The chain head at the end of a log file of `size` bytes: the last complete entry's seq and
 * hash. If the file ends in an unterminated line, `tornAt` is where that line starts, but only
 * when it is the start (or the whole) of the next entry, i.e. a write that a crash cut short;
 * anything else there (text, random bytes, another seq) is tampering and throws
 * AUDIT_CORRUPT_TAIL rather than being cut off.
 */
export function readChainTail(
  fd: number,
  size: number,
  file: string,
  hash: Hasher,
): { seq: number; hash: string; tornAt?: number } {
  if (size === 0) return { seq: 0, hash: GENESIS_HASH };
  let chunk = TAIL_CHUNK;
  for (;;) {
    const start = Math.max(0, size - chunk);
    const buf = Buffer.allocUnsafe(size - start);
    readSync(fd, buf, 0, buf.length, start);
    // The unterminated part (if any) and the last complete line before it.
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl === -1 && start > 0) {
      chunk *= 2;
      continue;
    }
    const end = lastNl + 1; // end of the complete part, within buf
    const prevNl = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) : -1;
    if (end > 0 && prevNl === -1 && start > 0) {
      chunk *= 2;
      continue;
    }
    let head = { seq: 0, hash: GENESIS_HASH };
    if (end > 0) {
      const line = buf.toString('utf8', prevNl + 1, end - 1);
      let parsed: { seq?: unknown; hash?: unknown };
      try {
        parsed = JSON.parse(line) as { seq?: unknown; hash?: unknown };
      } catch {
        throw new AuditCorruptTailError(file, 'is not JSON');
      }
      if (
        typeof parsed.seq !== 'number' ||
        !Number.isInteger(parsed.seq) ||
        typeof parsed.hash !== 'string' ||
        !/^[0-9a-f]{64}$/.test(parsed.hash)
      ) {
        throw new AuditCorruptTailError(file, 'has no seq/hash');
      }
      head = { seq: parsed.seq, hash: parsed.hash };
    }
    if (end === buf.length) return head;
    const partial = buf.toString('utf8', end);
    if (!isTornAt(partial, head.seq + 1, head.hash, hash)) {
      throw new AuditCorruptTailError(
        file,
        `is followed by ${buf.length - end} bytes without a newline that are not the start of entry seq ${head.seq + 1} (not a crashed write; nothing was cut off)`,
      );
    }
    return { ...head, tornAt: start + end };
  }
}

/** A torn tail: a prefix of the next entry, or that whole entry without its newline. */
export function isTornAt(text: string, seq: number, prev: string, hash: Hasher): boolean {
  if (isTornEntryPrefix(text, seq, prev)) return true;
  const split = splitLine(text);
  if (split === undefined || hash(split.prefix) !== split.hash) return false;
  try {
    const e = JSON.parse(text) as { seq?: unknown; prev?: unknown };
    return e.seq === seq && e.prev === prev;
  } catch {
    return false;
  }
}
