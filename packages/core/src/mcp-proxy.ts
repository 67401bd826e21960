// `codex mcp proxy` without the terminal: an MCP permission proxy between a client on two streams
// (usually stdio) and an upstream server, every tools/call audited in the configured log.
import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { createAuditLoggerFromConfig } from '@codex/audit';
import {
  McpPermissionProxy,
  type McpPermissionProxyOptions,
  type McpProxyConfig,
  type PinStore,
  StreamTransport,
} from '@codex/mcp-permission';
import type { CodexConfig } from '@codex/security-profile';

export interface PermissionProxyOptions
  extends Pick<McpPermissionProxyOptions, 'server' | 'upstream' | 'profile' | 'log'> {
  readonly config: McpProxyConfig;
  readonly pins: PinStore;
  /** The codex config (its `[audit]` section), CODEX_HOME and the environment for the audit log. */
  readonly codexConfig: CodexConfig;
  readonly codexHome: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The client side: protocol messages in and out (nothing else may be written to `output`). */
  readonly input: Readable;
  readonly output: Writable;
  /** Aborting closes the proxy (reason `interrupted`). */
  readonly signal?: AbortSignal | undefined;
}

export interface PermissionProxyRun {
  /** `signal` stopped it. */
  readonly interrupted: boolean;
  /** Why the proxy closed: `client closed the connection`, `server closed the connection`… */
  readonly closeReason: string | undefined;
}

/** Serves until the client ends the session, the server goes away or `signal` aborts. */
export async function runPermissionProxy(options: PermissionProxyOptions): Promise<PermissionProxyRun> {
  const { server, upstream, profile, log, config, pins, signal } = options;
  // Each call waits for its audit entry before it is forwarded (fail-safe), so entries are written
  // at once instead of after the logger's batching delay.
  const audit = createAuditLoggerFromConfig(options.codexConfig.audit, {
    home: options.codexHome,
    env: options.env,
    flushIntervalMs: 0,
  });
  const p = new McpPermissionProxy({
    ...{ server, profile, config, pins, audit, upstream, ...(log ? { log } : {}) },
    // One session id per proxy run, so its calls can be grouped in the audit log.
    sessionId: `mcp-${randomUUID()}`,
    downstream: new StreamTransport(options.input, options.output, {
      maxMessageBytes: config.max_message_bytes,
    }),
  });
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    void p.close('interrupted');
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    await p.start();
    await p.closed;
  } finally {
    signal?.removeEventListener('abort', stop);
    await p.close();
    await audit.close();
  }
  return { interrupted, closeReason: p.closeReason };
}
