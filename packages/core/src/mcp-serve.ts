// `codex mcp serve`: a guarded shell for any MCP client. Every call goes through the same
// pipeline as `codex exec` (runGuardedCommand); a `prompt` decision is asked through MCP
// elicitation, and every call is audited with the client's name.
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isAbsolute, relative, resolve } from 'node:path';
import { createAuditLoggerFromConfig } from '@codex/audit';
import { type AuditEventInput, CodexError } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { GuardedSessionOptions } from './agents.js';
import { resolveWorkspace, type Workspace } from './config.js';
import { createEngine } from './engine.js';
import { CwdOutsideWorkspaceError } from './errors.js';
import { type ApprovalAnswer, type Approver, type GuardedResult, runGuardedCommand } from './guarded.js';

/**
 * The MCP server's options. Under approval mode `on-request` (default) contained unlisted
 * commands run, the rest is asked through MCP elicitation when the client supports it and
 * refused otherwise.
 */
export interface GuardedShellOptions extends GuardedSessionOptions {
  readonly workspaceRoots?: readonly string[];
  /** Default per-call timeout (ms). Default 60 000. */
  readonly timeoutMs?: number;
}

export interface GuardedShell {
  /** Serves one client on stdin/stdout; resolves when it disconnects (in-flight commands killed). */
  serveStdio(stdin?: NodeJS.ReadableStream, stdout?: NodeJS.WritableStream): Promise<void>;
  /** Serves Streamable HTTP on a loopback address; `port` 0 picks a free one. */
  serveHttp(o: { host?: string; port?: number }): Promise<{ url: string; close(): Promise<void> }>;
  /** Kills every running command, writes the pending audit entries and closes the log. */
  close(): Promise<void>;
}

/** Per-call limits. */
export const MCP_LIMITS = {
  maxTimeoutMs: 3_600_000,
  maxOutputBytes: 16 * 1024 * 1024,
  defaultOutputBytes: 1024 * 1024,
} as const;

const commandShape = {
  argv: z.array(z.string().min(1)).min(1).optional().describe('the command as argv (give argv or script)'),
  script: z.string().min(1).max(100_000).optional().describe('a bash script (give argv or script)'),
  cwd: z
    .string()
    .min(1)
    .optional()
    .describe('working directory inside the workspace (default: the first root)'),
};
const runShape = {
  ...commandShape,
  timeout_ms: z.number().int().positive().max(MCP_LIMITS.maxTimeoutMs).optional(),
  max_output_bytes: z.number().int().positive().max(MCP_LIMITS.maxOutputBytes).optional(),
};
type CommandArgs = { argv?: string[] | undefined; script?: string | undefined; cwd?: string | undefined };

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Resolves `cwd` against the first root and refuses anything outside every root (symlinks followed). */
export function workspaceCwd(workspace: Workspace, cwd: string | undefined): string {
  const roots = workspace.workspaceRoots;
  const wanted = resolve(roots[0]!, cwd ?? '.');
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new CodexError('CWD_NOT_FOUND', `cwd ${wanted} does not exist or cannot be resolved`);
  }
  const realRoots = roots.map((r) => {
    try {
      return realpathSync(r);
    } catch {
      return r;
    }
  });
  if (!realRoots.some((r) => inside(r, real))) throw new CwdOutsideWorkspaceError(wanted, roots);
  return real;
}

function commandOf(a: CommandArgs): string[] | { script: string } {
  if ((a.argv === undefined) === (a.script === undefined)) {
    throw new CodexError('BAD_ARGUMENTS', 'give exactly one of argv or script');
  }
  return a.argv ?? { script: a.script! };
}

function errorResult(error: unknown): CallToolResult {
  const code = error instanceof CodexError ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    structuredContent: { error: { code, message } },
  };
}

function resultOf(r: GuardedResult, elicitation: boolean): CallToolResult {
  const run = r.run;
  const data = {
    outcome: r.outcome,
    exitCode: r.exitCode,
    decision: r.decision,
    reasons: [...r.reasons],
    rung: r.assessment?.rung ?? null,
    ...(r.approval ? { approval: r.approval } : {}),
    ...(run
      ? {
          stdout: run.stdout,
          stderr: run.stderr,
          stdoutTruncated: run.stdoutTruncated,
          stderrTruncated: run.stderrTruncated,
          timedOut: run.timedOut,
          durationMs: Math.round(run.durationMs),
          observedDenials: run.observedDenials.map((d) => `${d.kind}: ${d.evidence}`),
        }
      : {}),
    ...(r.refusal ? { refusal: r.refusal } : {}),
  };
  let text = run
    ? `exit ${r.exitCode} (rung ${data.rung})\n${run.stdout}${run.stderr ? `\n[stderr]\n${run.stderr}` : ''}`
    : '';
  if (r.refusal) {
    const hint =
      r.refusal.code === 'APPROVAL_REQUIRED' && !elicitation
        ? ' (this MCP client does not support elicitation, so codex cannot ask you; approve the command with `codex exec` or a policy rule)'
        : '';
    text = `refused (${r.refusal.code}): ${r.refusal.message}${hint}`;
  }
  return { isError: r.outcome === 'refused', content: [{ type: 'text', text }], structuredContent: data };
}

class Shell implements GuardedShell {
  readonly #o: GuardedShellOptions;
  readonly #audit;
  readonly #engine;
  readonly #workspace: Workspace;
  readonly #running = new Set<{ abort: AbortController; done: Promise<unknown> }>();
  readonly #sessionId = `mcp-serve-${randomUUID()}`;
  readonly #servers = new Set<McpServer>();

  constructor(o: GuardedShellOptions) {
    this.#o = o;
    this.#audit = createAuditLoggerFromConfig(o.config.audit, {
      home: o.codexHome,
      env: o.env,
      flushIntervalMs: 0,
    });
    this.#workspace = resolveWorkspace(
      o.config,
      o.profile,
      o.cwd,
      o.workspaceRoots ? { workspaceRoots: o.workspaceRoots } : {},
    );
    this.#engine = createEngine({
      config: o.config,
      codexHome: o.codexHome,
      cwd: o.cwd,
      workspace: this.#workspace.workspaceRoots[0]!,
      extra: o.policies ?? [],
    });
    this.#engine.catch(() => {}); // a bad policy is reported per call, as a fail-safe denial
  }

  /** Logs and starts the write at once (the logger's own deferred flush may not wake the loop). */
  #log(event: AuditEventInput): Promise<void> {
    const written = this.#audit.log(event);
    void this.#audit.flush().catch(() => {});
    return written;
  }

  /** One MCP server per client connection (stdio, or one HTTP session). */
  server(): McpServer {
    const server = new McpServer(
      { name: 'codex-guarded-shell', version: this.#o.version },
      { capabilities: { tools: {} } },
    );
    this.#servers.add(server);
    server.server.onclose = () => void this.#servers.delete(server);
    const client = () => server.server.getClientVersion()?.name ?? 'unknown-client';
    const elicits = () => server.server.getClientCapabilities()?.elicitation !== undefined;
    const approver: Approver = {
      how: 'through MCP elicitation',
      ask: (q) => this.#elicit(server, q.command, q.reason, q.prefix),
    };
    const track = (signal: AbortSignal) => {
      const abort = new AbortController();
      signal.addEventListener('abort', () => abort.abort(), { once: true });
      return abort;
    };
    server.registerTool(
      'run_command',
      {
        description:
          'Run a command in the OS sandbox under the exec policy; returns exit code, output, sandbox rung and the policy decision.',
        inputSchema: runShape,
      },
      async (args, extra) => {
        const abort = track(extra.signal);
        const work = this.#run(args, client(), elicits() ? approver : undefined, abort.signal);
        const entry = { abort, done: work };
        this.#running.add(entry);
        try {
          return await work;
        } finally {
          this.#running.delete(entry);
        }
      },
    );
    server.registerTool(
      'check_command',
      {
        description: 'Decide whether a command may run (allow / prompt / forbidden) and why; runs nothing.',
        inputSchema: commandShape,
      },
      async (args) => this.#check(args, client()),
    );
    return server;
  }

  async #elicit(
    server: McpServer,
    command: string,
    reason: string,
    prefix?: readonly string[],
  ): Promise<ApprovalAnswer> {
    const choices = prefix ? ['yes', 'always', 'no'] : ['yes', 'no'];
    const r = await server.server.elicitInput({
      mode: 'form',
      message: `codex: the exec policy asks before running\n  ${command}\nbecause: ${reason}${prefix ? `\n("always" saves the prefix "${prefix.join(' ')}")` : ''}`,
      requestedSchema: {
        type: 'object',
        properties: { answer: { type: 'string', enum: choices, description: 'run it?' } },
        required: ['answer'],
      },
    });
    if (r.action !== 'accept') return 'no';
    const answer = (r.content as { answer?: unknown } | undefined)?.answer;
    return answer === 'always' && prefix ? 'always' : answer === 'yes' || answer === 'always' ? 'yes' : 'no';
  }

  async #run(
    args: CommandArgs & { timeout_ms?: number | undefined; max_output_bytes?: number | undefined },
    client: string,
    approver: Approver | undefined,
    signal: AbortSignal,
  ): Promise<CallToolResult> {
    let command: string[] | { script: string };
    let cwd: string;
    try {
      command = commandOf(args);
      cwd = workspaceCwd(this.#workspace, args.cwd);
    } catch (error) {
      await this.#log({
        profile: this.#o.profile,
        session_id: this.#sessionId,
        agent_type: 'codex-mcp-serve',
        operation: 'command_exec',
        target: args.script ?? (args.argv ?? []).join(' '),
        decision: 'denied',
        reason: `bad run_command call from ${client}: ${(error as Error).message}`,
        details: { stage: 'input', client },
      });
      return errorResult(error);
    }
    const r = await runGuardedCommand(
      {
        command,
        cwd,
        env: this.#o.env,
        profile: this.#o.profile,
        explicitProfile: this.#o.explicitProfile,
        workspace: this.#workspace,
        allowDegraded: this.#o.allowDegraded === true,
        requireFullIsolation: this.#o.config.sandbox.require_full_isolation,
        timeoutMs: args.timeout_ms ?? this.#o.timeoutMs ?? 60_000,
        maxOutputBytes: args.max_output_bytes ?? MCP_LIMITS.defaultOutputBytes,
        signal,
      },
      {
        engine: this.#engine,
        audit: this.#audit,
        sessionId: this.#sessionId,
        agentType: 'codex-mcp-serve',
        client,
        codexHome: this.#o.codexHome,
        approvalMode: this.#o.approvalMode ?? this.#o.config.approval.mode,
        ...(approver ? { approver } : {}),
      },
    );
    return resultOf(r, approver !== undefined);
  }

  async #check(args: CommandArgs, client: string): Promise<CallToolResult> {
    try {
      const command = commandOf(args);
      const cwd = workspaceCwd(this.#workspace, args.cwd);
      const ev = await (await this.#engine).evaluateAsync(command, {
        profile: this.#o.profile,
        cwd,
        workspaceRoots: this.#workspace.workspaceRoots,
        extraWritableRoots: this.#workspace.extraWritableRoots,
        platform: process.platform,
        ...(this.#o.env.HOME ? { home: this.#o.env.HOME } : {}),
      });
      const target = Array.isArray(command) ? command.join(' ') : command.script;
      await this.#log({
        profile: this.#o.profile,
        session_id: this.#sessionId,
        agent_type: 'codex-mcp-serve',
        operation: 'command_exec',
        target,
        decision:
          ev.decision === 'allow' ? 'allowed' : ev.decision === 'forbidden' ? 'denied' : 'requires_approval',
        reason: `check_command from ${client}: execpolicy ${ev.decision}: ${ev.reasons[0] ?? ''}`,
        details: { stage: 'check', client },
      });
      const data = {
        decision: ev.decision,
        reasons: [...ev.reasons],
        causes: [...ev.causes],
        matchedRules: ev.matchedRules.map((m) => m.id),
      };
      return {
        content: [{ type: 'text', text: `${ev.decision}\n${ev.reasons.join('\n')}` }],
        structuredContent: data,
      };
    } catch (error) {
      return errorResult(error);
    }
  }

  /** Aborts every running command (their process trees are killed) and waits for their audit entries. */
  async killRunning(): Promise<void> {
    const all = [...this.#running];
    for (const r of all) r.abort.abort();
    await Promise.allSettled(all.map((r) => r.done));
  }

  async serveStdio(
    stdin: NodeJS.ReadableStream = process.stdin,
    stdout: NodeJS.WritableStream = process.stdout,
  ): Promise<void> {
    const server = this.server();
    const transport = new StdioServerTransport(stdin as never, stdout as never);
    const closed = new Promise<void>((r) => {
      const forget = server.server.onclose;
      server.server.onclose = () => {
        forget?.();
        r();
      };
    });
    await server.connect(transport);
    // The client went away (stdin ended): kill what it started; nothing may keep running.
    const gone = () => void this.killRunning().then(() => server.close());
    stdin.once('end', gone);
    stdin.once('close', gone);
    await closed;
    await this.killRunning();
  }

  async serveHttp(o: { host?: string; port?: number }) {
    const host = o.host ?? '127.0.0.1';
    if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
      throw new CodexError(
        'NOT_LOOPBACK',
        `codex mcp serve listens on loopback only (127.0.0.0/8, ::1), not ${host}`,
      );
    }
    const sessions = new Map<string, StreamableHTTPServerTransport>();
    const http = createServer((req, res) => void this.#http(req, res, sessions, port()));
    await new Promise<void>((r, j) => http.once('error', j).listen(o.port ?? 0, host, () => r()));
    const port = () => (http.address() as { port: number }).port;
    const shown = host.includes(':') ? `[${host}]` : host;
    return {
      url: `http://${shown}:${port()}/mcp`,
      close: async () => {
        await this.killRunning();
        for (const t of sessions.values()) await t.close();
        await new Promise<void>((r) => http.close(() => r()));
        http.closeAllConnections();
      },
    };
  }

  async #http(
    req: IncomingMessage,
    res: ServerResponse,
    sessions: Map<string, StreamableHTTPServerTransport>,
    port: number,
  ) {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end('not found: the MCP endpoint is /mcp\n');
      return;
    }
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      if (typeof id === 'string') {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'unknown session' }, id: null }),
          );
        return;
      }
      const server = this.server();
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, t),
        enableDnsRebindingProtection: true,
        allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`],
      });
      t.onclose = () => {
        if (t.sessionId) sessions.delete(t.sessionId);
      };
      await server.connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res);
  }

  async close(): Promise<void> {
    await this.killRunning();
    // Closing the servers closes their transports (stdio stops reading stdin), so nothing keeps
    // the process alive after a signal.
    await Promise.allSettled([...this.#servers].map((s) => s.close()));
    await this.#audit.close();
  }
}

/** Creates the guarded shell; serve it with {@link GuardedShell.serveStdio} or {@link GuardedShell.serveHttp}. */
export function createGuardedShell(options: GuardedShellOptions): GuardedShell {
  return new Shell(options);
}

export interface ServeGuardedShellOptions extends GuardedShellOptions {
  /** Streamable HTTP on a loopback address (`port` 0 picks a free one) instead of stdio. */
  readonly http?: { readonly host?: string; readonly port?: number } | undefined;
  /** Serving ends when this aborts (a stdio client may end it first by disconnecting). */
  readonly signal: AbortSignal;
  /** HTTP: called with the server's URL once it listens. */
  readonly onListening?: ((url: string) => void) | undefined;
}

/**
 * `codex mcp serve`: the guarded shell served on stdio until the client disconnects or `signal`
 * aborts, or on HTTP until `signal` aborts; then the shell is closed (running commands killed).
 */
export async function serveGuardedShell(options: ServeGuardedShellOptions): Promise<void> {
  const { http, signal, onListening, ...shellOptions } = options;
  const stop = new Promise<void>((r) => {
    if (signal.aborted) r();
    else signal.addEventListener('abort', () => r(), { once: true });
  });
  const shell = createGuardedShell(shellOptions);
  try {
    if (http === undefined) {
      await Promise.race([shell.serveStdio(), stop]);
      return;
    }
    const server = await shell.serveHttp(http);
    onListening?.(server.url);
    await stop;
    await server.close();
  } finally {
    await shell.close();
  }
}
