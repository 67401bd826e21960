/**
 * `@codex/egress/relay`: joins two byte streams in both directions, as the egress proxy's tunnels
 * (CONNECT, SOCKS5) do. Node-only and free of dependencies, so that a small process can carry it
 * without the proxy. (The in-sandbox bridge is the sandbox helper's `--forward`, in C.)
 *
 * What it adds to two `pipe()` calls is how the pair ends. An error on either side takes both
 * down at once, as does a side that closes without having ended (a reset). A side that closes after
 * a clean end has handed its last bytes to `pipe()`, which ends the other side once they are
 * written out; destroying the other side at that moment would drop whatever is still queued for it
 * (the end of a download to a reader slower than the server). So that side is destroyed once its
 * writes are flushed (`finish`), or after `idleTimeoutMs` if its reader stalls.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** How long a side left to flush may wait for its reader, by default (5 minutes). */
export const RELAY_FLUSH_TIMEOUT_MS = 300_000;

/** The buffer one forwarded read may fill (see {@link readForwarder}). */
export const RELAY_READ_BUFFER_BYTES = 1024 * 1024;

export interface RelayOptions {
  /** How long a side left to flush after its peer closed may stall before it is destroyed. */
  readonly idleTimeoutMs?: number;
  /** `b` was created with this forwarder's `onread`: b → a goes through it instead of `pipe()`. */
  readonly reads?: ReadForwarder;
}

/**
 * Reads of one socket, forwarded without a buffer per read. Give `onread` to `net.connect` (or
 * `new net.Socket`): the socket then reads into one reused buffer of up to 1 MiB instead of a new
 * 64 KiB one each time, and once attached each read is written to the other side straight from
 * that buffer, the next read waiting until that write is done. A bulk download through the proxy
 * then costs about half the CPU of `pipe()` (bench/egress.bench.mjs; measured 41-64 against
 * 81-95 ms of proxy CPU per 100 MB), which on two cores is throughput.
 */
export interface ReadForwarder {
  readonly onread: { readonly buffer: Buffer; readonly callback: (bytes: number, buffer: Buffer) => boolean };
  /** Writes what `source` read so far to `to`, and from now on every read. */
  attach(source: Duplex, to: Duplex): void;
}

export function readForwarder(size = RELAY_READ_BUFFER_BYTES): ReadForwarder {
  const buffer = Buffer.allocUnsafe(size);
  let route: { source: Duplex; to: Duplex } | null = null;
  const early: Buffer[] = [];
  let earlyBytes = 0;
  return {
    onread: {
      buffer,
      callback(bytes, into) {
        if (route === null) {
          // Not joined yet (a server that speaks first): keep a copy, the buffer is reused; stop
          // reading once a buffer's worth is kept (attach resumes).
          early.push(Buffer.from(into.subarray(0, bytes)));
          earlyBytes += bytes;
          return earlyBytes < size;
        }
        const { source, to } = route;
        to.write(into.subarray(0, bytes), (error) => {
          if (!error) source.resume();
        });
        return false; // pauses the source until that write is done: the buffer is in use
      },
    },
    attach(source, to) {
      route = { source, to };
      for (const chunk of early.splice(0)) to.write(chunk);
    },
  };
}

/** Pipes `a` into `b` and `b` into `a`, and ends the pair as described above. */
export function relay(a: Duplex, b: Duplex, options: RelayOptions = {}): void {
  const idle = options.idleTimeoutMs ?? RELAY_FLUSH_TIMEOUT_MS;
  const both = () => {
    a.destroy();
    b.destroy();
  };
  const follow = (closed: Duplex, other: Duplex) => () => {
    if (!closed.readableEnded || other.writableFinished || other.destroyed) {
      other.destroy();
      return;
    }
    other.once('finish', () => other.destroy());
    (other as Partial<Socket>).setTimeout?.(idle, () => other.destroy());
  };
  a.on('error', both);
  b.on('error', both);
  a.on('close', follow(a, b));
  b.on('close', follow(b, a));
  a.pipe(b);
  if (options.reads) {
    options.reads.attach(b, a);
    // What pipe() would do at the end: end the other side once its writes are out.
    b.once('end', () => a.end());
    b.resume();
  } else b.pipe(a);
}
