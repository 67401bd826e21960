import type { AuditEventInput, AuditSink, SecurityProfile } from '@codex/security-profile';
import {
  CallToolRequestParamsSchema,
  ElicitResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  ListToolsResultSchema,
  type RequestId,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { defaultMcpProxyConfig, type McpProxyConfig, resolveRule } from './config.js';
import type { RequestMessage } from './jsonrpc.js';
import { hashTool, type PinStatus, type PinStore } from './pins.js';
import {
  type Classification,
  classifyTool,
  defaultRequiresApproval,
  type McpPermission,
  requiresUserApproval,
} from './risk.js';
import { summariseArguments } from './summary.js';

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

/** @internal What approvals need from the proxy's message routing. */
export interface ApprovalRouting {
  log(message: string): void;
  sendDown(message: JSONRPCMessage): Promise<void>;
  /** Forwards a client request to the server (an allowed tools/call). */
  forwardRequestUp(message: RequestMessage): void;
  /** Sends a request of the proxy's own to the server. */
  requestUp(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<JSONRPCMessage>;
  /** An id for a request of the proxy's own to the client. */
  nextDownId(): number;
  /** The client's response to that request. */
  responseDown(downId: number): Promise<JSONRPCMessage>;
  /** Stops waiting for that response. */
  forgetDown(downId: number): void;
  /** Whether the client said in `initialize` that it can be asked (elicitation). */
  clientCanElicit(): boolean;
  /** The proxy's {@link McpPermissionProxy.permissionOf}. */
  permissionOf(tool: Pick<Tool, 'name'> & Partial<Tool>): ToolEvaluation;
}

/**
 * @internal The approval side of the proxy: the server's tool definitions (pinned, annotated with
 * their risk, forbidden ones hidden) and the decision on every tools/call (allow, deny or ask
 * the user by elicitation), each audited.
 */
export class CallApprover {
  readonly server: string;
  readonly profile: SecurityProfile;
  readonly config: McpProxyConfig;
  readonly pins: PinStore;
  readonly #audit: AuditSink;
  readonly #sessionId: string | undefined;
  readonly #routing: ApprovalRouting;
  /** tools/call requests still being decided: client id → abort. */
  readonly deciding = new Map<RequestId, AbortController>();
  readonly #tools = new Map<string, Tool>();
  #toolsStale = true;

  constructor(options: {
    server: string;
    profile: SecurityProfile;
    config: McpProxyConfig;
    pins: PinStore;
    audit: AuditSink;
    sessionId: string | undefined;
    routing: ApprovalRouting;
  }) {
    this.server = options.server;
    this.profile = options.profile;
    this.config = options.config;
    this.pins = options.pins;
    this.#audit = options.audit;
    this.#sessionId = options.sessionId;
    this.#routing = options.routing;
  }

  /** The server announced that its tool list changed. */
  toolsChanged(): void {
    this.#toolsStale = true;
  }

  filterToolList(result: unknown): Record<string, unknown> | undefined {
    const parsed = ListToolsResultSchema.safeParse(result);
    if (!parsed.success) return undefined;
    const visible: Tool[] = [];
    for (const tool of parsed.data.tools) {
      this.#tools.set(tool.name, tool);
      const { permission, classification, forbidden, approval } = this.#routing.permissionOf(tool);
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
    this.#routing.log(`tool "${tool}" of server "${this.server}" changed since it was pinned`);
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
      this.#routing.log(`audit failed: ${(error as Error).message}`);
      return false;
    }
  }

  /** Re-reads the server's tool list (all pages) when it is stale or lacks `name`. */
  async #refreshTools(name: string): Promise<void> {
    if (!this.#toolsStale && this.#tools.has(name)) return;
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      let response: JSONRPCMessage;
      try {
        response = await this.#routing.requestUp('tools/list', cursor ? { cursor } : {}, 30_000);
      } catch (error) {
        this.#routing.log(`cannot refresh the tool list: ${(error as Error).message}`);
        return;
      }
      if (!('result' in response)) return;
      const parsed = ListToolsResultSchema.safeParse(response.result);
      if (!parsed.success) return;
      this.filterToolList(response.result);
      cursor = parsed.data.nextCursor;
      if (cursor === undefined) return;
    }
  }

  async handleCall(message: RequestMessage): Promise<void> {
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
      await this.#routing.sendDown({
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
    this.deciding.set(message.id, ac);
    let verdict: CallVerdict;
    try {
      verdict = await this.#decide(params.data.name, params.data.arguments, ac.signal);
    } catch (error) {
      // Fail safe: anything that goes wrong while deciding is a denial, with the reason.
      this.#routing.log(`cannot decide on ${params.data.name}: ${(error as Error).message}`);
      const { permission, classification, forbidden } = this.#routing.permissionOf(
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
      this.deciding.delete(message.id);
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
      this.#routing.forwardRequestUp(message);
      return;
    }
    const reason = audited ? verdict.reason : 'the audit log could not record this call, so it was not made';
    await this.#routing.sendDown({
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
    const { permission, classification, forbidden, approval } = this.#routing.permissionOf(tool ?? { name });
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
    if (!this.#routing.clientCanElicit()) {
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
    const downId = this.#routing.nextDownId();
    const lines = [
      `Allow the MCP tool call "${name}" on server "${this.server}"?`,
      `Risk: ${permission.riskLevel} (${classification.source}: ${classification.reasons.join(', ')}).`,
      ...(changed ? ['WARNING: this tool changed since it was first seen (possible tool swap).'] : []),
      `Arguments: ${summariseArguments(args, 400)}`,
    ];
    const response = this.#routing.responseDown(downId);
    const timeoutMs = this.config.approval_timeout_seconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const aborted = new Promise<'cancelled'>((resolve) => {
      if (signal.aborted) resolve('cancelled');
      signal.addEventListener('abort', () => resolve('cancelled'), { once: true });
    });
    await this.#routing.sendDown({
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
        this.#routing.forgetDown(downId);
        await this.#routing.sendDown({
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
