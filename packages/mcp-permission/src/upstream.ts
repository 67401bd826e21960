// The server a proxy fronts, as `codex mcp proxy|inspect` opens it (a command over stdio, or a
// Streamable HTTP URL with extra headers), and what inspection and the pin store hold, as rows.
import { resolve } from 'node:path';
import { loadMcpProxyConfig, type McpProxyConfig } from './config.js';
import { UpstreamOptionsError } from './errors.js';
import { type HttpUpstreamTransport, httpUpstream } from './http.js';
import type { ToolReport } from './inspect.js';
import { defaultServerName, serverEnvironment } from './naming.js';
import { openPinStore, type PinStore, type ToolPin } from './pins.js';
import { ChildProcessTransport } from './transport.js';

/** `Name: value` items (`--header`) as a header record; a malformed item is `MCP_UPSTREAM_OPTIONS`. */
export function parseHeaders(items: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of items) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UpstreamOptionsError(`--header expects "Name: value", got "${h}"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  return headers;
}

export interface UpstreamOptions {
  /** The server command (argv) to spawn over stdio… */
  readonly command?: readonly string[] | undefined;
  /** …or the URL of a Streamable HTTP server. */
  readonly url?: string | undefined;
  /** HTTP only: extra headers, as `Name: value` items. */
  readonly headers?: readonly string[] | undefined;
  /** stdio only: where the server runs and its whole environment. */
  readonly cwd?: string | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly maxMessageBytes: number;
}

/** The upstream transport for a proxy or an inspection (the server's stderr passes through). */
export function openUpstream(o: UpstreamOptions): ChildProcessTransport | HttpUpstreamTransport {
  if (o.url !== undefined) {
    return httpUpstream(new URL(o.url), {
      maxMessageBytes: o.maxMessageBytes,
      headers: parseHeaders(o.headers ?? []),
    });
  }
  const [command, ...args] = o.command ?? [];
  if (command === undefined) throw new UpstreamOptionsError('no server command and no URL');
  return new ChildProcessTransport({
    ...{ command, args, stderr: 'inherit', maxMessageBytes: o.maxMessageBytes },
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    ...(o.env === undefined ? {} : { env: o.env }),
  });
}

export interface ProxyTargetOptions {
  /** The server command (argv) to spawn over stdio… */
  readonly command?: readonly string[] | undefined;
  /** …or the URL of a Streamable HTTP server, with extra `Name: value` headers. */
  readonly url?: string | undefined;
  readonly headers?: readonly string[] | undefined;
  /** Where the server runs; relative file names (`configFile`, `pinsFile`) are resolved from here. */
  readonly cwd: string;
  /** The environment a stdio server's own is made from (see {@link serverEnvironment})… */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** …with these `NAME` / `NAME=VALUE` items (`--env`) added. */
  readonly pass?: readonly string[] | undefined;
  /** Per-server/per-tool rules, JSON or TOML (`.toml`); default none. */
  readonly configFile?: string | undefined;
  /** The name for rules, pins and the audit log; default from the command or the URL's host. */
  readonly name?: string | undefined;
  /** The pin store lives here; default `$CODEX_HOME/mcp-pins.json`. */
  readonly codexHome: string;
  readonly pinsFile?: string | undefined;
}

/** What a proxy or an inspection fronts: the server's name, the rules, the pins and the transport. */
export interface ProxyTarget {
  readonly server: string;
  readonly config: McpProxyConfig;
  readonly pins: PinStore;
  readonly upstream: ChildProcessTransport | HttpUpstreamTransport;
}

/**
 * The server `codex mcp proxy|inspect` fronts, opened (not started). A malformed `pass` item throws
 * `ServerEnvError`; a bad header, no server, both a command and a URL, or a URL that is not
 * http(s) throws `UpstreamOptionsError` (checked before any file is read).
 */
export function openProxyTarget(o: ProxyTargetOptions): ProxyTarget {
  const given = (o.command ?? []).length > 0;
  if (o.url === undefined && !given)
    throw new UpstreamOptionsError('give the server command after --, or --url');
  if (o.url !== undefined && given)
    throw new UpstreamOptionsError('give either a server command after -- or --url, not both');
  if (o.url !== undefined && !/^https?:\/\//.test(o.url))
    throw new UpstreamOptionsError(`--url must be http(s), got "${o.url}"`);
  const config = loadMcpProxyConfig(o.configFile === undefined ? undefined : resolve(o.cwd, o.configFile));
  const command = o.command ?? [];
  const upstream = openUpstream({
    ...{ url: o.url, command, cwd: o.cwd, headers: o.headers, maxMessageBytes: config.max_message_bytes },
    env: o.url === undefined ? serverEnvironment(o.env, o.pass ?? [], '--env') : undefined,
  });
  const server = o.name ?? defaultServerName(command, o.url);
  const pins = openPinStore(o.codexHome, o.pinsFile === undefined ? undefined : resolve(o.cwd, o.pinsFile));
  return { server, config, pins, upstream };
}

/** An inspection as table rows, header first: tool, risk, what a call would get, pin, why. */
export function describeToolReports(report: readonly ToolReport[]): string[][] {
  const rows = report.map((r) => [
    r.name,
    r.risk,
    r.forbidden ? 'forbidden' : r.requiresApproval ? 'ask' : 'allow',
    r.pin,
    `${r.source}: ${r.reasons.join(', ')}`,
  ]);
  return [['TOOL', 'RISK', 'CALL', 'PIN', 'WHY'], ...rows];
}

/** A pin store's content as rows (server, tool, hash prefix, when pinned); no header. */
export function describePins(
  servers: Readonly<Record<string, Readonly<Record<string, ToolPin>>>>,
): string[][] {
  return Object.entries(servers).flatMap(([s, tools]) =>
    Object.entries(tools).map(([t, pin]) => [s, t, pin.hash.slice(0, 16), pin.updated]),
  );
}
