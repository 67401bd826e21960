import type { AuditSink, SecurityProfile } from '@codex/security-profile';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  InitializeRequestParamsSchema,
  type JSONRPCMessage,
  type RequestId,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { CallApprover, evaluateTool, type ToolEvaluation } from './approval.js';
import { defaultMcpProxyConfig, type McpProxyConfig } from './config.js';
import type { FramingProblem } from './framing.js';
import { isNotification, isRequest, isResponse, type RequestMessage } from './jsonrpc.js';
import { PinStore } from './pins.js';
import type { FramedTransport } from './transport.js';

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
  readonly #log: (message: string) => void;
  #nextUp = 1;
  #nextDown = 1;
  readonly #pendingUp = new Map<RequestId, Pending>();
  readonly #pendingDown = new Map<RequestId, PendingDown>();
  /** client request id → upstream id, for cancellation. */
  readonly #clientToUp = new Map<RequestId, RequestId>();
  /** server request id → downstream id, for cancellation. */
  readonly #serverToDown = new Map<RequestId, RequestId>();
  #clientCanElicit = false;
  /** Tool definitions and tools/call decisions. */
  readonly #approval: CallApprover;
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
    this.#log = options.log ?? (() => {});
    this.#approval = new CallApprover({
      server: this.server,
      profile: this.profile,
      config: this.config,
      pins: this.pins,
      audit: options.audit,
      sessionId: options.sessionId,
      routing: {
        log: (message) => this.#log(message),
        sendDown: (message) => this.#sendDown(message),
        forwardRequestUp: (message) => this.#forwardRequestUp(message),
        requestUp: (method, params, timeoutMs) => this.#requestUp(method, params, timeoutMs),
        nextDownId: () => this.#nextDown++,
        responseDown: (downId) =>
          new Promise<JSONRPCMessage>((resolve, reject) => {
            this.#pendingDown.set(downId, { kind: 'own', resolve, reject });
          }),
        forgetDown: (downId) => this.#pendingDown.delete(downId),
        clientCanElicit: () => this.#clientCanElicit,
        permissionOf: (tool) => this.permissionOf(tool),
      },
    });
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
    return this.#pendingUp.size + this.#pendingDown.size + this.#approval.deciding.size;
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
    for (const ac of this.#approval.deciding.values()) ac.abort();
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
        this.#approval
          .handleCall(message)
          .catch((error: unknown) => this.#internalFailure(message.id, error));
        return;
      }
      this.#forwardRequestUp(message);
      return;
    }
    if (isNotification(message)) {
      if (message.method === 'notifications/cancelled') {
        const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        if (requestId !== undefined) {
          const deciding = this.#approval.deciding.get(requestId);
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
      if (message.method === 'notifications/tools/list_changed') this.#approval.toolsChanged();
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
          filtered = this.#approval.filterToolList(message.result);
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
}
