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
import type { CliContext } from '../context.js';
import { EXIT, UsageError, usageOn } from '../errors.js';
import { interrupts, line, print, table } from '../output.js';
import {
  APPROVAL_FLAG,
  approvalModeFor,
  MAX_TIMER,
  oneShotWasm,
  POLICY_FLAG,
  RUN_FLAGS,
} from '../run-flags.js';
import {
  action,
  bool,
  type Command,
  defined,
  type Flags,
  type Input,
  int,
  list,
  str,
  type Values,
} from '../spec.js';

const PROXY = {
  'mcp-config': str('FILE', 'per-server/per-tool rules, JSON or TOML (.toml); see docs/mcp-permission.md'),
  url: str('URL', 'a Streamable HTTP server instead of a command after --'),
  name: str('NAME', 'server name for rules, pins and the audit log (default: from the command)'),
  pins: str('FILE', 'tool pin store (default: $CODEX_HOME/mcp-pins.json)'),
  env: list('NAME[=VAL]', 'pass an environment variable to the server (default: HOME, PATH, USER… only)'),
  header: list('"K: V"', 'an HTTP header for --url'),
} as const satisfies Flags;

function setup(ctx: CliContext, values: Values<typeof PROXY>, command: string[]): ProxyTarget {
  // The target checks the rest: one server, a command after -- or an http(s) --url.
  return usageOn([ServerEnvError, UpstreamOptionsError], () =>
    openProxyTarget({
      ...{ url: values.url, command, cwd: ctx.cwd, env: ctx.env, codexHome: ctx.codexHome },
      ...{ pass: values.env, headers: values.header, configFile: values['mcp-config'] },
      ...{ name: values.name, pinsFile: values.pins },
    }),
  );
}

async function inspect(ctx: CliContext, { values, rest }: Input<typeof PROXY>): Promise<number> {
  const { server, config, pins, upstream } = await setup(ctx, values, rest);
  const report = await inspectTools({ server, upstream, profile: ctx.profile, config, pins });
  print(ctx, { server, profile: ctx.profile, tools: report }, () => [
    table(describeToolReports(report)),
    `server "${server}", profile ${ctx.profile}; nothing was pinned or called`,
  ]);
  return EXIT.OK;
}

async function proxy(ctx: CliContext, { values, rest }: Input<typeof PROXY>): Promise<number> {
  const { server, config, pins, upstream } = await setup(ctx, values, rest);
  const log = (message: string) => line(ctx.stderr, `codex mcp proxy: ${message}`);
  log(`serving "${server}" under profile ${ctx.profile} (pins: ${pins.path})`);
  const stop = interrupts();
  let run: PermissionProxyRun;
  try {
    run = await runPermissionProxy({
      ...{ server, profile: ctx.profile, config, pins, log, upstream },
      // stdout carries the protocol: once the client stops reading it, the session is over.
      signal: AbortSignal.any([stop.signal, ctx.stdoutGone]),
      ...{ codexConfig: ctx.config, codexHome: ctx.codexHome, env: ctx.env },
      // stdout carries protocol messages only; every diagnostic goes to stderr or the audit log.
      ...{ input: process.stdin, output: ctx.stdout },
    });
  } finally {
    stop.done();
    process.stdin.pause();
  }
  if (run.interrupted) return EXIT.INTERRUPTED;
  if (run.closeReason !== 'server closed the connection') return EXIT.OK;
  const status = upstream instanceof ChildProcessTransport ? upstream.exitStatus : undefined;
  const how = status ? ` (exit code ${status.code ?? `signal ${status.signal}`})` : '';
  line(ctx.stderr, `codex: error: MCP server "${server}" went away${how}`);
  return EXIT.FAILURE;
}

const SERVE = {
  http: bool('Streamable HTTP on loopback instead of stdio'),
  host: str('127.0.0.1', 'the loopback address to listen on (--http)'),
  port: int('N', 'the port to listen on (--http; default: any free one)', { min: 0, max: 65535 }),
  workspace: RUN_FLAGS.workspace,
  ...POLICY_FLAG,
  'allow-degraded': RUN_FLAGS['allow-degraded'],
  ...APPROVAL_FLAG,
  timeout: int('MS', 'the default timeout of a run_command call (default 60 s)', MAX_TIMER),
} as const satisfies Flags;

/** `codex mcp serve`: the guarded shell over stdio, or Streamable HTTP on loopback (`--http`). */
async function serve(ctx: CliContext, { values }: Input<typeof SERVE>): Promise<number> {
  // Evaluations cost microseconds next to a sandbox launch; optimising the policy engine's wasm
  // would cost 1-2 s of CPU at start-up and hold up exit while it finishes.
  oneShotWasm();
  const workspaceRoots = (values.workspace ?? []).map((w) => resolve(ctx.cwd, w));
  const http = values.http ? { port: values.port ?? 0, ...defined({ host: values.host }) } : undefined;
  // Stops on the first signal, for good: the server closes and the command returns. Over stdio it
  // also stops once the client no longer reads its answers (stdout closed): nobody is served.
  const stop = interrupts().signal;
  const signal = values.http ? stop : AbortSignal.any([stop, ctx.stdoutGone]);
  await serveGuardedShell({
    ...{ config: ctx.config, codexHome: ctx.codexHome, cwd: ctx.cwd, env: ctx.env, profile: ctx.profile },
    ...{ explicitProfile: ctx.explicitProfile, version: ctx.version, policies: values.policy ?? [] },
    ...{ allowDegraded: values['allow-degraded'] === true, approvalMode: approvalModeFor(ctx) },
    ...(workspaceRoots.length ? { workspaceRoots } : {}),
    ...defined({ timeoutMs: values.timeout }),
    ...{ http, signal },
    onListening: (url) => {
      line(ctx.stderr, `codex mcp serve: Streamable HTTP on ${url} (profile ${ctx.profile})`);
      if (ctx.json) line(ctx.stdout, JSON.stringify({ url }));
    },
  });
  return EXIT.OK;
}

function pinsCommand(ctx: CliContext, { values, args }: Input<{ pins: typeof PROXY.pins }>): number {
  const [verb = 'list', server, tool] = args;
  const store = openPinStore(ctx.codexHome, values.pins);
  if (verb === 'list') {
    if (server !== undefined) throw new UsageError(`unexpected argument "${server}"`);
    const all = store.list();
    const rows = describePins(all);
    print(ctx, { path: store.path, servers: all }, () =>
      rows.length === 0
        ? `no pinned tools (${store.path})`
        : table([['SERVER', 'TOOL', 'HASH', 'PINNED'], ...rows]),
    );
    return EXIT.OK;
  }
  if (verb === 'forget') {
    if (server === undefined) throw new UsageError('usage: codex mcp pins forget <server> [<tool>]');
    const n = store.forget(server, tool);
    print(ctx, { forgotten: n }, () => `forgot ${n} pin${n === 1 ? '' : 's'}`);
    return n > 0 ? EXIT.OK : EXIT.FAILURE;
  }
  throw new UsageError(`unknown action "${verb}" for "codex mcp pins"; use list or forget`);
}

export const command: Command = {
  help: `serve gives any MCP client a guarded shell (docs/mcp-serve.md): tools run_command and
check_command, through the same exec policy → approval → sandbox → audit pipeline as codex exec;
a prompt decision is asked through MCP elicitation (refused when the client cannot elicit), except
that under -a on-request (default) or never a command prompt only because it is unlisted runs
unasked when the sandbox fully enforces the profile; -a never elicits nothing, -a untrusted asks
about every prompt. stdio by default; --http listens on loopback.
The proxy serves MCP over stdio (stdout carries protocol messages only; diagnostics go to stderr)
and starts the server command, or connects to a Streamable HTTP server with --url.
Every tools/call is written to the audit log ([audit] in config.toml). inspect lists the server's
tools with the risk, decision and pin status the proxy would use, and calls and pins nothing.
Exit codes: 0 the client ended the session, 1 failure (including the server exiting first),
2 usage or config error, 130 interrupted.`,
  actions: {
    serve: action({ flags: SERVE, run: serve }),
    proxy: action({ flags: PROXY, command: '[<server command…>]', run: proxy }),
    inspect: action({ flags: PROXY, command: '[<server command…>]', run: inspect }),
    pins: action({
      args: '[list|forget] [<server>] [<tool>]',
      flags: { pins: PROXY.pins },
      run: pinsCommand,
    }),
  },
};
