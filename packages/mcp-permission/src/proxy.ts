import type { AuditEventInput, AuditSink, SecurityProfile } from '@codex/security-profile';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestParamsSchema,
  ElicitResultSchema,
  ErrorCode,
  InitializeRequestParamsSchema,
  type JSONRPCMessage,
  ListToolsResultSchema,
  type RequestId,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { defaultMcpProxyConfig, type McpProxyConfig, resolveRule } from './config.js';
import type { FramingProblem } from './framing.js';
import { hashTool, type PinStatus, PinStore } from './pins.js';
import {
  type Classification,
  classifyTool,
  defaultRequiresApproval,
  type McpPermission,
  requiresUserApproval,
} from './risk.js';
import { summariseArguments } from './summary.js';
import type { FramedTransport } from './transport.js';

/** Everything the config, the classifier and the profile say about one tool. */
export interface ToolEvaluation {
  readonly permission: McpPermission;
  readonly classification: Classification;
  /** Forbidden by the config: hidden and refused. */
  readonly forbidden: boolean;
  /** Whether a call needs a person's approval under the profile (see requiresUserApproval). */
  readonly approval: boolean;
}

/** Evaluates one tool definition for a server under a profile and a proxy config. */
export function evaluateTool(
  tool: Pick<Tool, 'name'> & Partial<Tool>,
  options: { server: string; profile: SecurityProfile; config?: McpProxyConfig },
): ToolEvaluation {
  const rule = resolveRule(options.config ?? defaultMcpProxyConfig(), options.server, tool.name);
  const classification = classifyTool(tool, rule.risk);
  const permission: McpPermission = {
    server: options.server,
    tool: tool.name,
    riskLevel: classification.level,
    requiresApproval: rule.requiresApproval ?? defaultRequiresApproval(classification.level),
  };
  return {
    permission,
    classification,
    forbidden: rule.forbidden,
    approval: requiresUserApproval(permission, options.profile),
  };
}

/** `_meta` key under which `tools/list` entries carry their permission. */
export const PERMISSION_META_KEY = 'codex/permission';

export type CallDecision = 'allow' | 'deny';

/** Everything the proxy worked out about one tools/call. */
export interface CallVerdict {
  readonly decision: CallDecision;
  readonly permission: McpPermission;
  readonly classification: Classification;
  readonly reason: string;
  /** Whether a person was asked, and how it went. */
  readonly approval:
    | 'not_required'
    | 'accepted'
    | 'declined'
    | 'cancelled'
    | 'timeout'
    | 'unavailable'
    | 'error';
  readonly pin: PinStatus | 'unknown_tool';
  readonly forbidden: boolean;
}

export interface McpPermissionProxyOptions {
  /** Name of the upstream server, used for config matching, pins and audit. */
  readonly server: string;
  /** Transport to the real MCP server. */
  readonly upstream: Transport | FramedTransport;
  /** Transport to the MCP client (usually stdio). */
  readonly downstream: Transport | FramedTransport;
  readonly profile: SecurityProfile;
  readonly audit: AuditSink;
  readonly config?: McpProxyConfig;
  /** Defaults to an in-memory store (pins last as long as the proxy). */
  readonly pins?: PinStore;
  /** Diagnostics; never stdout when serving over stdio. Default: ignore. */
  readonly log?: (message: string) => void;
  readonly sessionId?: string;
}

type Pending =
  | { kind: 'client'; clientId: RequestId; method: string }
  | { kind: 'own'; resolve: (m: JSONRPCMessage) => void; reject: (e: Error) => void };
type PendingDown =
  | { kind: 'server'; serverId: RequestId }
  | { kind: 'own'; resolve: (m: JSONRPCMessage) => void; reject: (e: Error) => void };

type RequestMessage = { jsonrpc: '2.0'; id: RequestId; method: string; params?: Record<string, unknown> };

function isRequest(m: JSONRPCMessage): m is RequestMessage & JSONRPCMessage {
  return 'method' in m && 'id' in m;
}
function isNotification(
  m: JSONRPCMessage,
): m is { jsonrpc: '2.0'; method: string; params?: Record<string, unknown> } {
  return 'method' in m && !('id' in m);
}
function isResponse(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } {
  return !('method' in m) && ('result' in m || 'error' in m);
}

class OwnRequestError extends Error {}

/**
 * A permission-enforcing MCP proxy. It forwards every JSON-RPC message between a client and a
 * server, remapping request ids so its own requests never collide with theirs, and steps in on:
 * `initialize` (to learn whether the client can be asked), `tools/list` (hides forbidden tools,
 * annotates the rest with their risk, pins definitions) and `tools/call` (allow, deny or ask).
 */
export class McpPermissionProxy {
  readonly server: string;
  readonly profile: SecurityProfile;
  readonly config: McpProxyConfig;
  readonly pins: PinStore;
  readonly #up: Transport | FramedTransport;
  readonly #down: Transport | FramedTransport;
  readonly #audit: AuditSink;
  readonly #log: (message: string) => void;
  readonly #sessionId: string | undefined;
  #nextUp = 1;
  #nextDown = 1;
  readonly #pendingUp = new Map<RequestId, Pending>();
  readonly #pendingDown = new Map<RequestId, PendingDown>();
  /** client request id → upstream id, for cancellation. */
  readonly #clientToUp = new Map<RequestId, RequestId>();
  /** server request id → downstream id, for cancellation. */
  readonly #serverToDown = new Map<RequestId, RequestId>();
  /** tools/call requests still being decided: client id → abort. */
  readonly #deciding = new Map<RequestId, AbortController>();
  readonly #tools = new Map<string, Tool>();
  #toolsStale = true;
  #clientCanElicit = false;
  #closed = false;
  #closeReason: string | undefined;
  #closedResolve!: () => void;
  /** Resolves when either side has gone away and the proxy has shut down. */
  readonly closed: Promise<void>;

  constructor(options: McpPermissionProxyOptions) {
    this.server = options.server;
    this.profile = options.profile;
    this.config = options.config ?? defaultMcpProxyConfig();
    this.pins = options.pins ?? new PinStore();
    this.#up = options.upstream;
    this.#down = options.downstream;
    this.#audit = options.audit;
    this.#log = options.log ?? (() => {});
    this.#sessionId = options.sessionId;
    this.closed = new Promise((resolve) => {
      this.#closedResolve = resolve;
    });
  }

  /** Why the proxy shut down: `server closed the connection`, `client closed the connection`… */
  get closeReason(): string | undefined {
    return this.#closeReason;
  }

  /** Requests in flight in either direction (for tests and diagnostics). */
  get pendingRequests(): number {
    return this.#pendingUp.size + this.#pendingDown.size + this.#deciding.size;
  }

  /** Starts the upstream, then the downstream transport. */
  async start(): Promise<void> {
    const up = this.#up as FramedTransport;
    const down = this.#down as FramedTransport;
    up.onmessage = (m) => this.#fromServer(m);
    up.onproblem = (p) => this.#serverProblem(p);
    up.onerror = (e) => this.#log(`upstream error: ${e.message}`);
    up.onclose = () => void this.close('server closed the connection');
    down.onmessage = (m) => this.#fromClient(m);
    down.onproblem = (p) => this.#clientProblem(p);
    down.onerror = (e) => this.#log(`client transport error: ${e.message}`);
    down.onclose = () => void this.close('client closed the connection');
    await up.start();
    await down.start();
  }

  async close(why = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = why;
    this.#log(`proxy for "${this.server}" shutting down: ${why}`);
    for (const [upId, p] of this.#pendingUp) {
      if (p.kind === 'client') {
        await this.#sendDown({
          jsonrpc: '2.0',
          id: p.clientId,
          error: { code: ErrorCode.ConnectionClosed, message: `codex mcp proxy: ${why}` },
        });
      } else p.reject(new OwnRequestError(why));
      this.#pendingUp.delete(upId);
    }
    for (const ac of this.#deciding.values()) ac.abort();
    for (const p of this.#pendingDown.values()) if (p.kind === 'own') p.reject(new OwnRequestError(why));
    await Promise.allSettled([this.#up.close(), this.#down.close()]);
    this.#closedResolve();
  }

  async #sendDown(message: JSONRPCMessage): Promise<void> {
    try {
      await this.#down.send(message);
    } catch (error) {
      this.#log(`cannot send to client: ${(error as Error).message}`);
    }
  }

  async #sendUp(message: JSONRPCMessage): Promise<void> {
    try {
      await this.#up.send(message);
    } catch (error) {
      this.#log(`cannot send to server: ${(error as Error).message}`);
      if (isRequest(message))
        this.#failUpstreamRequest(message.id, `cannot reach the server: ${(error as Error).message}`);
    }
  }

  #failUpstreamRequest(upId: RequestId, message: string, code: number = ErrorCode.InternalError): void {
    const p = this.#pendingUp.get(upId);
    if (!p) return;
    this.#pendingUp.delete(upId);
    if (p.kind === 'own') {
      p.reject(new OwnRequestError(message));
      return;
    }
    this.#clientToUp.delete(p.clientId);
    void this.#sendDown({
      jsonrpc: '2.0',
      id: p.clientId,
      error: { code, message: `codex mcp proxy: ${message}`, data: { server: this.server } },
    });
  }

  /** An unexpected error while handling a client request: answer it with an error, never crash. */
  #internalFailure(clientId: RequestId, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    this.#log(`internal error: ${message}`);
    void this.#sendDown({
      jsonrpc: '2.0',
      id: clientId,
      error: {
        code: ErrorCode.InternalError,
        message: `codex mcp proxy: ${message}`,
        data: { server: this.server, ...(typeof code === 'string' ? { code } : {}) },
      },
    });
  }

  // ---- client → server ---------------------------------------------------------------------

  #fromClient(message: JSONRPCMessage): void {
    if (isRequest(message)) {
      if (message.method === 'initialize') {
        const params = InitializeRequestParamsSchema.safeParse(message.params);
        const elicitation = params.success ? params.data.capabilities.elicitation : undefined;
        // Form mode is what the proxy uses; an empty object means form (spec 2025-06-18).
        this.#clientCanElicit =
          elicitation !== undefined &&
          (Object.keys(elicitation).length === 0 || (elicitation as { form?: unknown }).form !== undefined);
      }
      if (message.method === 'tools/call') {
        this.#handleCall(message).catch((error: unknown) => this.#internalFailure(message.id, error));
        return;
      }
      this.#forwardRequestUp(message);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/cancelled') {
        const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (requestId !== undefined) {
          const deciding = this.#deciding.get(requestId);
          if (deciding) {
            deciding.abort();
            return;
          }
          const upId = this.#clientToUp.get(requestId);
          if (upId === undefined) return;
          // A cancelled request gets no response; forget it so the maps do not grow.
          this.#clientToUp.delete(requestId);
          this.#pendingUp.delete(upId);
          void this.#sendUp({ ...message, params: { ...message.params, requestId: upId } } as JSONRPCMessage);
          return;
        }
      }
      void this.#sendUp(message);
      return;
    }
    if (isResponse(message)) {
      const p = this.#pendingDown.get(message.id);
      if (!p) {
        this.#log(`dropping a response from the client to unknown request ${String(message.id)}`);
        return;
      }
      this.#pendingDown.delete(message.id);
      if (p.kind === 'own') {
        p.resolve(message);
        return;
      }
      this.#serverToDown.delete(p.serverId);
      void this.#sendUp({ ...message, id: p.serverId } as JSONRPCMessage);
    }
  }

  #forwardRequestUp(message: RequestMessage): void {
    const upId = this.#nextUp++;
    this.#pendingUp.set(upId, { kind: 'client', clientId: message.id, method: message.method });
    this.#clientToUp.set(message.id, upId);
    void this.#sendUp({ ...message, id: upId } as JSONRPCMessage);
  }

  #clientProblem(problem: FramingProblem): void {
    this.#log(`bad message from client: ${problem.detail}`);
    const code = problem.kind === 'invalid_json' ? ErrorCode.ParseError : ErrorCode.InvalidRequest;
    const error = {
      code,
      message: `codex mcp proxy: ${problem.detail}`,
      data: { code: problem.kind === 'too_large' ? 'MCP_MESSAGE_TOO_LARGE' : 'MCP_PROTOCOL' },
    };
    void this.#sendDown(
      (problem.id !== undefined
        ? { jsonrpc: '2.0', id: problem.id, error }
        : { jsonrpc: '2.0', id: null, error }) as unknown as JSONRPCMessage,
    );
  }

  // ---- server → client ---------------------------------------------------------------------

  #fromServer(message: JSONRPCMessage): void {
    if (isRequest(message)) {
      const downId = this.#nextDown++;
      this.#pendingDown.set(downId, { kind: 'server', serverId: message.id });
      this.#serverToDown.set(message.id, downId);
      void this.#sendDown({ ...message, id: downId } as JSONRPCMessage);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/tools/list_changed') this.#toolsStale = true;
      if (message.method === 'notifications/cancelled') {
        const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        const downId = requestId === undefined ? undefined : this.#serverToDown.get(requestId);
        if (downId === undefined) return;
        this.#serverToDown.delete(requestId!);
        this.#pendingDown.delete(downId);
        void this.#sendDown({
          ...message,
          params: { ...message.params, requestId: downId },
        } as JSONRPCMessage);
        return;
      }
      void this.#sendDown(message);
      return;
    }
    if (isResponse(message)) {
      const p = this.#pendingUp.get(message.id);
      if (!p) {
        this.#log(`dropping a response from the server to unknown request ${String(message.id)}`);
        return;
      }
      this.#pendingUp.delete(message.id);
      if (p.kind === 'own') {
        p.resolve(message);
        return;
      }
      this.#clientToUp.delete(p.clientId);
      let out: JSONRPCMessage = { ...message, id: p.clientId } as JSONRPCMessage;
      if (p.method === 'initialize' && 'result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') this.#up.setProtocolVersion?.(version);
      }
      if (p.method === 'tools/list' && 'result' in message) {
        let filtered: Record<string, unknown> | undefined;
        try {
          filtered = this.#filterToolList(message.result);
        } catch (error) {
          // Fail safe: a list that could not be checked (e.g. the pin file is unwritable) is not shown.
          this.#internalFailure(p.clientId, error);
          return;
        }
        if (filtered === undefined) {
          out = {
            jsonrpc: '2.0',
            id: p.clientId,
            error: {
              code: ErrorCode.InternalError,
              message: 'codex mcp proxy: the server sent an invalid tools/list result',
              data: { code: 'MCP_PROTOCOL', server: this.server },
            },
          };
        } else out = { ...message, id: p.clientId, result: filtered } as JSONRPCMessage;
      }
      void this.#sendDown(out);
    }
  }

  #serverProblem(problem: FramingProblem): void {
    this.#log(`bad message from server "${this.server}": ${problem.detail}`);
    const code = problem.kind === 'too_large' ? 'MCP_MESSAGE_TOO_LARGE' : 'MCP_PROTOCOL';
    if (problem.id !== undefined && this.#pendingUp.has(problem.id)) {
      this.#failUpstreamRequest(problem.id, `the server's response was dropped: ${problem.detail}`);
      return;
    }
    void this.#sendDown({
      jsonrpc: '2.0',
      method: 'notifications/message',
      params: {
        level: 'error',
        logger: 'codex-mcp-proxy',
        data: { code, message: `dropped a message from server "${this.server}": ${problem.detail}` },
      },
    });
  }

  // ---- tools ---------------------------------------------------------------------------------

  /** Permission of one tool definition under this proxy's config and profile. */
  permissionOf(tool: Pick<Tool, 'name'> & Partial<Tool>): ToolEvaluation {
    return evaluateTool(tool, { server: this.server, profile: this.profile, config: this.config });
  }

  #filterToolList(result: unknown): Record<string, unknown> | undefined {
    const parsed = ListToolsResultSchema.safeParse(result);
    if (!parsed.success) return undefined;
    const visible: Tool[] = [];
    for (const tool of parsed.data.tools) {
      this.#tools.set(tool.name, tool);
      const { permission, classification, forbidden, approval } = this.permissionOf(tool);
      const pin = this.pins.check(this.server, tool.name, hashTool(tool));
      if (pin === 'changed') this.#reportChange(tool.name);
      if (forbidden) continue;
      if (pin === 'changed' && this.config.on_tool_change === 'block') continue;
      visible.push({
        ...tool,
        _meta: {
          ...tool._meta,
          [PERMISSION_META_KEY]: {
            risk: permission.riskLevel,
            source: classification.source,
            requiresApproval: approval || pin === 'changed',
            ...(pin === 'changed' ? { changedSincePinned: true } : {}),
          },
        },
      });
    }
    if (parsed.data.nextCursor === undefined) this.#toolsStale = false;
    return { ...(result as Record<string, unknown>), tools: visible };
  }

  #reportChange(tool: string): void {
    this.#log(`tool "${tool}" of server "${this.server}" changed since it was pinned`);
    void this.#auditSafe({
      profile: this.profile,
      operation: 'mcp_tool_call',
      target: `${this.server}/${tool}`,
      decision: this.config.on_tool_change === 'block' ? 'denied' : 'requires_approval',
      reason: `tool definition changed since it was pinned (on_tool_change=${this.config.on_tool_change})`,
      details: { server: this.server, tool, event: 'tool_changed' },
    });
  }

  async #auditSafe(event: AuditEventInput): Promise<boolean> {
    try {
      await this.#audit.log(this.#sessionId ? { ...event, session_id: this.#sessionId } : event);
      return true;
    } catch (error) {
      this.#log(`audit failed: ${(error as Error).message}`);
      return false;
    }
  }

  /** Sends a request of the proxy's own to the server. */
  #requestUp(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JSONRPCMessage> {
    const upId = this.#nextUp++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pendingUp.delete(upId);
        reject(new OwnRequestError(`${method} timed out`));
      }, timeoutMs);
      this.#pendingUp.set(upId, {
        kind: 'own',
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      void this.#sendUp({ jsonrpc: '2.0', id: upId, method, params });
    });
  }

  /** Re-reads the server's tool list (all pages) when it is stale or lacks `name`. */
  async #refreshTools(name: string): Promise<void> {
    if (!this.#toolsStale && this.#tools.has(name)) return;
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      let response: JSONRPCMessage;
      try {
        response = await this.#requestUp('tools/list', cursor ? { cursor } : {}, 30_000);
      } catch (error) {
        this.#log(`cannot refresh the tool list: ${(error as Error).message}`);
        return;
      }
      if (!('result' in response)) return;
      const parsed = ListToolsResultSchema.safeParse(response.result);
      if (!parsed.success) return;
      this.#filterToolList(response.result);
      cursor = parsed.data.nextCursor;
      if (cursor === undefined) return;
    }
  }

  async #handleCall(message: RequestMessage): Promise<void> {
    const params = CallToolRequestParamsSchema.safeParse(message.params);
    if (!params.success) {
      const issue = params.error.issues[0];
      await this.#auditSafe({
        profile: this.profile,
        operation: 'mcp_tool_call',
        target: `${this.server}/?`,
        decision: 'denied',
        reason: 'invalid tools/call params',
        details: { server: this.server, tool: null, decision: 'deny' },
      });
      await this.#sendDown({
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: ErrorCode.InvalidParams,
          message: `codex mcp proxy: invalid tools/call params (${issue?.path.join('.') || 'params'}: ${issue?.message})`,
        },
      });
      return;
    }
    const ac = new AbortController();
    this.#deciding.set(message.id, ac);
    let verdict: CallVerdict;
    try {
      verdict = await this.#decide(params.data.name, params.data.arguments, ac.signal);
    } catch (error) {
      // Fail safe: anything that goes wrong while deciding is a denial, with the reason.
      this.#log(`cannot decide on ${params.data.name}: ${(error as Error).message}`);
      const { permission, classification, forbidden } = this.permissionOf(
        this.#tools.get(params.data.name) ?? { name: params.data.name },
      );
      verdict = {
        decision: 'deny',
        permission,
        classification,
        forbidden,
        approval: 'error',
        pin: 'unknown_tool',
        reason: `the proxy could not decide (${(error as Error).message})`,
      };
    } finally {
      this.#deciding.delete(message.id);
    }
    const cancelled = ac.signal.aborted;
    const args = summariseArguments(params.data.arguments);
    const audited = await this.#auditSafe({
      profile: this.profile,
      operation: 'mcp_tool_call',
      target: `${this.server}/${params.data.name}`,
      decision: verdict.decision === 'allow' ? 'allowed' : 'denied',
      reason: cancelled ? 'cancelled by the client before a decision' : verdict.reason,
      details: {
        server: this.server,
        tool: params.data.name,
        risk: verdict.permission.riskLevel,
        risk_source: verdict.classification.source,
        decision: verdict.decision,
        approval: verdict.approval,
        pin: verdict.pin,
        arguments: args,
      },
    });
    if (cancelled) return;
    // Fail safe: a call that could not be audited is not made.
    if (verdict.decision === 'allow' && audited) {
      this.#forwardRequestUp(message);
      return;
    }
    const reason = audited ? verdict.reason : 'the audit log could not record this call, so it was not made';
    await this.#sendDown({
      jsonrpc: '2.0',
      id: message.id,
      result: {
        content: [
          {
            type: 'text',
            text: `Denied by codex mcp proxy: ${reason} (server "${this.server}", tool "${params.data.name}", risk ${verdict.permission.riskLevel}).`,
          },
        ],
        isError: true,
        _meta: {
          [PERMISSION_META_KEY]: {
            decision: 'deny',
            risk: verdict.permission.riskLevel,
            approval: verdict.approval,
            pin: verdict.pin,
          },
        },
      },
    });
  }

  async #decide(name: string, args: unknown, signal: AbortSignal): Promise<CallVerdict> {
    await this.#refreshTools(name);
    const tool = this.#tools.get(name);
    const { permission, classification, forbidden, approval } = this.permissionOf(tool ?? { name });
    const base = { permission, classification, forbidden };
    let pin: CallVerdict['pin'] = 'unknown_tool';
    if (tool) pin = this.pins.check(this.server, name, hashTool(tool));
    if (forbidden) {
      return {
        ...base,
        pin,
        decision: 'deny',
        approval: 'not_required',
        reason: 'the tool is forbidden by the proxy config',
      };
    }
    if (pin === 'changed' && this.config.on_tool_change === 'block') {
      return {
        ...base,
        pin,
        decision: 'deny',
        approval: 'not_required',
        reason:
          'the tool changed since it was pinned (description or schema differs); blocked by on_tool_change=block',
      };
    }
    const mustAsk = approval || pin === 'changed';
    if (!mustAsk) {
      return {
        ...base,
        pin,
        decision: 'allow',
        approval: 'not_required',
        reason: `risk ${permission.riskLevel} needs no approval under profile ${this.profile}`,
      };
    }
    const why =
      pin === 'changed'
        ? 'the tool changed since it was pinned'
        : `risk ${permission.riskLevel} needs approval under profile ${this.profile}`;
    if (!this.#clientCanElicit) {
      const allow = this.config.approval_fallback === 'allow';
      return {
        ...base,
        pin,
        decision: allow ? 'allow' : 'deny',
        approval: 'unavailable',
        reason: `${why}, and the client cannot be asked (no elicitation support); approval_fallback=${this.config.approval_fallback}`,
      };
    }
    const outcome = await this.#ask(name, permission, classification, args, pin === 'changed', signal);
    if (outcome === 'accepted' && tool && pin === 'changed') this.pins.pin(this.server, name, hashTool(tool));
    return {
      ...base,
      pin,
      decision: outcome === 'accepted' ? 'allow' : 'deny',
      approval: outcome,
      reason: outcome === 'accepted' ? `${why}; approved by the user` : `${why}; approval ${outcome}`,
    };
  }

  async #ask(
    name: string,
    permission: McpPermission,
    classification: Classification,
    args: unknown,
    changed: boolean,
    signal: AbortSignal,
  ): Promise<'accepted' | 'declined' | 'cancelled' | 'timeout' | 'error'> {
    const downId = this.#nextDown++;
    const lines = [
      `Allow the MCP tool call "${name}" on server "${this.server}"?`,
      `Risk: ${permission.riskLevel} (${classification.source}: ${classification.reasons.join(', ')}).`,
      ...(changed ? ['WARNING: this tool changed since it was first seen (possible tool swap).'] : []),
      `Arguments: ${summariseArguments(args, 400)}`,
    ];
    const response = new Promise<JSONRPCMessage>((resolve, reject) => {
      this.#pendingDown.set(downId, { kind: 'own', resolve, reject });
    });
    const timeoutMs = this.config.approval_timeout_seconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const aborted = new Promise<'cancelled'>((resolve) => {
      if (signal.aborted) resolve('cancelled');
      signal.addEventListener('abort', () => resolve('cancelled'), { once: true });
    });
    await this.#sendDown({
      jsonrpc: '2.0',
      id: downId,
      method: 'elicitation/create',
      params: {
        message: lines.join('\n'),
        requestedSchema: {
          type: 'object',
          properties: {
            approve: {
              type: 'boolean',
              title: 'Approve',
              description: `Run ${name} (risk ${permission.riskLevel})`,
              default: false,
            },
          },
          required: ['approve'],
        },
      },
    });
    try {
      const first = await Promise.race([response, timeout, aborted]);
      if (first === 'timeout' || first === 'cancelled') {
        this.#pendingDown.delete(downId);
        await this.#sendDown({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: {
            requestId: downId,
            reason: first === 'timeout' ? 'approval timed out' : 'call cancelled',
          },
        });
        return first;
      }
      if (!('result' in first)) return 'error';
      const result = ElicitResultSchema.safeParse(first.result);
      if (!result.success) return 'error';
      if (result.data.action === 'accept')
        return result.data.content?.['approve'] === true ? 'accepted' : 'declined';
      return result.data.action === 'decline' ? 'declined' : 'cancelled';
    } catch {
      return 'error';
    } finally {
      clearTimeout(timer);
    }
  }
}
