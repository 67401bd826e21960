import { PassThrough } from 'node:stream';
import type { AuditSink, SecurityProfile } from '@codex/security-profile';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { type McpProxyConfig, type McpProxyConfigInput, parseMcpProxyConfig } from './config.js';
import { McpClientError } from './errors.js';
import type { PinStore } from './pins.js';
import { McpPermissionProxy } from './proxy.js';
import { ChildProcessTransport, defaultServerEnvironment, StreamTransport } from './transport.js';

/** Longest timer Node accepts: a `tools/call` of {@link ProxiedMcpConnection.callTool} has no timeout of its own. */
const NO_TIMEOUT = 2_147_483_647;

export interface ConnectOptions {
  /** Name used for rules, pins and the audit log. */
  readonly server: string;
  /** The MCP server to spawn (stdio). */
  readonly command: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Variables set for the server over {@link defaultServerEnvironment} of `inheritFrom`. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the default variables (HOME, PATH…) are read from; default `process.env`. */
  readonly inheritFrom?: Readonly<Record<string, string | undefined>>;
  readonly profile: SecurityProfile;
  readonly audit: AuditSink;
  readonly sessionId?: string;
  /** Per-server/tool rules: a validated config, or input validated here. */
  readonly config?: McpProxyConfig | McpProxyConfigInput;
  /** The pin store (codex uses {@link openPinStore}: persisted in `$CODEX_HOME/mcp-pins.json`). */
  readonly pins: PinStore;
  /** What the client reports to the server in `initialize`. */
  readonly clientInfo: { readonly name: string; readonly version: string };
}

export interface ProxiedMcpConnection {
  /** The SDK client, connected to the proxy. Its requests have the SDK's default timeout. */
  readonly client: Client;
  readonly proxy: McpPermissionProxy;
  /**
   * `tools/call` with no timeout of its own (the caller bounds it); failures are McpClientError:
   * `MCP_ERROR` (a JSON-RPC error, `MCP error <code>: <message>`) or `MCP_CLOSED`.
   */
  callTool(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Closes the client and the proxy (which stops the server); `why` is the proxy's close reason. */
  close(why?: string): Promise<void>;
}

/**
 * Spawns an MCP server, puts the permission proxy in front of it (risk levels, approval under the
 * profile, tool pinning, audit), and connects an SDK client to the proxy in-process.
 * The client cannot be asked for approval (no elicitation), so calls that need it are denied.
 */
export async function connectThroughPermissionProxy(options: ConnectOptions): Promise<ProxiedMcpConnection> {
  const toProxy = new PassThrough();
  const fromProxy = new PassThrough();
  const proxy = new McpPermissionProxy({
    server: options.server,
    profile: options.profile,
    audit: options.audit,
    ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
    config: parseMcpProxyConfig(options.config ?? {}),
    pins: options.pins,
    upstream: new ChildProcessTransport({
      command: options.command,
      args: options.args ?? [],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { ...defaultServerEnvironment(options.inheritFrom), ...options.env },
      stderr: 'ignore',
    }),
    downstream: new StreamTransport(toProxy, fromProxy),
  });
  const client = new Client({ ...options.clientInfo }, { capabilities: {} });
  const close = async (why?: string) => {
    await client.close().catch(() => {});
    await proxy.close(why);
  };
  try {
    await proxy.start();
    // The SDK's stdio transport is newline-delimited JSON-RPC over any pair of streams.
    await client.connect(new StdioServerTransport(fromProxy, toProxy));
  } catch (error) {
    await close('connection failed');
    throw error;
  }
  // When the server goes away, requests in flight fail at once instead of waiting for a timeout.
  void proxy.closed.then(() => client.close().catch(() => {}));
  return {
    client,
    proxy,
    close,
    async callTool(name, args) {
      try {
        return await client.callTool({ name, arguments: args }, undefined, { timeout: NO_TIMEOUT });
      } catch (error) {
        // The SDK's own "Connection closed" (the streams went away), not an error the proxy sent.
        if (
          error instanceof McpError &&
          error.code === ErrorCode.ConnectionClosed &&
          / Connection closed$/.test(error.message)
        )
          throw new McpClientError('MCP_CLOSED', 'the MCP proxy closed', { cause: error });
        if (error instanceof McpError) throw new McpClientError('MCP_ERROR', error.message, { cause: error });
        if (error instanceof Error && error.message === 'Not connected')
          throw new McpClientError('MCP_CLOSED', 'the MCP proxy closed', { cause: error });
        throw error;
      }
    },
  };
}
