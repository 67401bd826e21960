import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { createAuditLoggerFromConfig } from '@codex/audit';
import {
  ChildProcessTransport,
  defaultServerEnvironment,
  httpUpstream,
  inspectTools,
  McpPermissionProxy,
  type McpProxyConfig,
  PinStore,
  parseMcpProxyConfig,
  StreamTransport,
} from '@codex/mcp-permission';
import { ConfigError } from '@codex/security-profile';
import { parse as parseToml } from 'smol-toml';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, table } from '../output.js';

const RUNNERS = new Set([
  'node',
  'npx',
  'pnpx',
  'bunx',
  'uvx',
  'deno',
  'python',
  'python3',
  'bun',
  'pnpm',
  'npm',
]);

const GENERIC = new Set(['index', 'main', 'cli', 'server', 'dist', 'build', 'lib', 'src', 'bin', 'out']);

/** A name for the upstream server when `--name` is not given: the script or package, else the command. */
export function defaultServerName(command: readonly string[], url?: string): string {
  if (url !== undefined) return new URL(url).host;
  const [cmd = 'server', ...args] = command;
  const base = basename(cmd).replace(/\.(exe|cmd|bat)$/i, '');
  if (!RUNNERS.has(base)) return base;
  const target = args.find((a) => !a.startsWith('-') && a !== 'exec' && a !== 'run' && a !== 'dlx');
  if (target === undefined) return base;
  if (target.startsWith('@') || !/[\\/]/.test(target)) {
    // A package name: `@scope/server-x@1.2` → `server-x`.
    return target.replace(/^@[^/]+\//, '').replace(/@[^@]*$/, '') || base;
  }
  // A script path: skip generic file and folder names (`…/server-files/dist/index.js` → `server-files`).
  const parts = target.split(/[\\/]/).filter(Boolean);
  parts[parts.length - 1] = parts.at(-1)!.replace(/\.(m?js|cjs|ts|py)$/, '');
  while (parts.length > 1 && GENERIC.has(parts.at(-1)!)) parts.pop();
  return parts.at(-1) || base;
}

function loadProxyConfig(path: string | undefined): McpProxyConfig {
  if (path === undefined) return parseMcpProxyConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      { path: '', message: `cannot read file (${(error as NodeJS.ErrnoException).code ?? String(error)})` },
    ]);
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.toml' ? parseToml(text) : JSON.parse(text);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new ConfigError(path, [{ path: '', message: `syntax error: ${first}` }]);
  }
  return parseMcpProxyConfig(data, path);
}

function serverEnvironment(ctx: CliContext, pass: readonly string[]): Record<string, string> {
  const env = defaultServerEnvironment(ctx.env);
  for (const item of pass) {
    const eq = item.indexOf('=');
    if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(item)) {
      const value = ctx.env[item];
      if (value !== undefined) env[item] = value;
    } else throw new UsageError(`--env expects NAME or NAME=VALUE, got "${item}"`);
  }
  return env;
}

async function proxy(ctx: CliContext, argv: readonly string[], mode: 'proxy' | 'inspect'): Promise<number> {
  const { values, positionals, rest } = parse(argv, {
    'mcp-config': { type: 'string' },
    url: { type: 'string' },
    name: { type: 'string' },
    pins: { type: 'string' },
    env: { type: 'string', multiple: true },
    header: { type: 'string', multiple: true },
  });
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument "${positionals[1]}"; put the server command after --`);
  const url = values.url as string | undefined;
  if (url === undefined && rest.length === 0)
    throw new UsageError('give the server command after --, or --url');
  if (url !== undefined && rest.length > 0)
    throw new UsageError('give either a server command after -- or --url, not both');
  if (url !== undefined && !/^https?:\/\//.test(url))
    throw new UsageError(`--url must be http(s), got "${url}"`);
  const config = loadProxyConfig(values['mcp-config'] as string | undefined);
  const server = (values.name as string | undefined) ?? defaultServerName(rest, url);
  const pins = new PinStore({
    path: resolve((values.pins as string | undefined) ?? join(ctx.codexHome, 'mcp-pins.json')),
  });
  const headers: Record<string, string> = {};
  for (const h of (values.header as string[] | undefined) ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header expects "Name: value", got "${h}"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const log = (message: string) => line(ctx.stderr, `codex mcp proxy: ${message}`);
  const upstream =
    url !== undefined
      ? httpUpstream(new URL(url), { maxMessageBytes: config.max_message_bytes, headers })
      : new ChildProcessTransport({
          command: rest[0]!,
          args: rest.slice(1),
          env: serverEnvironment(ctx, (values.env as string[] | undefined) ?? []),
          cwd: ctx.cwd,
          maxMessageBytes: config.max_message_bytes,
          stderr: 'inherit',
        });
  if (mode === 'inspect') {
    const report = await inspectTools({ server, upstream, profile: ctx.profile, config, pins });
    if (ctx.json) {
      line(ctx.stdout, JSON.stringify({ server, profile: ctx.profile, tools: report }, null, 2));
      return EXIT.OK;
    }
    const rows = report.map((r) => [
      r.name,
      r.risk,
      r.forbidden ? 'forbidden' : r.requiresApproval ? 'ask' : 'allow',
      r.pin,
      `${r.source}: ${r.reasons.join(', ')}`,
    ]);
    line(ctx.stdout, table([['TOOL', 'RISK', 'CALL', 'PIN', 'WHY'], ...rows]));
    line(ctx.stdout, `server "${server}", profile ${ctx.profile}; nothing was pinned or called`);
    return EXIT.OK;
  }
  // Each call waits for its audit entry before it is forwarded (fail-safe), so entries are written
  // at once instead of after the logger's batching delay.
  const audit = createAuditLoggerFromConfig(ctx.config.audit, {
    home: ctx.codexHome,
    env: ctx.env,
    flushIntervalMs: 0,
  });
  const p = new McpPermissionProxy({
    server,
    profile: ctx.profile,
    config,
    pins,
    audit,
    log,
    // One session id per proxy run, so its calls can be grouped in the audit log.
    sessionId: `mcp-${randomUUID()}`,
    upstream,
    // stdout carries protocol messages only; every diagnostic goes to stderr or the audit log.
    downstream: new StreamTransport(process.stdin, ctx.stdout, { maxMessageBytes: config.max_message_bytes }),
  });
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    void p.close('interrupted');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await p.start();
    log(`serving "${server}" under profile ${ctx.profile} (pins: ${pins.path})`);
    await p.closed;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await p.close();
    await audit.close();
    process.stdin.pause();
  }
  if (interrupted) return EXIT.INTERRUPTED;
  if (p.closeReason === 'server closed the connection') {
    const status = upstream instanceof ChildProcessTransport ? upstream.exitStatus : undefined;
    const how = status ? ` (exit code ${status.code ?? `signal ${status.signal}`})` : '';
    line(ctx.stderr, `codex: error: MCP server "${server}" went away${how}`);
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}

function pinsCommand(ctx: CliContext, argv: readonly string[]): number {
  const { values, positionals } = parse(argv, { pins: { type: 'string' } });
  const [action = 'list', server, tool, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const store = new PinStore({
    path: resolve((values.pins as string | undefined) ?? join(ctx.codexHome, 'mcp-pins.json')),
  });
  if (action === 'list') {
    if (server !== undefined) throw new UsageError(`unexpected argument "${server}"`);
    const all = store.list();
    if (ctx.json) {
      line(ctx.stdout, JSON.stringify({ path: store.path, servers: all }, null, 2));
      return EXIT.OK;
    }
    const rows = Object.entries(all).flatMap(([s, tools]) =>
      Object.entries(tools).map(([t, pin]) => [s, t, pin.hash.slice(0, 16), pin.updated]),
    );
    if (rows.length === 0) line(ctx.stdout, `no pinned tools (${store.path})`);
    else line(ctx.stdout, table([['SERVER', 'TOOL', 'HASH', 'PINNED'], ...rows]));
    return EXIT.OK;
  }
  if (action === 'forget') {
    if (server === undefined) throw new UsageError('usage: codex mcp pins forget <server> [<tool>]');
    const n = store.forget(server, tool);
    if (ctx.json) line(ctx.stdout, JSON.stringify({ forgotten: n }));
    else line(ctx.stdout, `forgot ${n} pin${n === 1 ? '' : 's'}`);
    return n > 0 ? EXIT.OK : EXIT.FAILURE;
  }
  throw new UsageError(`unknown action "${action}" for "codex mcp pins"; use list or forget`);
}

export const command: Command = {
  summary: 'Put a risk-levelled, approval-gated permission proxy in front of an MCP server.',
  usage: `Usage: codex mcp proxy [--profile P] [--mcp-config FILE] [--name NAME] [--pins FILE]
                       [--env NAME[=VALUE]]... -- <server command> [args…]
       codex mcp proxy [--profile P] [--mcp-config FILE] [--name NAME] --url URL [--header "K: V"]...
       codex mcp inspect [--json] [same options as proxy] -- <server command> [args…]   (or --url URL)
       codex mcp pins list [--json] [--pins FILE]
       codex mcp pins forget <server> [<tool>] [--pins FILE]

The proxy serves MCP over stdio (stdout carries protocol messages only; diagnostics go to stderr)
and starts the server command, or connects to a Streamable HTTP server with --url.
  --mcp-config FILE  per-server/per-tool rules, JSON or TOML (.toml); see docs/mcp-permission.md
  --name NAME        server name for rules, pins and the audit log (default: from the command)
  --pins FILE        tool pin store (default: $CODEX_HOME/mcp-pins.json)
  --env NAME[=VAL]   pass an environment variable to the server (default: HOME, PATH, USER… only)
Every tools/call is written to the audit log ([audit] in config.toml). inspect lists the server's
tools with the risk, decision and pin status the proxy would use, and calls and pins nothing.
Exit codes: 0 the client ended the session, 1 failure (including the server exiting first), 2 usage or config error, 130 interrupted.`,
  async run(ctx, argv) {
    const dashdash = argv.indexOf('--');
    const head = dashdash === -1 ? argv : argv.slice(0, dashdash);
    const valueFlags = new Set([
      '-p',
      '--profile',
      '--config',
      '--mcp-config',
      '--url',
      '--name',
      '--pins',
      '--env',
      '--header',
    ]);
    let at = -1;
    for (let i = 0; i < head.length; i++) {
      if (valueFlags.has(head[i]!)) i++;
      else if (!head[i]!.startsWith('-')) {
        at = i;
        break;
      }
    }
    const action = at === -1 ? undefined : head[at];
    const sub = at === -1 ? [] : [...argv.slice(0, at), ...argv.slice(at + 1)];
    if (action === 'proxy' || action === 'inspect') return proxy(ctx, sub, action);
    if (action === 'pins') return pinsCommand(ctx, sub);
    if (action === undefined)
      throw new UsageError('missing action for "codex mcp"; use proxy, inspect or pins');
    throw new UsageError(`unknown action "${action}" for "codex mcp"; use proxy, inspect or pins`);
  },
};
