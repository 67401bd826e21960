import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface DialOptions {
  /** Stream buffer size (honoured by net.connect on Node >= 18.17, though @types/node omits it). */
  readonly highWaterMark: number;
  /** The socket reads into this buffer (see `net.connect`'s `onread`). */
  readonly onread: net.OnReadOpts;
  readonly connectTimeoutMs: number;
  /** Once connected, a socket silent this long is destroyed. */
  readonly idleTimeoutMs: number;
  /** Every socket opened is given here (the proxy destroys them all when it closes). */
  readonly track: (socket: Duplex) => void;
}

/**
 * A connection to an upstream's pinned address, as the proxy's tunnels and its plain-HTTP
 * forwarder make them: no Nagle delay, the relay's buffer size, a connect timeout, then an idle
 * timeout. `connected` is true once connected, false if it failed, timed out or closed first;
 * the socket is destroyed on any error.
 */
export function dialPinned(
  address: string,
  port: number,
  o: DialOptions,
): { readonly socket: net.Socket; readonly connected: Promise<boolean> } {
  const options: net.TcpNetConnectOpts & { highWaterMark: number } = {
    host: address,
    port,
    noDelay: true,
    highWaterMark: o.highWaterMark,
    onread: o.onread,
  };
  const socket = net.connect(options);
  o.track(socket);
  const connected = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), o.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setTimeout(o.idleTimeoutMs, () => socket.destroy());
      resolve(true);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  socket.on('error', () => socket.destroy());
  return { socket, connected };
}
