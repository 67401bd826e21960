import http from 'node:http';
import net from 'node:net';

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** Requests seen: method, url, host header, body, remote address. */
  readonly seen: { method: string; url: string; host: string; body: string; remote: string }[];
  close(): Promise<void>;
}

/** A real HTTP server on a loopback address that echoes what it received as JSON. */
export async function startUpstream(host: string, name = host): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host ?? '',
        body: Buffer.concat(chunks).toString(),
        remote: req.socket.remoteAddress ?? '',
      };
      seen.push(entry);
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ ...entry, servedBy: name }));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Listens on `host` (any free port) and tracks every connection; `close` destroys them and stops
 * the server.
 */
async function listenRaw(
  server: net.Server,
  host: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A raw TCP server that echoes bytes back, counting connections. */
export async function startEcho(
  host: string,
): Promise<{ port: number; connections: number; received: Buffer[]; close(): Promise<void> }> {
  const state = { connections: 0, received: [] as Buffer[] };
  const server = net.createServer((s) => {
    state.connections++;
    s.on('data', (d: Buffer) => {
      state.received.push(d);
      s.write(d);
    });
  });
  return Object.assign(state, await listenRaw(server, host));
}

export interface ProxyResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One plain-HTTP request in absolute form through the proxy. `parts`: a body sent in pieces
 * `gapMs` apart (default 10) without a length, so node sends it chunked.
 */
export function viaProxy(
  proxyPort: number,
  url: string,
  options: {
    method?: string;
    body?: string;
    parts?: readonly string[];
    gapMs?: number;
    headers?: Record<string, string>;
  } = {},
): Promise<ProxyResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        method: options.method ?? 'GET',
        path: url,
        headers: {
          host: u.host,
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const parts = options.parts ?? [];
    if (parts.length === 0) req.end(options.body);
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      setTimeout(() => (last ? req.end(part) : req.write(part)), i * (options.gapMs ?? 10));
    }
  });
}

/** Writes raw bytes to a TCP port and collects everything until the peer closes (or `ms` passes). */
export function rawExchange(
  port: number,
  data: string | Buffer,
  ms = 5000,
  keepWriting?: (s: net.Socket) => void,
): Promise<{ text: string; closed: boolean; elapsedMs: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const s = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed, elapsedMs: Date.now() - start });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on('connect', () => {
      if (data.length > 0) s.write(data);
      keepWriting?.(s);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
  });
}

/** Opens a CONNECT tunnel; resolves with the status line and the socket (open on 200). */
export function connectTunnel(
  proxyPort: number,
  target: string,
): Promise<{ status: number; head: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: proxyPort });
    let buf = Buffer.alloc(0);
    s.on('connect', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      const head = buf.subarray(0, end).toString('latin1');
      const rest = buf.subarray(end + 4);
      if (rest.length > 0) s.unshift(rest);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, socket: s });
    };
    s.on('data', onData);
    s.on('error', reject);
    s.on('close', () => resolve({ status: 0, head: buf.toString('latin1'), socket: s }));
  });
}

/** Sends `data` through an open socket and waits for `expected` bytes back. */
export function roundTrip(
  s: net.Socket,
  data: Buffer | string,
  expected: number,
  ms = 3000,
): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => resolve(null), ms);
    const onData = (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (n >= expected) {
        clearTimeout(timer);
        s.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    s.on('data', onData);
    s.once('close', () => {
      clearTimeout(timer);
      resolve(n >= expected ? Buffer.concat(chunks) : null);
    });
    s.write(data);
  });
}

export type ScriptedAnswer = string | Buffer | null | ((socket: net.Socket) => void);

/**
 * A raw HTTP/1.1 server on `host` that answers each request head (bodies are not read) with what
 * `answer` returns: bytes written as they are, a function given the socket, or null to close the
 * connection without answering. `nth` counts requests on that connection from 1.
 */
export async function startScripted(
  host: string,
  answer: (request: string, nth: number, connection: number) => ScriptedAnswer,
): Promise<{ port: number; connections: number; requests: string[]; close(): Promise<void> }> {
  const state = { connections: 0, requests: [] as string[] };
  const server = net.createServer((s) => {
    const connection = ++state.connections;
    let buf = '';
    let nth = 0;
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const request = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        state.requests.push(request);
        const a = answer(request, ++nth, connection);
        if (a === null) s.destroy();
        else if (typeof a === 'function') a(s);
        else s.write(a);
      }
    });
  });
  return Object.assign(state, await listenRaw(server, host));
}
