// The standard agents behind `codex supervise`. @codex/supervisor is generic; this module
// connects it to the security layer: the guarded-exec pipeline for commands, the WASM plugin
// runner, the MCP permission proxy, and deep research.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createAuditLoggerFromConfig } from '@codex/audit';
import { LocalProvider, renderMarkdown, research } from '@codex/deep-research';
import type { PolicyEngine } from '@codex/execpolicy';
import {
  connectThroughPermissionProxy,
  defaultServerName,
  loadMcpProxyConfig,
  openPinStore,
  PERMISSION_META_KEY,
} from '@codex/mcp-permission';
import type { ApprovalMode, CodexConfig, SecurityProfile } from '@codex/security-profile';
import { outputText, type Supervisor, type TaskContext, TaskDeniedError, z } from '@codex/supervisor';
import { PluginPool, WasmPluginError } from '@codex/wasm-plugin';
import { resolveWorkspace } from './config.js';
import { createEngine } from './engine.js';
import { AgentRunError } from './errors.js';
import { type AuditSinkLike, runGuardedCommand } from './guarded.js';
import { pluginCacheDir } from './plugin-run.js';

const commandInput = z
  .strictObject({
    argv: z.array(z.string().min(1)).min(1).optional(),
    script: z.string().min(1).optional(),
    /** Working directory, relative to where codex runs. */
    cwd: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    timeoutMs: z.number().int().positive().optional(),
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
  /** Name used for rules, pins and audit; default from the command, as `codex mcp proxy` names it. */
  name: z.string().min(1).optional(),
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
  /** An mcp proxy config (TOML when it ends in .toml, else JSON) with per-server/tool risk rules. */
  config: z.string().min(1).optional(),
});
type McpInput = z.output<typeof mcpInput>;

/** What every guarded session (supervisor agents, the MCP server) is started with. */
export interface GuardedSessionOptions {
  readonly config: CodexConfig;
  readonly codexHome: string;
  /** The working directory (and the workspace when the config names none). */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly profile: SecurityProfile;
  /** The profile was asked for explicitly (needed for `trusted`). */
  readonly explicitProfile: boolean;
  /** How `prompt` decisions are handled; default the config's `approval.mode` (`on-request`). */
  readonly approvalMode?: ApprovalMode;
  /** The codex version (reported to MCP peers). */
  readonly version: string;
  /** Run even when the sandbox rung cannot enforce the profile (audited). */
  readonly allowDegraded?: boolean;
  /** Extra `--policy` layers. */
  readonly policies?: readonly string[];
}

/**
 * The standard agents' options. No one can be asked in a supervisor, so approval modes
 * `on-request` and `never` both run the commands the sandbox contains and refuse the rest;
 * `untrusted` refuses every `prompt`.
 */
export interface AgentOptions extends GuardedSessionOptions {
  /** Session id on every audit entry (default `supervise-<uuid>`); a queue worker names itself. */
  readonly sessionId?: string;
  /** Added to the details of every entry these agents audit (a queue worker: worker_id, host). */
  readonly auditDetails?: Readonly<Record<string, string>>;
}

interface Shared extends AgentOptions {
  readonly audit: AuditSinkLike & { close(): Promise<void> };
  readonly sessionId: string;
  readonly engine: () => Promise<PolicyEngine>;
  /** One warm worker pool for every plugin task of this run: one cold start, then warm runs. */
  readonly plugins: () => PluginPool;
}

export interface Agents {
  register(supervisor: Supervisor): void;
  /** What a merge sees of an output: what a command or plugin printed, else the value as text. */
  toText(output: unknown): string;
  close(): Promise<void>;
}

/** A command task: the same guarded pipeline as `codex exec`, with no one to approve a prompt. */
async function commandAgent(o: Shared, input: CommandInput, t: TaskContext) {
  const cwd = resolve(o.cwd, input.cwd ?? '.');
  const command = input.script !== undefined ? { script: input.script } : (input.argv as string[]);
  const r = await runGuardedCommand(
    {
      command,
      cwd,
      env: { ...o.env, ...input.env },
      profile: o.profile,
      explicitProfile: o.explicitProfile,
      workspace: resolveWorkspace(o.config, o.profile, o.cwd),
      allowDegraded: o.allowDegraded === true,
      requireFullIsolation: o.config.sandbox.require_full_isolation,
      signal: t.signal,
      ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
      ...(input.maxOutputBytes === undefined ? {} : { maxOutputBytes: input.maxOutputBytes }),
    },
    {
      engine: o.engine(),
      audit: o.audit,
      sessionId: o.sessionId,
      agentType: t.agentType,
      taskId: t.taskId,
      approvalMode: o.approvalMode ?? o.config.approval.mode,
      unattended: 'in codex supervise (no one to ask)',
    },
  );
  const shown = input.script ?? (input.argv as string[]).join(' ');
  if (r.outcome === 'refused') {
    const unasked = r.refusal!.code === 'APPROVAL_REQUIRED' || r.refusal!.code === 'APPROVAL_NEVER';
    const why = unasked
      ? `needs approval, which codex supervise cannot ask for: ${r.reasons[0]}`
      : r.refusal!.message;
    t.decision(r.decision === 'prompt' && unasked ? 'requires_approval' : 'denied', why);
    throw new TaskDeniedError(why);
  }
  const run = r.run!;
  t.decision('allowed', r.reasons[0] ?? 'allow');
  for (const d of run.observedDenials) t.decision('denied', `${d.kind}: ${d.evidence}`);
  t.score(run.exitCode === 0 ? 1 : 0);
  if (run.exitCode !== 0) {
    throw new AgentRunError(
      'COMMAND_FAILED',
      `${shown} exited ${run.exitCode ?? `on ${run.signal}`}`,
      run.exitCode,
      run.stderr || run.stdout,
    );
  }
  return {
    command: shown,
    exitCode: run.exitCode,
    signal: run.signal,
    rung: run.assessment.rung,
    stdout: run.stdout,
    stderr: run.stderr,
    durationMs: Math.round(run.durationMs),
  };
}

async function pluginAgent(o: Shared, input: PluginInput, t: TaskContext) {
  const path = resolve(o.cwd, input.plugin);
  try {
    // The runner enforces its own time limit (default 5 s); it takes no AbortSignal.
    const r = await o.plugins().run(path, {
      allow: ['stdio', ...input.allow],
      limits: Object.fromEntries(Object.entries(input.limits).filter(([, v]) => v !== undefined)),
      ...(input.input === undefined ? {} : { input: input.input }),
      env: o.env,
      profile: o.profile,
      cacheDir: pluginCacheDir(o.codexHome),
      audit: o.audit,
      sessionId: o.sessionId,
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
}

async function researchAgent(o: Shared, input: ResearchInput, t: TaskContext) {
  const provider = await LocalProvider.open({ dir: resolve(o.cwd, input.corpus) });
  const report = await research(input.question, {
    providers: [provider],
    ...(input.depth === undefined ? {} : { depth: input.depth }),
    ...(input.maxSources === undefined ? {} : { maxSources: input.maxSources }),
    onProgress: (stage, detail) => t.log.debug({ stage, detail }, 'research progress'),
  });
  t.score(report.sources.length);
  return renderMarkdown(report);
}

async function mcpAgent(o: Shared, input: McpInput, t: TaskContext) {
  const [program, ...args] = input.server as [string, ...string[]];
  const server = input.name ?? defaultServerName(input.server);
  const config = loadMcpProxyConfig(input.config === undefined ? undefined : resolve(o.cwd, input.config));
  const conn = await connectThroughPermissionProxy({
    ...{ server, command: program, args, cwd: o.cwd, inheritFrom: o.env },
    ...{ profile: o.profile, audit: o.audit, sessionId: o.sessionId, config },
    pins: openPinStore(o.codexHome),
    clientInfo: { name: 'codex-supervise', version: o.version },
  });
  t.onCleanup(() => conn.close('task finished'));
  t.signal.addEventListener('abort', () => void conn.close('cancelled'), { once: true });
  const result = (await t.wait(conn.callTool(input.tool, input.arguments))) as {
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
}

/**
 * Builds the standard agents for one supervisor run. They share one audit logger (the `[audit]`
 * config), one session id and one policy engine; every decision is audited before anything runs.
 */
export function createStandardAgents(options: AgentOptions): Agents {
  const logger = createAuditLoggerFromConfig(options.config.audit, {
    home: options.codexHome,
    env: options.env,
    flushIntervalMs: 0,
  });
  // Every entry of this run (command, plugin and MCP agents) carries the extra details.
  const extra = options.auditDetails;
  const audit: Shared['audit'] = extra
    ? {
        log: (event) => logger.log({ ...event, details: { ...extra, ...event.details } }),
        flush: () => logger.flush(),
        close: () => logger.close(),
      }
    : logger;
  let engine: Promise<PolicyEngine> | undefined;
  let pool: PluginPool | undefined;
  const o: Shared = {
    ...options,
    audit,
    plugins: () => {
      pool ??= new PluginPool();
      return pool;
    },
    sessionId: options.sessionId ?? `supervise-${randomUUID()}`,
    engine: () => {
      engine ??= createEngine({
        config: options.config,
        codexHome: options.codexHome,
        cwd: options.cwd,
        extra: options.policies ?? [],
      });
      return engine;
    },
  };
  return {
    register(supervisor) {
      supervisor.register('command', (input: CommandInput, t) => commandAgent(o, input, t), {
        input: commandInput,
      });
      supervisor.register('plugin', (input: PluginInput, t) => pluginAgent(o, input, t), {
        input: pluginInput,
      });
      supervisor.register('research', (input: ResearchInput, t) => researchAgent(o, input, t), {
        input: researchInput,
      });
      supervisor.register('mcp', (input: McpInput, t) => mcpAgent(o, input, t), { input: mcpInput });
    },
    toText: agentOutputText,
    close: async () => {
      await pool?.close();
      await audit.close();
    },
  };
}

function agentOutputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output && typeof output === 'object' && 'stdout' in output) return String(output.stdout);
  return outputText(output);
}
