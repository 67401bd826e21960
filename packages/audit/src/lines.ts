import type { FileHandle } from 'node:fs/promises';
import { fsp } from './fsp.js';

/** One line of a log file, read by {@link readLines}. */
export interface RawLine {
  readonly file: string;
  readonly fileIndex: number;
  /** 1-based line number. */
  readonly line: number;
  /** The line without its newline (empty when `tooLong`). */
  readonly text: string;
  /** UTF-8 length of the line. */
  readonly bytes: number;
  /** Last line of the last file, with no newline after it. */
  readonly unterminated: boolean;
  /** Longer than the limit: its text was not kept. */
  readonly tooLong: boolean;
}

export interface UnreadableFile {
  readonly unreadable: true;
  readonly file: string;
  readonly code: string;
}

/** Longest line kept in memory; a longer one is reported, never buffered. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/**
 * Streams the lines of one or more files (oldest first) in bounded memory: one chunk plus at
 * most one line of `maxLineBytes` is held at a time, whatever the file size.
 */
export async function* readLines(
  files: readonly string[],
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<RawLine | UnreadableFile> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (const [fileIndex, file] of files.entries()) {
    let fh: FileHandle;
    try {
      fh = await (await fsp()).open(file, 'r');
    } catch (error) {
      yield { unreadable: true, file, code: (error as NodeJS.ErrnoException).code ?? String(error) };
      return;
    }
    const lastFile = fileIndex === files.length - 1;
    let parts: Buffer[] = [];
    let partLen = 0;
    let tooLong = false;
    let lineNo = 0;
    const take = (tail: Buffer): RawLine => {
      lineNo++;
      const bytes = partLen + tail.length;
      const over = tooLong || bytes > maxLineBytes;
      const text = over ? '' : (partLen === 0 ? tail : Buffer.concat([...parts, tail])).toString('utf8');
      parts = [];
      partLen = 0;
      tooLong = false;
      return { file, fileIndex, line: lineNo, text, bytes, unterminated: false, tooLong: over };
    };
    try {
      for (;;) {
        let n: number;
        try {
          ({ bytesRead: n } = await fh.read(buf, 0, CHUNK, null));
        } catch (error) {
          yield { unreadable: true, file, code: (error as NodeJS.ErrnoException).code ?? String(error) };
          return;
        }
        if (n === 0) break;
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(0x0a, start);
          if (nl === -1 || nl >= n) break;
          yield take(buf.subarray(start, nl));
          start = nl + 1;
        }
        if (start < n) {
          const rest = buf.subarray(start, n);
          if (tooLong || partLen + rest.length > maxLineBytes) {
            tooLong = true;
            partLen += rest.length;
            parts = [];
          } else {
            parts.push(Buffer.from(rest)); // copied: buf is reused by the next read
            partLen += rest.length;
          }
        }
      }
      if (partLen > 0) {
        const l = take(Buffer.alloc(0));
        yield { ...l, unterminated: lastFile };
      }
    } finally {
      await fh.close();
    }
  }
}
