import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './config.js';
import { McpMessageTooLargeError } from './errors.js';

/**
 * A fetch whose response bodies are capped: a JSON body over `maxBytes` in total, or one
 * server-sent event over `maxBytes`, errors the body stream with {@link McpMessageTooLargeError}
 * instead of being buffered.
 */
export function cappedFetch(maxBytes: number, base: FetchLike = fetch): FetchLike {
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

/** A Streamable HTTP client transport to `url` with the proxy's size cap on every response. */
export function httpUpstream(
  url: URL,
  options: { maxMessageBytes?: number; headers?: Record<string, string> } = {},
): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(url, {
    fetch: cappedFetch(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
    ...(options.headers ? { requestInit: { headers: options.headers } } : {}),
  });
}
