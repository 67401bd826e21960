/**
 * Plain-HTTP requests forwarded to their pinned upstream address over connections of the proxy's
 * own, kept alive between requests, and the response passed back without copying its body.
 *
 * Each upstream socket reads into one reused buffer (`onread`); a body read is written to the
 * client straight from it, and the socket reads again once that write is done, as the tunnels do
 * (relay.ts). The response is read by http-message.ts and its head rebuilt by node's
 * ServerResponse, which also frames the body for the client (Content-Length, or chunked when the
 * length is not known).
 */
import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { type DialOptions, dialPinned } from './dial.js';
import { MalformedResponseError } from './errors.js';
import {
  type BodyFraming,
  bodyFraming,
  ChunkedDecoder,
  findHeadEnd,
  forwardHeaders,
  keepsAlive,
  parseResponseHead,
} from './http-message.js';

/** How upstream connections are made (`idleTimeoutMs` also ends an exchange gone silent). */
export interface HttpForwarderOptions extends Omit<DialOptions, 'onread'> {
  /** Default {@link MAX_CONNECTIONS_PER_ORIGIN}. */
  readonly maxConnectionsPerOrigin?: number;
}

/** One request, already decided: where to send it and what to send. */
export interface ForwardedRequest {
  readonly address: string;
  readonly port: number;
  readonly method: string;
  /** Origin-form target (`/path?query`). */
  readonly path: string;
  /** The fields to send, hop-by-hop ones removed and Host set. */
  readonly headers: readonly (readonly [string, string])[];
  /** For error messages: the host as the client named it. */
  readonly label: string;
}

export interface HttpForwarder {
  /**
   * Sends `req`'s request (head from `request`, body from `req`) and answers `res` with the
   * response. `fail` answers instead when no response head could be read (status, message).
   */
  forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: ForwardedRequest,
    fail: (status: number, text: string) => void,
  ): void;
}

/** Bytes each upstream socket reads at once into its reused buffer. */
export const UPSTREAM_READ_BYTES = 256 * 1024;
/** Largest response head accepted (status line and fields). */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
/** An idle upstream connection is kept this long, below the common 5 s server keep-alive. */
const POOL_IDLE_MS = 4_000;
const POOL_MAX_IDLE_PER_ORIGIN = 8;
/** Interim (1xx) responses accepted before the final one. */
const MAX_INTERIM_RESPONSES = 16;
/** Upstream connections open at once to one address and port, by default; more requests wait. */
export const MAX_CONNECTIONS_PER_ORIGIN = 64;
/** Methods a request of which may be sent again when a kept connection drops it unanswered. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** An upstream connection; the exchange using it sets the two handlers. */
interface Conn {
  readonly key: string;
  readonly socket: net.Socket;
  /** The bytes of one read, a view of the socket's reused buffer; false pauses reading. */
  onBytes: ((data: Buffer) => boolean) | null;
  /** The upstream ended ('end') or the socket closed ('close'). */
  onGone: ((how: 'end' | 'close') => void) | null;
  /** It carried an earlier exchange (a server may have closed it meanwhile). */
  reused: boolean;
}

export function createHttpForwarder(options: HttpForwarderOptions): HttpForwarder {
  const idle = new Map<string, Conn[]>();
  // Connections open per origin, and requests waiting for one to close or come free: a client
  // that pipelines (or opens) many requests at once cannot open as many upstream connections,
  // each with its read buffer.
  const maxOpen = options.maxConnectionsPerOrigin ?? MAX_CONNECTIONS_PER_ORIGIN;
  const open = new Map<string, number>();
  const waiting = new Map<string, (() => void)[]>();
  const wake = (key: string) => {
    const queue = waiting.get(key);
    const next = queue?.shift();
    if (queue?.length === 0) waiting.delete(key);
    next?.();
  };
  // Exchanges to end when their client's connection closes, by that connection. A response queued
  // behind another on a pipelining connection gets no 'close' of its own when the client goes.
  const clients = new WeakMap<Duplex, Set<() => void>>();

  /** Calls `gone` when `client` closes, until the returned function is called. */
  function watchClient(client: Duplex, gone: () => void): () => void {
    let watchers = clients.get(client);
    if (watchers === undefined) {
      const set = new Set<() => void>();
      watchers = set;
      clients.set(client, set);
      client.once('close', () => {
        clients.delete(client);
        for (const w of [...set]) w();
      });
    }
    const own = watchers;
    own.add(gone);
    return () => own.delete(gone);
  }

  const unpool = (conn: Conn) => {
    const list = idle.get(conn.key);
    const i = list?.indexOf(conn) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) idle.delete(conn.key);
  };

  async function connect(address: string, port: number, key: string): Promise<Conn | null> {
    const readBuffer = Buffer.allocUnsafe(UPSTREAM_READ_BYTES);
    const conn: { -readonly [K in keyof Conn]: Conn[K] } = {
      key,
      socket: null as unknown as net.Socket,
      onBytes: null,
      onGone: null,
      reused: false,
    };
    const { socket, connected } = dialPinned(address, port, {
      ...options,
      onread: {
        buffer: readBuffer,
        callback: (bytes) => {
          if (conn.onBytes) return conn.onBytes(readBuffer.subarray(0, bytes));
          // Bytes nobody asked for (an idle connection): the server is out of turn.
          socket.destroy();
          return false;
        },
      },
    });
    conn.socket = socket;
    open.set(key, (open.get(key) ?? 0) + 1);
    socket.on('end', () => (conn.onGone ? conn.onGone('end') : socket.destroy()));
    socket.on('close', () => {
      unpool(conn);
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
      conn.onGone?.('close');
      wake(key);
    });
    return (await connected) ? conn : null;
  }

  function release(conn: Conn): void {
    conn.onBytes = null;
    conn.onGone = null;
    const list = idle.get(conn.key) ?? [];
    if (conn.socket.destroyed || list.length >= POOL_MAX_IDLE_PER_ORIGIN) {
      conn.socket.destroy();
      return;
    }
    conn.reused = true;
    list.push(conn);
    idle.set(conn.key, list);
    conn.socket.setTimeout(POOL_IDLE_MS);
    // Reading while idle is how a close (or a stray byte) from the server is noticed.
    conn.socket.resume();
    wake(conn.key);
  }

  function acquire(address: string, port: number): Promise<Conn | null> {
    const key = `${address}|${port}`;
    const pooled = idle.get(key)?.pop();
    if (pooled) {
      unpool(pooled);
      pooled.socket.setTimeout(options.idleTimeoutMs);
      return Promise.resolve(pooled);
    }
    if ((open.get(key) ?? 0) >= maxOpen) {
      return new Promise((resolve) => {
        const queue = waiting.get(key) ?? [];
        queue.push(() => resolve(acquire(address, port)));
        waiting.set(key, queue);
      });
    }
    return connect(address, port, key);
  }

  return {
    forward(req, res, request, fail) {
      // The request body as node's server read it: chunked, `length` bytes, or none.
      const chunked = req.headers['transfer-encoding'] !== undefined;
      const length = req.headers['content-length'];
      const hasBody = chunked || (length !== undefined && length !== '0');
      const requestBody = { chunked, length, hasBody };
      const start = () =>
        void acquire(request.address, request.port).then((conn) => {
          if (conn === null) fail(502, `upstream ${request.label} unreachable`);
          else if (res.destroyed || req.socket.destroyed) release(conn);
          else exchange(conn, req, res, request, requestBody, fail, retry);
        });
      // A kept-alive connection the server closed just before our request arrived fails before
      // any response byte; an idempotent request without a body is then sent once more on a new
      // connection. Others are not: the server may have acted on it before closing (RFC 9110 9.2.2).
      const retry = hasBody || !IDEMPOTENT.has(request.method) ? null : start;
      start();
    },
  };

  function exchange(
    conn: Conn,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: ForwardedRequest,
    { chunked, length, hasBody }: { chunked: boolean; length: string | undefined; hasBody: boolean },
    fail: (status: number, text: string) => void,
    retry: (() => void) | null,
  ): void {
    const { socket } = conn;
    let phase: 'head' | 'body' | 'done' = 'head';
    let head: Buffer = Buffer.alloc(0);
    let framing: BodyFraming = { kind: 'none', length: null };
    let remaining = 0;
    const chunks = new ChunkedDecoder();
    let sawBytes = false;
    let interim = 0;
    let requestDone = !hasBody;
    let reusable = true;
    let complete = false;
    // Writes to the client from the socket's read buffer not yet done: reading waits for them.
    let pending = 0;

    let unwatch = () => {};
    const detach = () => {
      phase = 'done';
      conn.onBytes = null;
      conn.onGone = null;
      unwatch();
    };
    const abort = (why: string) => {
      if (phase === 'done') return;
      detach();
      socket.destroy();
      if (!res.headersSent) fail(502, `upstream ${request.label} ${why}`);
      // A reset, not a FIN: a body that ends with the connection must not look complete.
      else (res.socket as net.Socket | null)?.resetAndDestroy();
    };
    const finishIfDone = () => {
      if (!complete || pending > 0 || phase === 'done') return;
      detach();
      if (reusable && requestDone) release(conn);
      else socket.destroy();
    };
    const completeBody = () => {
      complete = true;
      res.end();
      finishIfDone();
    };
    const afterWrite = (error?: Error | null) => {
      pending--;
      if (error) abort('write to the client failed');
      else if (pending === 0) {
        if (complete) finishIfDone();
        else if (phase === 'body') socket.resume();
      }
    };
    /** `owned`: a buffer of its own (from the head's), not a view of the socket's read buffer. */
    const write = (data: Buffer, owned: boolean) => {
      if (data.length === 0) return;
      if (owned) res.write(data);
      else {
        pending++;
        res.write(data, afterWrite);
      }
    };

    const body = (data: Buffer, owned: boolean): boolean => {
      switch (framing.kind) {
        case 'length': {
          const take = Math.min(remaining, data.length);
          write(data.subarray(0, take), owned);
          remaining -= take;
          if (data.length > take) reusable = false; // more than it framed: not to be trusted again
          if (remaining === 0 && !complete) completeBody();
          break;
        }
        case 'chunked': {
          const used = chunks.feed(data, (piece) => write(piece, owned));
          if (chunks.done && !complete) {
            if (used < data.length) reusable = false;
            completeBody();
          }
          break;
        }
        case 'close':
          write(data, owned);
          break;
        case 'none':
          if (data.length > 0) reusable = false;
          break;
      }
      return pending === 0;
    };

    const respond = (data: Buffer): boolean => {
      // Only the new bytes (and the three before them) are searched for the head's end.
      const scanFrom = Math.max(0, head.length - 3);
      head = head.length === 0 ? Buffer.from(data) : Buffer.concat([head, data]);
      for (let from = scanFrom; ; from = 0) {
        const end = findHeadEnd(head, from);
        if ((end < 0 ? head.length : end) > MAX_RESPONSE_HEAD_BYTES) {
          throw new MalformedResponseError(`response head larger than ${MAX_RESPONSE_HEAD_BYTES} bytes`);
        }
        if (end < 0) return true;
        const parsed = parseResponseHead(head.subarray(0, end));
        head = head.subarray(end);
        if (parsed.status === 101) throw new MalformedResponseError('switching protocols was not asked for');
        if (parsed.status < 200) {
          // An interim response (100, 103): not forwarded, and not without end.
          if (++interim > MAX_INTERIM_RESPONSES) {
            throw new MalformedResponseError(`more than ${MAX_INTERIM_RESPONSES} interim responses`);
          }
          continue;
        }
        framing = bodyFraming(parsed, request.method);
        if (!keepsAlive(parsed) || framing.kind === 'close') reusable = false;
        const out = forwardHeaders(parsed.rawHeaders).filter(([n]) => n.toLowerCase() !== 'content-length');
        if (framing.length !== null) out.push(['Content-Length', String(framing.length)]);
        res.writeHead(parsed.status, parsed.reason, out as unknown as http.OutgoingHttpHeaders);
        phase = 'body';
        remaining = framing.length ?? 0;
        const rest = head;
        head = Buffer.alloc(0);
        if (framing.kind === 'none' || (framing.kind === 'length' && remaining === 0)) {
          if (rest.length > 0) reusable = false;
          completeBody();
          return true; // released (it reads while idle) or destroyed
        }
        return body(rest, true);
      }
    };

    conn.onBytes = (data) => {
      sawBytes = true;
      try {
        return phase === 'head' ? respond(data) : phase === 'body' ? body(data, false) : false;
      } catch (e) {
        abort(e instanceof MalformedResponseError ? `sent a malformed response (${e.message})` : 'failed');
        return false;
      }
    };
    conn.onGone = (how) => {
      if (phase === 'body' && framing.kind === 'close' && how === 'end') {
        reusable = false;
        if (!complete) completeBody();
        return;
      }
      if (phase === 'head' && !sawBytes && conn.reused && retry !== null && !res.destroyed) {
        detach();
        socket.destroy();
        retry();
        return;
      }
      if (complete) return; // closing after the body was whole: its last writes are under way
      abort(phase === 'head' ? 'closed the connection without a response' : 'ended the response early');
    };
    const clientGone = () => {
      if (phase === 'done') return;
      detach();
      socket.destroy();
    };
    res.on('close', clientGone);
    if (req.socket.destroyed) {
      clientGone();
      return;
    }
    unwatch = watchClient(req.socket, clientGone);

    // The body's framing is the proxy's to state, from what node's server read: never a
    // Content-Length of the client's left out (a Connection field may name it, and the body would
    // then reach the server as a request of its own) nor one beside the chunked framing.
    const lines = [`${request.method} ${request.path} HTTP/1.1`];
    for (const [name, value] of request.headers) {
      if (name.toLowerCase() !== 'content-length') lines.push(`${name}: ${value}`);
    }
    if (chunked) lines.push('Transfer-Encoding: chunked');
    else if (length !== undefined) lines.push(`Content-Length: ${length}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    socket.resume();
    if (!hasBody) return;
    req.on('data', (data: Buffer) => {
      if (socket.destroyed) return;
      socket.cork();
      if (chunked) socket.write(`${data.length.toString(16)}\r\n`);
      const ok = socket.write(data);
      if (chunked) socket.write('\r\n');
      socket.uncork();
      if (!ok) {
        req.pause();
        socket.once('drain', () => req.resume());
      }
    });
    req.once('end', () => {
      if (chunked && !socket.destroyed) socket.write('0\r\n\r\n');
      requestDone = true;
      finishIfDone();
    });
  }
}
