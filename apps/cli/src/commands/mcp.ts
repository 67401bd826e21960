import { resolve } from 'node:path';
import { type PermissionProxyRun, runPermissionProxy, serveGuardedShell } from '@codex/core';
import {
  ChildProcessTransport,
  describePins,
  describeToolReports,
  inspectTools,
  openPinStore,
  openProxyTarget,
  type ProxyTarget,
  ServerEnvError,
  UpstreamOptionsError,
} from '@codex/mcp-permission';
import { firstWord, intFlag, parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { line, table } from '../output.js';
import { APPROVAL_OPTIONS, approvalModeFor, oneShotWasm } from '../run-flags.js';

const PROXY_OPTIONS = {
  'mcp-config': { type: 'string' },
  url: { type: 'string' },
  name: { type: 'string' },
  pins: { type: 'string' },
  env: { type: 'string', multiple: true },
  header: { type: 'string', multiple: true },
} as const;

async function setup(ctx: CliContext, argv: readonly string[]): Promise<ProxyTarget> {
  const { values, positionals, rest } = parse(argv, PROXY_OPTIONS);
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument "${positionals[1]}"; put the server command after --`);
  // The target checks the rest: one server, a command after -- or an http(s) --url.
  return usageOn([ServerEnvError, UpstreamOptionsError], () =>
    openProxyTarget({
      ...{ url: values.url as string | undefined, command: rest, cwd: ctx.cwd, env: ctx.env },
      codexHome: ctx.codexHome,
      pass: values.env as string[] | undefined,
      headers: values.header as string[] | undefined,
      configFile: values['mcp-config'] as string | undefined,
      name: values.name as string | undefined,
      pinsFile: values.pins as string | undefined,
    }),
  );
}

async function inspect(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { server, config, pins, upstream } = await setup(ctx, argv);
  const report = await inspectTools({ server, upstream, profile: ctx.profile, config, pins });
  if (ctx.json) {
    line(ctx.stdout, JSON.stringify({ server, profile: ctx.profile, tools: report }, null, 2));
    return EXIT.OK;
  }
  line(ctx.stdout, table(describeToolReports(report)));
  line(ctx.stdout, `server "${server}", profile ${ctx.profile}; nothing was pinned or called`);
  return EXIT.OK;
}

async function proxy(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { server, config, pins, upstream } = await setup(ctx, argv);
  const log = (message: string) => line(ctx.stderr, `codex mcp proxy: ${message}`);
  log(`serving "${server}" under profile ${ctx.profile} (pins: ${pins.path})`);
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let run: PermissionProxyRun;
  try {
    run = await runPermissionProxy({
      ...{ server, profile: ctx.profile, config, pins, log, upstream, signal: ac.signal },
      ...{ codexConfig: ctx.config, codexHome: ctx.codexHome, env: ctx.env },
      // stdout carries protocol messages only; every diagnostic goes to stderr or the audit log.
      ...{ input: process.stdin, output: ctx.stdout },
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdin.pause();
  }
  if (run.interrupted) return EXIT.INTERRUPTED;
  if (run.closeReason !== 'server closed the connection') return EXIT.OK;
  const status = upstream instanceof ChildProcessTransport ? upstream.exitStatus : undefined;
  const how = status ? ` (exit code ${status.code ?? `signal ${status.signal}`})` : '';
  line(ctx.stderr, `codex: error: MCP server "${server}" went away${how}`);
  return EXIT.FAILURE;
}

const SERVE_OPTIONS = {
  http: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  workspace: { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
  'allow-degraded': { type: 'boolean' },
  ...APPROVAL_OPTIONS,
  timeout: { type: 'string' },
} as const;

/** `codex mcp serve`: the guarded shell over stdio, or Streamable HTTP on loopback (`--http`). */
async function serve(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { values, positionals, rest } = parse(argv, SERVE_OPTIONS);
  if (positionals.length > 0 || rest.length > 0) throw new UsageError('"codex mcp serve" takes no command');
  const timeout = intFlag('timeout', values.timeout);
  // Evaluations cost microseconds next to a sandbox launch; optimising the policy engine's wasm
  // would cost 1-2 s of CPU at start-up and hold up exit while it finishes.
  oneShotWasm();
  const workspaceRoots = ((values.workspace as string[] | undefined) ?? []).map((w) => resolve(ctx.cwd, w));
  const host = values.host === undefined ? {} : { host: values.host as string };
  const http =
    values.http === true
      ? { port: intFlag('port', values.port, { min: 0, max: 65535 }) ?? 0, ...host }
      : undefined;
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  await serveGuardedShell({
    ...{ config: ctx.config, codexHome: ctx.codexHome, cwd: ctx.cwd, env: ctx.env, profile: ctx.profile },
    ...{ explicitProfile: ctx.explicitProfile, version: ctx.version },
    ...{
      policies: (values.policy as string[] | undefined) ?? [],
      allowDegraded: values['allow-degraded'] === true,
      approvalMode: approvalModeFor(ctx, values),
    },
    ...(workspaceRoots.length ? { workspaceRoots } : {}),
    ...(timeout ? { timeoutMs: timeout } : {}),
    ...{ http, signal: ac.signal },
    onListening: (url) => {
      line(ctx.stderr, `codex mcp serve: Streamable HTTP on ${url} (profile ${ctx.profile})`);
      if (ctx.json) line(ctx.stdout, JSON.stringify({ url }));
    },
  });
  return EXIT.OK;
}

function pinsCommand(ctx: CliContext, argv: readonly string[]): number {
  const { values, positionals } = parse(argv, { pins: { type: 'string' } });
  const [action = 'list', server, tool, extra] = positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const store = openPinStore(ctx.codexHome, values.pins as string | undefined);
  if (action === 'list') {
    if (server !== undefined) throw new UsageError(`unexpected argument "${server}"`);
    const all = store.list();
    if (ctx.json) {
      line(ctx.stdout, JSON.stringify({ path: store.path, servers: all }, null, 2));
      return EXIT.OK;
    }
    const rows = describePins(all);
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
  summary: 'Serve a guarded shell over MCP, or put a permission proxy in front of an MCP server',
  usage: `Usage: codex mcp serve [--profile P] [-a MODE] [--workspace DIR]… [--policy FILE]… [--timeout MS] [--allow-degraded]
                       [--http [--host 127.0.0.1] [--port N]]
       codex mcp proxy [--profile P] [--mcp-config FILE] [--name NAME] [--pins FILE]
                       [--env NAME[=VALUE]]... -- <server command> [args…]
       codex mcp proxy [--profile P] [--mcp-config FILE] [--name NAME] --url URL [--header "K: V"]...
       codex mcp inspect [--json] [same options as proxy] -- <server command> [args…]   (or --url URL)
       codex mcp pins list [--json] [--pins FILE]
       codex mcp pins forget <server> [<tool>] [--pins FILE]

serve gives any MCP client a guarded shell (docs/mcp-serve.md): tools run_command and
check_command, through the same exec policy → approval → sandbox → audit pipeline as codex exec;
a prompt decision is asked through MCP elicitation (refused when the client cannot elicit), except
that under -a on-request (default) or never a command prompt only because it is unlisted runs
unasked when the sandbox fully enforces the profile; -a never elicits nothing, -a untrusted asks
about every prompt. stdio by default; --http listens on loopback.
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
    const at = firstWord(argv, { ...PROXY_OPTIONS, ...SERVE_OPTIONS });
    const action = at === -1 || argv[at] === '--' ? undefined : argv[at];
    const sub = action === undefined ? [] : [...argv.slice(0, at), ...argv.slice(at + 1)];
    if (action === 'proxy') return proxy(ctx, sub);
    if (action === 'inspect') return inspect(ctx, sub);
    if (action === 'serve') return serve(ctx, sub);
    if (action === 'pins') return pinsCommand(ctx, sub);
    if (action === undefined)
      throw new UsageError('missing action for "codex mcp"; use serve, proxy, inspect or pins');
    throw new UsageError(`unknown action "${action}" for "codex mcp"; use serve, proxy, inspect or pins`);
  },
};
