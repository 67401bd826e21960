import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AuditSink,
  type EgressMethods,
  READ_ONLY_METHODS,
  type SecurityProfile,
} from '@codex/security-profile';
import { Socks5Server } from '@pondwader/socks5-server';
import { addressRefusal, canonicalIp, parseCidrs } from './address.js';
import { dialPinned } from './dial.js';
import { EgressConfigError, EgressStartError } from './errors.js';
import { createHttpForwarder } from './http-forward.js';
import { forwardHeaders } from './http-message.js';
import { type ReadForwarder, readForwarder, relay } from './relay.js';
import { createResolver, type Resolver, type ResolverOptions } from './resolver.js';
import { compileHostList, matchHost, normaliseHost } from './rules.js';

/**
 * Stream buffer size of every socket the proxy relays through (client, upstream; HTTP and SOCKS).
 * Node's default of 16 KiB is smaller than one 64 KiB socket read, so each read of a bulk
 * transfer filled the writer's buffer, paused the reader and waited for 'drain': about half of
 * a download's throughput (bench/egress.bench.mjs). 256 KiB lets a read pass straight through.
 */
const RELAY_HIGH_WATER_MARK = 256 * 1024;
/** Where a listener binds: a loopback TCP port (0 = any free one) or a Unix socket path. */
export type ListenTarget = { readonly host?: string; readonly port?: number } | { readonly path: string };
/** Where a listener is bound. */
export type BoundAddress = { readonly host: string; readonly port: number } | { readonly path: string };

export interface EgressLimits {
  /** Largest request head (request line + headers) in bytes; larger gets 431. Default 16 KiB. */
  readonly maxHeaderBytes?: number;
  /** A request head (or a SOCKS5 handshake) must arrive within this long; default 10 s. */
  readonly headersTimeoutMs?: number;
  /** Connecting to the pinned upstream address must succeed within this long; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** A tunnel or request idle this long is closed; default 5 min. */
  readonly idleTimeoutMs?: number;
  /** Plain-HTTP connections open at once to one upstream address and port; more requests wait. Default 64. */
  readonly maxConnectionsPerUpstream?: number;
  /**
   * Tunnels (CONNECT and SOCKS5) open at once; one more is refused (`tunnel-limit`, 503). Each
   * holds a 1 MiB read buffer. Default 256.
   */
  readonly maxTunnels?: number;
  /** Decisions kept for {@link EgressProxy.decisions} (oldest dropped first); default 10,000. */
  readonly maxRecordedDecisions?: number;
}

export interface EgressProxyOptions {
  /** The profile the command runs under (for audit entries). */
  readonly profile: SecurityProfile;
  /** Host patterns that may be reached (`*`, `host`, `*.domain`, IP literal, `preset:npm`). */
  readonly allow?: readonly string[];
  /** Host patterns always refused; deny wins over allow and over grants. */
  readonly deny?: readonly string[];
  /** CIDR ranges exempt from the private/loopback/link-local/metadata refusal. */
  readonly allowAddresses?: readonly string[];
  /** `read-only`: plain-HTTP requests may only be GET/HEAD/OPTIONS and tunnels must carry TLS. */
  readonly methods?: EgressMethods;
  /** Hosts granted for this proxy's lifetime (one command), as if allowed; never beats `deny`. */
  readonly grants?: readonly string[];
  /** Name resolution; default: {@link createResolver} with `hosts`. */
  readonly resolver?: Resolver;
  /** Fixed answers for the default resolver (tests: `{ 'registry.test': '127.0.0.2' }`). */
  readonly hosts?: ResolverOptions['hosts'];
  /** Every allowed and refused connection is logged here. */
  readonly audit?: AuditSink;
  /** The command the proxy serves, recorded in audit entries. */
  readonly command?: string;
  readonly sessionId?: string;
  readonly taskId?: string;
  /** Default: `{ host: '127.0.0.1', port: 0 }` for both. `socks: null` disables SOCKS5. */
  readonly listen?: { readonly http?: ListenTarget; readonly socks?: ListenTarget | null };
  readonly limits?: EgressLimits;
  /** Called synchronously for every decision (after it is recorded). */
  readonly onDecision?: (decision: EgressDecision) => void;
}

export type EgressProtocol = 'http' | 'connect' | 'socks5';

/** One allowed or refused connection (or plain-HTTP request). */
export interface EgressDecision {
  readonly time: string;
  readonly protocol: EgressProtocol;
  /** The host as requested (normalised when well formed). */
  readonly host: string;
  readonly port: number | null;
  /** The HTTP method when the proxy can see it (plain HTTP, `CONNECT`); null for SOCKS5. */
  readonly method: string | null;
  readonly decision: 'allowed' | 'denied';
  /**
   * Which rule decided: `allow:<pattern>`, `grant:<host>`, `deny:<pattern>`, `not-allowed`,
   * `method`, `private-address`, `unresolvable`, `malformed`, `header-limit`, `timeout`,
   * `tunnel-not-tls`, `tunnel-limit`, `unsupported`, `audit-failed`.
   */
  readonly rule: string;
  readonly reason: string;
  /** The resolved address the connection was pinned to (allowed decisions). */
  readonly address?: string;
  /** A person could grant this host for one command (it was refused only for not being listed). */
  readonly grantable: boolean;
}

/** Refused hosts, one entry per host:port, for a one-line summary after the command. */
export interface RefusedHost {
  readonly host: string;
  readonly port: number | null;
  readonly count: number;
  readonly rule: string;
  readonly reason: string;
  readonly grantable: boolean;
}

export interface EgressProxy {
  /** The HTTP proxy listener (absolute-form requests and CONNECT). */
  readonly http: BoundAddress;
  /** The SOCKS5 listener, or null when disabled. */
  readonly socks: BoundAddress | null;
  /** Every recorded decision, oldest first. */
  decisions(): EgressDecision[];
  /** Refused hosts, most refused first. */
  refused(): RefusedHost[];
  /** Allows `host` for the rest of this proxy's life (one command). Deny-listed hosts stay refused. */
  grantOnce(host: string): void;
  /** Set when an audit write failed: from then on every connection is refused (fail closed). */
  readonly auditError: unknown;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

type Verdict =
  | { readonly ok: true; readonly address: string; readonly host: string; readonly port: number }
  | { readonly ok: false; readonly status: number; readonly rule: string; readonly reason: string };

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Refused'}`;
}

/** A complete refusal response for a raw socket (CONNECT, malformed requests). */
function rawRefusal(status: number, text: string): string {
  const body = `codex egress: ${text}\n`;
  return `${statusLine(status)}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Codex-Egress: refused\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Parses a CONNECT target `host:port` / `[v6]:port`. */
function parseAuthority(target: string): { host: string; port: number } | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(target) ?? /^([^:[\]\s/@]+):(\d{1,5})$/.exec(target);
  if (!m) return null;
  return { host: m[1]!, port: Number(m[2]) };
}

function bind(server: net.Server, target: ListenTarget): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) =>
      reject(new EgressStartError(`egress proxy cannot listen: ${e.message}`, { cause: e }));
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      const a = server.address();
      if (typeof a === 'string') resolve({ path: a });
      else if (a) resolve({ host: a.address, port: a.port });
      else reject(new EgressStartError('egress proxy has no address after listen'));
    };
    if ('path' in target) server.listen(target.path, done);
    else server.listen(target.port ?? 0, target.host ?? '127.0.0.1', done);
  });
}

/**
 * Starts the egress proxy: an HTTP proxy (absolute-form requests and CONNECT, parsed by Node's
 * own HTTP parser) and a SOCKS5 proxy (parsed by `@pondwader/socks5-server`). Every connection
 * is decided by the same rules: deny list (wins) → allow list or grant → method (plain HTTP,
 * `read-only`) → resolve once → refuse non-public addresses → connect to the pinned address.
 * Any error refuses; nothing is ever connected on an error path.
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const allow = compileHostList('allow', options.allow ?? []);
  const deny = compileHostList('deny', options.deny ?? []);
  const allowCidrs = parseCidrs(options.allowAddresses ?? []);
  const methods: EgressMethods = options.methods ?? 'any';
  const resolver = options.resolver ?? createResolver(options.hosts ? { hosts: options.hosts } : {});
  const limits = {
    maxHeaderBytes: options.limits?.maxHeaderBytes ?? 16 * 1024,
    headersTimeoutMs: options.limits?.headersTimeoutMs ?? 10_000,
    connectTimeoutMs: options.limits?.connectTimeoutMs ?? 10_000,
    idleTimeoutMs: options.limits?.idleTimeoutMs ?? 300_000,
    maxRecorded: options.limits?.maxRecordedDecisions ?? 10_000,
  };
  const perUpstream = options.limits?.maxConnectionsPerUpstream;
  const maxTunnels = options.limits?.maxTunnels ?? 256;
  for (const [key, value] of [
    ['maxConnectionsPerUpstream', perUpstream],
    ['maxTunnels', maxTunnels],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new EgressConfigError(`limits.${key} must be a positive integer, got ${value}`);
    }
  }
  const grants = new Set<string>();
  const grant = (h: string) => {
    const n = normaliseHost(h);
    if (n === null) throw new EgressConfigError(`grant: "${h}" is not a host name or IP literal`);
    grants.add(n);
  };
  for (const g of options.grants ?? []) grant(g);

  const recorded: EgressDecision[] = [];
  const refusedMap = new Map<string, { entry: RefusedHost; count: number }>();
  let auditError: unknown;
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  function record(d: Omit<EgressDecision, 'time'>): void {
    const decision: EgressDecision = { time: new Date().toISOString(), ...d };
    recorded.push(decision);
    if (recorded.length > limits.maxRecorded) recorded.shift();
    if (decision.decision === 'denied') {
      const key = `${decision.host}:${decision.port ?? ''}`;
      const prev = refusedMap.get(key);
      if (prev) prev.count++;
      else refusedMap.set(key, { entry: { ...decision, count: 0 }, count: 1 });
    }
    try {
      options.onDecision?.(decision);
    } catch {
      /* an observer's bug must not change the decision */
    }
    if (options.audit) {
      const details: Record<string, string | number | boolean | null> = {
        protocol: decision.protocol,
        method: decision.method,
        rule: decision.rule,
        port: decision.port,
      };
      if (decision.address !== undefined) details.address = decision.address;
      if (options.command !== undefined) details.command = options.command;
      // Audit writes are not awaited on the request path (latency); a failed write makes every
      // later connection refused, so nothing goes unaudited for long (fail closed).
      options.audit
        .log({
          profile: options.profile,
          operation: 'network_access',
          agent_type: 'egress-proxy',
          target: decision.port === null ? decision.host : `${decision.host}:${decision.port}`,
          decision: decision.decision,
          reason: `${decision.rule}: ${decision.reason}`,
          details,
          ...(options.sessionId !== undefined ? { session_id: options.sessionId } : {}),
          ...(options.taskId !== undefined ? { task_id: options.taskId } : {}),
        })
        .catch((e: unknown) => {
          auditError ??= e;
        });
    }
  }

  function refuse(
    protocol: EgressProtocol,
    host: string,
    port: number | null,
    method: string | null,
    status: number,
    rule: string,
    reason: string,
    grantable = false,
  ): Verdict {
    record({ protocol, host, port, method, decision: 'denied', rule, reason, grantable });
    return { ok: false, status, rule, reason };
  }

  // Tunnels open (or being decided), each counted until its client side closes.
  let tunnels = 0;
  /** Counts a tunnel to `host:port`; past `maxTunnels` it is refused (recorded) instead. */
  function admitTunnel(
    client: Duplex,
    protocol: EgressProtocol,
    host: string,
    port: number,
    method: string | null,
  ): Verdict | null {
    if (tunnels >= maxTunnels) {
      return refuse(
        protocol,
        host,
        port,
        method,
        503,
        'tunnel-limit',
        `more than ${maxTunnels} tunnels open`,
      );
    }
    tunnels++;
    client.once('close', () => tunnels--);
    return null;
  }

  async function decide(
    protocol: EgressProtocol,
    rawHost: string,
    port: number,
    method: string | null,
  ): Promise<Verdict> {
    const host = normaliseHost(rawHost);
    const shown = host ?? rawHost.slice(0, 256);
    if (auditError !== undefined) {
      return refuse(protocol, shown, port, method, 503, 'audit-failed', 'the audit log cannot be written');
    }
    if (host === null)
      return refuse(protocol, shown, port, method, 400, 'malformed', 'not a valid host name or IP literal');
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return refuse(protocol, host, port, method, 400, 'malformed', `invalid port ${port}`);
    }
    const denied = matchHost(deny, host);
    if (denied !== null)
      return refuse(protocol, host, port, method, 403, `deny:${denied}`, 'host is on the deny list');
    const allowed = matchHost(allow, host);
    const rule = allowed !== null ? `allow:${allowed}` : grants.has(host) ? `grant:${host}` : null;
    if (rule === null) {
      return refuse(protocol, host, port, method, 403, 'not-allowed', 'host is not on the allow list', true);
    }
    if (
      protocol === 'http' &&
      methods === 'read-only' &&
      !(READ_ONLY_METHODS as readonly string[]).includes(method ?? '')
    ) {
      return refuse(
        protocol,
        host,
        port,
        method,
        405,
        'method',
        `${method} is not allowed (read-only: GET, HEAD, OPTIONS)`,
      );
    }
    let addresses: string[];
    const literal = canonicalIp(host);
    if (literal !== null) addresses = [literal];
    else {
      try {
        addresses = await resolver(host);
      } catch (e) {
        return refuse(
          protocol,
          host,
          port,
          method,
          502,
          'unresolvable',
          e instanceof Error ? e.message : String(e),
        );
      }
    }
    const canonical: string[] = [];
    for (const a of addresses) {
      const c = canonicalIp(a);
      const problem =
        c === null ? `resolver returned "${String(a).slice(0, 64)}"` : addressRefusal(c, allowCidrs);
      if (problem !== null || c === null) {
        return refuse(
          protocol,
          host,
          port,
          method,
          403,
          'private-address',
          `${host} resolves to a ${problem}`,
        );
      }
      canonical.push(c);
    }
    if (canonical.length === 0)
      return refuse(protocol, host, port, method, 502, 'unresolvable', 'no addresses');
    // Pinned: the connection goes to this address; the name is never resolved again for it.
    const address = canonical[0]!;
    record({
      protocol,
      host,
      port,
      method,
      decision: 'allowed',
      rule,
      reason: 'allowed',
      address,
      grantable: false,
    });
    return { ok: true, address, host, port };
  }

  /** What each upstream socket reads goes to its client through this (see relay.ts). */
  const forwarders = new WeakMap<net.Socket, ReadForwarder>();

  /** Connects to the pinned address; resolves with the socket once connected, or null. */
  async function connectPinned(address: string, port: number): Promise<net.Socket | null> {
    const reads = readForwarder();
    const { socket, connected } = dialPinned(address, port, {
      ...{ highWaterMark: RELAY_HIGH_WATER_MARK, onread: reads.onread, track },
      ...{ connectTimeoutMs: limits.connectTimeoutMs, idleTimeoutMs: limits.idleTimeoutMs },
    });
    forwarders.set(socket, reads);
    return (await connected) ? socket : null;
  }

  /**
   * Joins client and upstream. Under `read-only`, the first byte the client sends must start a
   * TLS handshake record (0x16): plain HTTP inside a tunnel would dodge the method limit.
   */
  function splice(
    client: Duplex,
    upstream: net.Socket,
    head: Buffer | null,
    d: { protocol: EgressProtocol; host: string; port: number },
  ): void {
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    // Until the tunnel is joined (a read-only tunnel waits for the client's first bytes), an error
    // or a close on either side ends both; relay() then decides how the joined pair ends.
    let joined = false;
    const beforeJoin = () => {
      if (!joined) closeBoth();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.once('close', beforeJoin);
    upstream.once('close', beforeJoin);
    const start = (first: Buffer | null) => {
      joined = true;
      if (methods === 'read-only' && first !== null && first.length > 0 && first[0] !== 0x16) {
        refuse(d.protocol, d.host, d.port, null, 403, 'tunnel-not-tls', 'read-only: a tunnel must carry TLS');
        closeBoth();
        return;
      }
      if (first !== null && first.length > 0) upstream.write(first);
      const reads = forwarders.get(upstream);
      relay(client, upstream, { idleTimeoutMs: limits.idleTimeoutMs, ...(reads ? { reads } : {}) });
    };
    if (methods === 'read-only' && (head === null || head.length === 0)) {
      client.once('data', (chunk: Buffer) => {
        client.pause();
        start(chunk);
        client.resume();
      });
    } else start(head);
  }

  // ---- HTTP proxy (absolute-form + CONNECT) ----
  const upstream = createHttpForwarder({
    connectTimeoutMs: limits.connectTimeoutMs,
    idleTimeoutMs: limits.idleTimeoutMs,
    highWaterMark: RELAY_HIGH_WATER_MARK,
    track,
    ...(perUpstream !== undefined ? { maxConnectionsPerOrigin: perUpstream } : {}),
  });
  const httpServer = http.createServer({
    highWaterMark: RELAY_HIGH_WATER_MARK,
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    requireHostHeader: false,
  });
  httpServer.on('connection', (s: net.Socket) => {
    track(s);
    s.setNoDelay(true);
  });

  httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? 'GET';
    const refuseHttp = (status: number, text: string) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'x-codex-egress': 'refused',
        connection: 'close',
      });
      res.end(`codex egress: ${text}\n`);
      req.resume();
    };
    const raw = req.url ?? '';
    let url: URL | null = null;
    try {
      if (/^http:\/\//i.test(raw)) url = new URL(raw);
    } catch {
      url = null;
    }
    if (url === null) {
      const v = refuse(
        'http',
        '(none)',
        null,
        method,
        400,
        'malformed',
        /^https:/i.test(raw) ? 'https URLs must use CONNECT' : 'not an absolute-form proxy request',
      );
      if (!v.ok) refuseHttp(v.status, `refused: ${v.reason}`);
      return;
    }
    const port = url.port ? Number(url.port) : 80;
    const hostname = url.hostname;
    void decide('http', hostname, port, method).then(
      (v) => {
        if (!v.ok) {
          refuseHttp(v.status, `refused ${hostname}:${port} (${v.rule}): ${v.reason}`);
          return;
        }
        upstream.forward(
          req,
          res,
          {
            address: v.address,
            port,
            method,
            path: `${url.pathname}${url.search}`,
            headers: forwardHeaders(req.rawHeaders, url.host),
            label: `${hostname}:${port}`,
          },
          refuseHttp,
        );
      },
      () => refuseHttp(500, 'internal error'),
    );
  });

  httpServer.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    client.on('error', () => client.destroy());
    const target = parseAuthority(req.url ?? '');
    if (target === null) {
      refuse(
        'connect',
        (req.url ?? '').slice(0, 256),
        null,
        'CONNECT',
        400,
        'malformed',
        'CONNECT target must be host:port',
      );
      client.end(rawRefusal(400, 'refused: CONNECT target must be host:port'));
      return;
    }
    const full = admitTunnel(client, 'connect', target.host, target.port, 'CONNECT');
    void (full ? Promise.resolve(full) : decide('connect', target.host, target.port, 'CONNECT')).then(
      async (v) => {
        if (!v.ok) {
          client.end(rawRefusal(v.status, `refused ${target.host}:${target.port} (${v.rule}): ${v.reason}`));
          return;
        }
        const upstream = await connectPinned(v.address, v.port);
        if (upstream === null || client.destroyed) {
          upstream?.destroy();
          client.end(rawRefusal(502, `upstream ${v.host}:${v.port} unreachable`));
          return;
        }
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        splice(client, upstream, head, { protocol: 'connect', host: v.host, port: v.port });
      },
      () => client.destroy(),
    );
  });

  httpServer.on('upgrade', (req: http.IncomingMessage, client: Duplex) => {
    refuse(
      'http',
      '(upgrade)',
      null,
      req.method ?? null,
      501,
      'unsupported',
      'protocol upgrades are not proxied',
    );
    client.end(rawRefusal(501, 'refused: protocol upgrades are not proxied'));
  });

  httpServer.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const code = err.code ?? '';
    const [status, rule, reason] =
      code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'header-limit', `request head larger than ${limits.maxHeaderBytes} bytes`]
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT'
          ? [408, 'timeout', `request head not complete within ${limits.headersTimeoutMs} ms`]
          : code === 'ECONNRESET'
            ? [0, '', '']
            : [400, 'malformed', `unparseable request (${code || 'parse error'})`];
    if (status === 0) {
      socket.destroy();
      return;
    }
    refuse('http', '(unparsed)', null, null, status, rule, reason);
    if (socket.writable) socket.end(rawRefusal(status, `refused: ${reason}`));
    else socket.destroy();
  });

  // ---- SOCKS5 proxy ----
  let socksNet: net.Server | null = null;
  const socksTarget = options.listen?.socks === undefined ? {} : options.listen.socks;
  if (socksTarget !== null) {
    const socks = new Socks5Server();
    socks.setRulesetValidator(async (conn) => {
      const v =
        admitTunnel(conn.socket, 'socks5', conn.destAddress, conn.destPort, null) ??
        (await decide('socks5', conn.destAddress, conn.destPort, null));
      conn.metadata = v;
      return v.ok;
    });
    socks.setConnectionHandler((conn, sendStatus) => {
      const v = conn.metadata as Verdict;
      const client = conn.socket;
      if (!v?.ok) {
        sendStatus('CONNECTION_NOT_ALLOWED');
        return;
      }
      void connectPinned(v.address, v.port).then((upstream) => {
        if (upstream === null || client.destroyed) {
          upstream?.destroy();
          if (!client.destroyed) sendStatus('HOST_UNREACHABLE');
          return;
        }
        (client as net.Socket & { codexSpliced?: boolean }).codexSpliced = true;
        (client as net.Socket).setTimeout?.(limits.idleTimeoutMs);
        sendStatus('REQUEST_GRANTED');
        splice(client, upstream, null, { protocol: 'socks5', host: v.host, port: v.port });
      });
    });
    socksNet = net.createServer({ highWaterMark: RELAY_HIGH_WATER_MARK }, (s) => {
      track(s);
      s.setNoDelay(true);
      s.on('error', () => s.destroy());
      // Slowloris: the handshake must finish in time; after that the idle timeout applies.
      s.setTimeout(limits.headersTimeoutMs, () => {
        if (!(s as net.Socket & { codexSpliced?: boolean }).codexSpliced) {
          refuse(
            'socks5',
            '(handshake)',
            null,
            null,
            408,
            'timeout',
            `SOCKS5 handshake not complete within ${limits.headersTimeoutMs} ms`,
          );
        }
        s.destroy();
      });
      socks._handleConnection(s);
    });
  }

  let httpAddress: BoundAddress;
  let socksAddress: BoundAddress | null = null;
  try {
    httpAddress = await bind(httpServer, options.listen?.http ?? {});
    if (socksNet && socksTarget) socksAddress = await bind(socksNet, socksTarget);
  } catch (e) {
    httpServer.close();
    socksNet?.close();
    throw e;
  }

  return {
    http: httpAddress,
    socks: socksAddress,
    decisions: () => [...recorded],
    refused: () =>
      [...refusedMap.values()]
        .map(({ entry, count }) => ({
          host: entry.host,
          port: entry.port,
          count,
          rule: entry.rule,
          reason: entry.reason,
          grantable: entry.grantable,
        }))
        .sort((a, b) => b.count - a.count || a.host.localeCompare(b.host)),
    grantOnce: grant,
    get auditError() {
      return auditError;
    },
    async close() {
      const closed = [once(httpServer, 'close')];
      httpServer.close();
      if (socksNet) {
        closed.push(once(socksNet, 'close'));
        socksNet.close();
      }
      for (const s of sockets) s.destroy();
      httpServer.closeAllConnections();
      await Promise.all(closed);
    },
  };
}
