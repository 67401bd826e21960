import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/** The three shapes of a JSON-RPC message the proxy tells apart. */

export type RequestMessage = {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: Record<string, unknown>;
};

export function isRequest(m: JSONRPCMessage): m is RequestMessage & JSONRPCMessage {
  return 'method' in m && 'id' in m;
}
export function isNotification(
  m: JSONRPCMessage,
): m is { jsonrpc: '2.0'; method: string; params?: Record<string, unknown> } {
  return 'method' in m && !('id' in m);
}
export function isResponse(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } {
  return !('method' in m) && ('result' in m || 'error' in m);
}
