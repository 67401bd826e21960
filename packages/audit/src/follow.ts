import type { FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { fsp } from './fsp.js';
import { type AuditFilter, type AuditRecord, type CorruptLine, matcher, parseEntryLine } from './reader.js';

export interface FollowOptions {
  readonly filter?: AuditFilter;
  /** Start at the beginning of the file instead of its end. Default false. */
  readonly fromStart?: boolean;
  /** Poll interval (ms). Default 200. */
  readonly intervalMs?: number;
  /** Stops the iteration. */
  readonly signal?: AbortSignal;
  readonly onCorrupt?: (corrupt: CorruptLine) => void;
}

/**
 * Yields entries appended to `path` as they arrive (`tail -f`), by polling its size. Follows
 * rotation: when `path` is replaced, the rest of the old file is read, then the new file from its
 * start. A line is only yielded once its newline is there, so a line being written is never
 * reported as corrupt. Ends when `signal` aborts.
 */
export async function* followEntries(path: string, options: FollowOptions = {}): AsyncGenerator<AuditRecord> {
  const match = matcher(options.filter);
  const interval = options.intervalMs ?? 200;
  const signal = options.signal;
  let fh: FileHandle | undefined;
  let ino = -1;
  let offset = 0;
  let lineNo = 0;
  let rest = '';
  // Keeps a multi-byte character split across two reads intact.
  let decoder = new StringDecoder('utf8');
  const buf = Buffer.allocUnsafe(256 * 1024);

  const openCurrent = async (fromStart: boolean): Promise<void> => {
    try {
      fh = await (await fsp()).open(path, 'r');
    } catch {
      fh = undefined;
      return;
    }
    const st = await fh.stat();
    ino = st.ino;
    offset = 0;
    lineNo = 0;
    rest = '';
    decoder = new StringDecoder('utf8');
    if (!fromStart) {
      // Count the lines we skip so that reported line numbers stay true.
      while (offset < st.size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, st.size - offset), offset);
        if (bytesRead === 0) break;
        for (let i = 0; i < bytesRead; i++) if (buf[i] === 0x0a) lineNo++;
        offset += bytesRead;
      }
    }
  };

  async function* drainFile(): AsyncGenerator<AuditRecord> {
    if (fh === undefined) return;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      const text = rest + decoder.write(buf.subarray(0, bytesRead));
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        lineNo++;
        const r = parseEntryLine(part);
        if ('entry' in r) {
          if (match(r.entry)) yield { file: path, line: lineNo, entry: r.entry };
        } else {
          options.onCorrupt?.({ file: path, line: lineNo, kind: r.kind, message: r.message });
        }
      }
    }
  }

  // One abort listener for the whole follow (not one per poll: that leaked listeners and
  // triggered MaxListenersExceededWarning after a few seconds), removed when the follow ends.
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    clearTimeout(timer);
    wake?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  await openCurrent(options.fromStart === true);
  try {
    while (!signal?.aborted) {
      yield* drainFile();
      let st: { ino: number; size: number } | undefined;
      try {
        st = await (await fsp()).stat(path);
      } catch {
        st = undefined;
      }
      if (st !== undefined && (fh === undefined || st.ino !== ino)) {
        // Rotated or created: finish the old file, then read the new one from its start.
        if (fh !== undefined) {
          yield* drainFile();
          await fh.close();
        }
        await openCurrent(true);
        continue;
      }
      if (st !== undefined && st.size < offset) {
        // Truncated in place (a torn tail cut off by a writer): re-read from the new end.
        offset = st.size;
        rest = '';
        decoder = new StringDecoder('utf8');
      }
      if (signal?.aborted) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, interval);
      });
      wake = undefined;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await fh?.close();
  }
}
