import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { AuditEventInput, AuditSink, SecurityProfile } from '@codex/security-profile';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import {
  ChildProcessTransport,
  McpPermissionProxy,
  type McpProxyConfigInput,
  PinStore,
  parseMcpProxyConfig,
  StreamTransport,
} from '../src/index.js';

const require = (p: string) => fileURLToPath(import.meta.resolve(p));

/** Entry scripts of the real servers installed from npm. */
export const SERVERS = {
  filesystem: require('@modelcontextprotocol/server-filesystem/dist/index.js'),
  memory: require('@modelcontextprotocol/server-memory/dist/index.js'),
  everything: require('@modelcontextprotocol/server-everything/dist/index.js'),
};

export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** An audit sink that keeps events in memory (the real one is @codex/audit's AuditLogger). */
export class MemorySink implements AuditSink {
  readonly events: AuditEventInput[] = [];
  fail = false;
  async log(event: AuditEventInput): Promise<void> {
    if (this.fail) throw new Error('disk full');
    this.events.push(event);
  }
  calls(): AuditEventInput[] {
    return this.events.filter((e) => e.details?.['event'] !== 'tool_changed');
  }
}

export type Elicit = (message: string) => ElicitResult | Promise<ElicitResult>;

export interface Harness {
  client: Client;
  proxy: McpPermissionProxy;
  audit: MemorySink;
  upstream: ChildProcessTransport;
  /** Raw byte streams between client and proxy. */
  toProxy: PassThrough;
  fromProxy: PassThrough;
  elicitations: string[];
  close(): Promise<void>;
}

/**
 * A real SDK client talking newline-delimited JSON-RPC over byte streams to an in-process proxy,
 * which spawns the real server as a child process over stdio.
 */
export async function harness(options: {
  server: string;
  command?: string;
  args: string[];
  profile: SecurityProfile;
  config?: McpProxyConfigInput;
  pins?: PinStore;
  env?: Record<string, string>;
  /** Declares the elicitation capability and answers with this. */
  elicit?: Elicit;
  connect?: boolean;
}): Promise<Harness> {
  const audit = new MemorySink();
  const toProxy = new PassThrough();
  const fromProxy = new PassThrough();
  const upstream = new ChildProcessTransport({
    command: options.command ?? process.execPath,
    args: options.args,
    stderr: 'ignore',
    ...(options.env ? { env: { PATH: process.env.PATH ?? '', ...options.env } } : {}),
    ...(options.config?.max_message_bytes ? { maxMessageBytes: options.config.max_message_bytes } : {}),
  });
  const proxy = new McpPermissionProxy({
    server: options.server,
    profile: options.profile,
    audit,
    config: parseMcpProxyConfig(options.config ?? {}),
    pins: options.pins ?? new PinStore(),
    upstream,
    downstream: new StreamTransport(toProxy, fromProxy),
  });
  await proxy.start();
  const elicitations: string[] = [];
  const client = new Client(
    { name: 'test-client', version: '1.0.0' },
    { capabilities: options.elicit ? { elicitation: { form: {} } } : {} },
  );
  if (options.elicit) {
    const answer = options.elicit;
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicitations.push(request.params.message);
      return answer(request.params.message);
    });
  }
  // The SDK's stdio transport is generic newline-delimited JSON-RPC over any pair of streams.
  if (options.connect !== false) await client.connect(new StdioServerTransport(fromProxy, toProxy));
  return {
    client,
    proxy,
    audit,
    upstream,
    toProxy,
    fromProxy,
    elicitations,
    async close() {
      await client.close().catch(() => {});
      await proxy.close();
    },
  };
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}
