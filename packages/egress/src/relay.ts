/**
 * `@codex/egress/relay`: joins two byte streams in both directions, as the egress proxy's tunnels
 * (CONNECT, SOCKS5) and the in-sandbox bridge do. Node-only and free of dependencies, so that a
 * small process (the bridge) can carry it without the proxy.
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

export interface RelayOptions {
  /** How long a side left to flush after its peer closed may stall before it is destroyed. */
  readonly idleTimeoutMs?: number;
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
  b.pipe(a);
}
