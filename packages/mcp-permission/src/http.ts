import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './config.js';
import { McpMessageTooLargeError } from './errors.js';
import type { FramingProblem } from './framing.js';
import type { FramedTransport } from './transport.js';

/**
 * A fetch whose response bodies are capped: a JSON body over `maxBytes` in total, or one
 * server-sent event over `maxBytes`, errors the body stream with {@link McpMessageTooLargeError}
 * instead of being buffered.
 */
export function cappedFetch(
  maxBytes: number,
  base: FetchLike = fetch,
  onOversize?: (bytes: number, init: RequestInit | undefined) => void,
): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body) return response;
    const sse = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    let count = 0;
    let tail = '';
    const decoder = new TextDecoder();
    const from = typeof url === 'string' ? url : url.href;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (sse) {
            // Count bytes since the last blank line (the end of an event).
            const text = tail + decoder.decode(chunk, { stream: true });
            const end = Math.max(text.lastIndexOf('\n\n'), text.lastIndexOf('\r\n\r\n'));
            if (end === -1) count += chunk.byteLength;
            else count = text.length - end;
            tail = text.slice(-3);
          } else count += chunk.byteLength;
          if (count > maxBytes) {
            onOversize?.(count, init);
            controller.error(new McpMessageTooLargeError(count, maxBytes, from));
            return;
          }
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(capped, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The JSON-RPC request ids carried by a POST body (one message or a batch). */
function requestIds(init: RequestInit | undefined): RequestId[] {
  if (typeof init?.body !== 'string') return [];
  try {
    const data: unknown = JSON.parse(init.body);
    const list = Array.isArray(data) ? data : [data];
    return list
      .filter(
        (m): m is { id: RequestId; method: string } => typeof m?.method === 'string' && m.id !== undefined,
      )
      .map((m) => m.id);
  } catch {
    return [];
  }
}

/**
 * Streamable HTTP client transport to `url` with the proxy's size cap on every response. A response
 * (or one server-sent event) over the cap is reported through `onproblem` with the id of the
 * request whose POST it answered, so the proxy can fail exactly that call instead of leaving it
 * waiting on a stream that was cut.
 */
export class HttpUpstreamTransport implements FramedTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  onproblem?: ((problem: FramingProblem) => void) | undefined;
  readonly #inner: StreamableHTTPClientTransport;
  readonly maxMessageBytes: number;

  constructor(url: URL, options: { maxMessageBytes?: number; headers?: Record<string, string> } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const report = (bytes: number, init: RequestInit | undefined) => {
      for (const id of requestIds(init)) {
        this.onproblem?.({
          kind: 'too_large',
          bytes,
          id,
          detail: `message of at least ${bytes} bytes is over the ${this.maxMessageBytes}-byte cap`,
        });
      }
    };
    this.#inner = new StreamableHTTPClientTransport(url, {
      fetch: cappedFetch(this.maxMessageBytes, fetch, report),
      ...(options.headers ? { requestInit: { headers: options.headers } } : {}),
    });
    this.#inner.onmessage = (m) => this.onmessage?.(m);
    this.#inner.onerror = (e) => this.onerror?.(e);
    this.#inner.onclose = () => this.onclose?.();
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(
    message: JSONRPCMessage,
    options?: Parameters<StreamableHTTPClientTransport['send']>[1],
  ): Promise<void> {
    return this.#inner.send(message, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion(version);
  }
}

/** A Streamable HTTP upstream with the size cap; see {@link HttpUpstreamTransport}. */
export function httpUpstream(
  url: URL,
  options: { maxMessageBytes?: number; headers?: Record<string, string> } = {},
): HttpUpstreamTransport {
  return new HttpUpstreamTransport(url, options);
}
