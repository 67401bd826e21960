// The server a proxy fronts, as `codex mcp proxy|inspect` opens it (a command over stdio, or a
// Streamable HTTP URL with extra headers), and what inspection and the pin store hold, as rows.
import { UpstreamOptionsError } from './errors.js';
import { type HttpUpstreamTransport, httpUpstream } from './http.js';
import type { ToolReport } from './inspect.js';
import type { ToolPin } from './pins.js';
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
