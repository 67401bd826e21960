// The real agents behind `codex supervise`. @codex/supervisor is generic; this file connects it
// to the security layer: exec policy → sandbox → audit for commands, the WASM plugin runner,
// the MCP permission proxy, and deep research.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { createAuditLoggerFromConfig } from '@codex/audit';
import { LocalProvider, renderMarkdown, research } from '@codex/deep-research';
import { createPolicyEngine, type PolicyEngine } from '@codex/execpolicy';
import {
  ChildProcessTransport,
  defaultServerEnvironment,
  McpPermissionProxy,
  PERMISSION_META_KEY,
  PinStore,
  parseMcpProxyConfig,
  StreamTransport,
} from '@codex/mcp-permission';
import type { ObservedDenial, SandboxResult } from '@codex/sandbox-linux';
import {
  type AuditEventInput,
  type AuditOperation,
  type AuditSink,
  CAPABILITIES,
  CodexError,
  toSandboxPolicy,
} from '@codex/security-profile';
import { type Supervisor, type TaskContext, TaskDeniedError, z } from '@codex/supervisor';
import { runPlugin, WasmPluginError } from '@codex/wasm-plugin';
import type { CliContext } from '../context.js';
import { collectPolicyLayers } from '../policy-layers.js';
import { backendForPlatform } from './sandbox.js';

export const AGENT_TYPES = ['command', 'plugin', 'research', 'mcp'] as const;

/** A command, plugin or tool ran and reported failure (non-zero exit, tool error). */
export class AgentRunError extends CodexError {
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(code: string, message: string, exitCode: number | null, stderr: string) {
    super(code, message);
    this.exitCode = exitCode;
    this.stderrTail = tail(stderr, 20);
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

const commandInput = z
  .strictObject({
    argv: z.array(z.string().min(1)).min(1).optional(),
    script: z.string().min(1).optional(),
    /** Working directory, relative to where codex runs. */
    cwd: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    maxOutputBytes: z.number().int().positive().optional(),
  })
  .refine((x) => (x.argv === undefined) !== (x.script === undefined), 'give exactly one of argv or script');
type CommandInput = z.output<typeof commandInput>;

const pluginInput = z.strictObject({
  plugin: z.string().min(1),
  input: z.string().optional(),
  allow: z.array(z.string().min(1)).default([]),
  limits: z
    .strictObject({
      fuel: z.number().int().positive().optional(),
      timeoutMs: z.number().int().positive().optional(),
      memoryBytes: z.number().int().positive().optional(),
      maxOutputBytes: z.number().int().positive().optional(),
    })
    .default({}),
});
type PluginInput = z.output<typeof pluginInput>;

const researchInput = z.strictObject({
  question: z.string().min(1),
  corpus: z.string().min(1),
  depth: z.number().int().min(1).max(10).optional(),
  maxSources: z.number().int().min(1).max(100).optional(),
});
type ResearchInput = z.output<typeof researchInput>;

const mcpInput = z.strictObject({
  /** The MCP server to start (stdio), as argv. */
  server: z.array(z.string().min(1)).min(1),
  /** Name used for rules, pins and audit; default the program's base name. */
  name: z.string().min(1).optional(),
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** An mcp proxy config (JSON) with per-server/tool risk rules. */
  config: z.string().min(1).optional(),
});
type McpInput = z.output<typeof mcpInput>;

export interface Agents {
  register(supervisor: Supervisor): void;
  close(): Promise<void>;
}

/**
 * Builds the real agents for one `codex supervise` run. They share one audit logger (the
 * `[audit]` config) and one session id; every decision is audited before anything runs.
 */
export async function createAgents(
  ctx: CliContext,
  options: {
    allowDegraded: boolean;
    policies: readonly string[];
    /** Session id on every audit entry (default `supervise-<uuid>`); a queue worker names itself. */
    sessionId?: string;
    /** Added to the details of every entry the command agent audits (a queue worker: worker_id, host). */
    auditDetails?: Readonly<Record<string, string>>;
  },
): Promise<Agents> {
  const sessionId = options.sessionId ?? `supervise-${randomUUID()}`;
  const audit = createAuditLoggerFromConfig(ctx.config.audit, {
    home: ctx.codexHome,
    env: ctx.env,
    flushIntervalMs: 0,
  });
  // every entry of this run (the command agent's, the plugin runner's, the MCP proxy's) carries
  // the extra details, e.g. a queue worker's worker_id and host
  const extra = options.auditDetails;
  const sink: AuditSink = extra
    ? { log: (event) => audit.log({ ...event, details: { ...extra, ...event.details } }) }
    : audit;
  let engine: Promise<PolicyEngine> | undefined;
  const policyEngine = () => {
    engine ??= createPolicyEngine({ layers: collectPolicyLayers(ctx, { extra: options.policies }) });
    return engine;
  };
  const workspaceRoots = ctx.config.sandbox.workspace_roots ?? [ctx.cwd];
  const writesWorkspace = CAPABILITIES[ctx.profile].write === 'workspace';
  const extraWritableRoots = writesWorkspace ? ctx.config.sandbox.extra_writable_roots : [];

  const record = (
    t: TaskContext,
    event: Omit<AuditEventInput, 'profile' | 'session_id' | 'task_id' | 'agent_type'>,
  ) =>
    sink.log({
      ...event,
      profile: ctx.profile,
      session_id: sessionId,
      task_id: t.taskId,
      agent_type: t.agentType,
    });

  const commandAgent = async (input: CommandInput, t: TaskContext) => {
    const cwd = resolve(ctx.cwd, input.cwd ?? '.');
    const shown = input.script ?? (input.argv as string[]).join(' ');
    // 1. exec policy: forbidden is denied; prompt cannot be asked here, so it is not run either
    const evaluation = (await policyEngine()).evaluate(
      input.script !== undefined ? { script: input.script } : (input.argv as string[]),
      {
        profile: ctx.profile,
        cwd,
        workspaceRoots,
        extraWritableRoots,
        platform: process.platform,
        home: ctx.env.HOME || homedir(),
      },
    );
    const reason = evaluation.reasons[0] ?? evaluation.decision;
    const rules = evaluation.matchedRules.map((r) => r.id).join(',');
    if (evaluation.decision !== 'allow') {
      const decision = evaluation.decision === 'forbidden' ? 'denied' : 'requires_approval';
      await record(t, {
        operation: 'command_exec',
        target: shown,
        decision,
        reason,
        details: { stage: 'execpolicy', rules },
      });
      t.decision(decision, reason);
      throw new TaskDeniedError(
        evaluation.decision === 'forbidden'
          ? reason
          : `needs approval, which codex supervise cannot ask for: ${reason}`,
      );
    }
    t.decision('allowed', reason);
    // 2. the sandbox for the profile; it refuses (before spawning) when it cannot enforce it
    const policy = toSandboxPolicy(ctx.profile, {
      workspaceRoots,
      extraWritableRoots,
      explicit: ctx.profileSource !== 'default',
    });
    const backend = backendForPlatform();
    if (!backend) {
      const why = `no sandbox backend for ${process.platform}; refusing to run unsandboxed`;
      await record(t, {
        operation: 'process_spawn',
        target: shown,
        decision: 'denied',
        reason: why,
        details: { stage: 'sandbox', code: 'SANDBOX_UNAVAILABLE' },
      });
      t.decision('denied', why);
      throw new TaskDeniedError(why);
    }
    let result: SandboxResult;
    try {
      result = await backend.run({
        policy,
        command: input.script !== undefined ? ['sh', '-c', input.script] : (input.argv as string[]),
        cwd,
        env: { ...ctx.env, ...input.env },
        signal: t.signal,
        allowDegraded: options.allowDegraded,
        ...(input.maxOutputBytes === undefined ? {} : { maxOutputBytes: input.maxOutputBytes }),
      });
    } catch (error) {
      if (t.signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof CodexError ? error.code : 'SANDBOX_ERROR';
      await record(t, {
        operation: 'process_spawn',
        target: shown,
        decision: 'denied',
        reason: message,
        details: { stage: 'sandbox', code },
      });
      t.decision('denied', message);
      throw new TaskDeniedError(message, { cause: error });
    }
    // 3. audit what ran, how it was enforced, and every denial seen in its output
    const a = result.assessment;
    await record(t, {
      operation: 'command_exec',
      target: shown,
      decision: 'allowed',
      reason:
        a.unenforced.length > 0
          ? `ran DEGRADED (--allow-degraded): ${a.unenforced.join(', ')} not enforced`
          : reason,
      details: {
        rung: a.rung,
        exit_code: result.exitCode,
        timed_out: result.timedOut,
        rules,
        degraded: a.unenforced.length > 0,
      },
    });
    for (const d of result.observedDenials) {
      await record(t, {
        operation: denialOperation(d),
        target: shown,
        decision: 'denied',
        reason: d.evidence,
        details: { stage: 'sandbox', kind: d.kind },
      });
      t.decision('denied', `${d.kind}: ${d.evidence}`);
    }
    const output = {
      command: shown,
      exitCode: result.exitCode,
      signal: result.signal,
      rung: a.rung,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: Math.round(result.durationMs),
    };
    t.score(result.exitCode === 0 ? 1 : 0);
    if (result.exitCode !== 0) {
      throw new AgentRunError(
        'COMMAND_FAILED',
        `${shown} exited ${result.exitCode ?? `on ${result.signal}`}`,
        result.exitCode,
        result.stderr || result.stdout,
      );
    }
    return output;
  };

  const pluginAgent = async (input: PluginInput, t: TaskContext) => {
    const path = resolve(ctx.cwd, input.plugin);
    try {
      // The runner enforces its own time limit (default 5 s); it takes no AbortSignal.
      const r = await runPlugin(path, {
        allow: ['stdio', ...input.allow],
        limits: Object.fromEntries(Object.entries(input.limits).filter(([, v]) => v !== undefined)),
        ...(input.input === undefined ? {} : { input: input.input }),
        env: ctx.env,
        profile: ctx.profile,
        cacheDir: join(ctx.codexHome, 'cache', 'wasm-plugin'),
        audit: sink,
        sessionId,
        taskId: t.taskId,
      });
      const decoder = new TextDecoder();
      const stdout = decoder.decode(r.stdout);
      const stderr = decoder.decode(r.stderr);
      for (const d of r.denials) t.decision('denied', `${d.capability}: ${d.detail}`);
      if (r.exitCode !== 0)
        throw new AgentRunError(
          'PLUGIN_FAILED',
          `plugin ${input.plugin} exited ${r.exitCode}`,
          r.exitCode,
          stderr,
        );
      t.score(1);
      return {
        plugin: input.plugin,
        exitCode: r.exitCode,
        stdout,
        stderr,
        fuelUsed: r.fuelUsed,
        durationMs: Math.round(r.durationMs),
      };
    } catch (error) {
      if (
        error instanceof WasmPluginError &&
        (error.code === 'CAPABILITY_DENIED' || error.code === 'LIMIT_DENIED')
      ) {
        t.decision('denied', error.message);
        throw new TaskDeniedError(error.message, { cause: error });
      }
      throw error;
    }
  };

  const researchAgent = async (input: ResearchInput, t: TaskContext) => {
    const provider = await LocalProvider.open({ dir: resolve(ctx.cwd, input.corpus) });
    const report = await research(input.question, {
      providers: [provider],
      ...(input.depth === undefined ? {} : { depth: input.depth }),
      ...(input.maxSources === undefined ? {} : { maxSources: input.maxSources }),
      onProgress: (stage, detail) => t.log.debug({ stage, detail }, 'research progress'),
    });
    t.score(report.sources.length);
    return renderMarkdown(report);
  };

  const mcpAgent = async (input: McpInput, t: TaskContext) => {
    const [program, ...args] = input.server as [string, ...string[]];
    const server = input.name ?? program.split('/').pop() ?? program;
    const config = input.config
      ? parseMcpProxyConfig(JSON.parse(readFileSync(resolve(ctx.cwd, input.config), 'utf8')), input.config)
      : undefined;
    const toProxy = new PassThrough();
    const fromProxy = new PassThrough();
    const proxy = new McpPermissionProxy({
      server,
      profile: ctx.profile,
      audit: sink,
      sessionId,
      ...(config ? { config } : {}),
      pins: new PinStore({ path: join(ctx.codexHome, 'mcp-pins.json') }),
      upstream: new ChildProcessTransport({
        command: program,
        args,
        cwd: ctx.cwd,
        env: defaultServerEnvironment(ctx.env),
        stderr: 'ignore',
      }),
      downstream: new StreamTransport(toProxy, fromProxy),
    });
    t.onCleanup(() => proxy.close('task finished'));
    t.signal.addEventListener('abort', () => void proxy.close('cancelled'), { once: true });
    const client = new LineClient(toProxy, fromProxy);
    await proxy.start();
    await client.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'codex-supervise', version: ctx.version },
    });
    client.notify('notifications/initialized');
    const result = (await t.wait(
      client.request('tools/call', { name: input.tool, arguments: input.arguments }),
    )) as {
      content?: { type: string; text?: string }[];
      isError?: boolean;
      _meta?: Record<string, { decision?: string; approval?: string } | undefined>;
    };
    const text = (result.content ?? []).map((c) => c.text ?? `[${c.type}]`).join('\n');
    const permission = result._meta?.[PERMISSION_META_KEY];
    if (permission?.decision === 'deny') {
      t.decision(permission.approval === 'unavailable' ? 'requires_approval' : 'denied', text);
      throw new TaskDeniedError(text);
    }
    t.decision('allowed', `${server}/${input.tool}`);
    if (result.isError)
      throw new AgentRunError(
        'TOOL_FAILED',
        `${server}/${input.tool} failed: ${text.split('\n')[0]}`,
        null,
        text,
      );
    t.score(1);
    return text;
  };

  return {
    register(supervisor) {
      supervisor.register('command', commandAgent, { input: commandInput });
      supervisor.register('plugin', pluginAgent, { input: pluginInput });
      supervisor.register('research', researchAgent, { input: researchInput });
      supervisor.register('mcp', mcpAgent, { input: mcpInput });
    },
    close: () => audit.close(),
  };
}

function denialOperation(d: ObservedDenial): AuditOperation {
  if (d.kind === 'network') return 'network_access';
  if (d.kind === 'process-limit') return 'process_spawn';
  return 'file_write';
}

/** A minimal newline-delimited JSON-RPC client over the proxy's downstream streams. */
class LineClient {
  #next = 1;
  #buffer = '';
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly #out: PassThrough;

  constructor(out: PassThrough, input: PassThrough) {
    this.#out = out;
    input.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      for (let nl = this.#buffer.indexOf('\n'); nl !== -1; nl = this.#buffer.indexOf('\n')) {
        const text = this.#buffer.slice(0, nl).trim();
        this.#buffer = this.#buffer.slice(nl + 1);
        if (text) this.#dispatch(text);
      }
    });
    input.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new CodexError('MCP_CLOSED', 'the MCP proxy closed'));
      this.#pending.clear();
    });
  }

  #dispatch(text: string): void {
    let message: { id?: number; result?: unknown; error?: { message: string; code: number } };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message.id !== 'number') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.error)
      pending.reject(
        new CodexError('MCP_ERROR', `MCP error ${message.error.code}: ${message.error.message}`),
      );
    else pending.resolve(message.result);
  }

  request(method: string, params: unknown): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#out.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string): void {
    this.#out.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }
}
