import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type McpPermissionErrorCode =
  | 'MCP_CLOSED'
  | 'MCP_ERROR'
  | 'MCP_MESSAGE_TOO_LARGE'
  | 'MCP_PIN_STORE'
  | 'MCP_SERVER_ENV'
  | 'MCP_UPSTREAM'
  | 'MCP_UPSTREAM_OPTIONS';

export { ConfigError } from '@codex/security-profile';

/** A single message larger than the proxy's size cap. */
export class McpMessageTooLargeError extends CodexError<McpPermissionErrorCode> {
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number, from: string) {
    super('MCP_MESSAGE_TOO_LARGE', `message from ${from} is ${bytes} bytes, over the ${limit}-byte cap`);
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** The pin store could not be read or written. */
export class PinStoreError extends CodexError<McpPermissionErrorCode> {
  readonly path: string;

  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super('MCP_PIN_STORE', `${path}: ${problem}`, options);
    this.path = path;
  }
}

/** The upstream server could not be started or its connection failed. */
export class UpstreamError extends CodexError<McpPermissionErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MCP_UPSTREAM', message, options);
  }
}

/** The upstream server is described wrongly (no command or URL, a malformed `--header`). */
export class UpstreamOptionsError extends CodexError<McpPermissionErrorCode> {
  constructor(message: string) {
    super('MCP_UPSTREAM_OPTIONS', message);
  }
}

/** An `--env` item for an MCP server is neither `NAME` nor `NAME=VALUE`. */
export class ServerEnvError extends CodexError<McpPermissionErrorCode> {
  constructor(message: string) {
    super('MCP_SERVER_ENV', message);
  }
}

/** Codes of {@link McpClientError}. */
export type McpClientErrorCode = 'MCP_ERROR' | 'MCP_CLOSED';

/** A `tools/call` made through {@link connectThroughPermissionProxy} failed: an MCP error, or the proxy closed. */
export class McpClientError extends CodexError<McpClientErrorCode> {
  constructor(code: McpClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
