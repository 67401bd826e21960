import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpUpstream, McpPermissionProxy, PERMISSION_META_KEY, StreamTransport } from '../src/index.js';
import { MemorySink, textOf } from './helpers.js';

let dir: string;
let http: Server;
let url: URL;
let jsonResponse = true;
const cleanups: (() => Promise<unknown>)[] = [];

/** A real MCP server over Streamable HTTP on 127.0.0.1, one SDK transport per session. */
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-http-'));
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  http = createServer(async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!transport) {
      const server = new McpServer({ name: 'http-test', version: '1.0.0' });
      server.registerTool(
        'echo',
        { description: 'Echoes the message.', inputSchema: { message: z.string() } },
        async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }),
      );
      server.registerTool(
        'write_note',
        { description: 'Write a note to a file.', inputSchema: { path: z.string(), content: z.string() } },
        async ({ path, content }) => {
          await writeFile(path, content);
          return { content: [{ type: 'text', text: 'written' }] };
        },
      );
      server.registerTool('echo_huge', { description: 'Echoes a lot.', inputSchema: {} }, async () => ({
        content: [{ type: 'text', text: 'z'.repeat(10 * 1024 * 1024) }],
      }));
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: jsonResponse,
        onsessioninitialized: (sid) => {
          sessions.set(sid, t);
        },
      });
      await server.connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function connect(maxMessageBytes?: number) {
  const audit = new MemorySink();
  const toProxy = new PassThrough();
  const fromProxy = new PassThrough();
  const proxy = new McpPermissionProxy({
    server: 'http-test',
    profile: 'offline',
    audit,
    upstream: httpUpstream(url, maxMessageBytes ? { maxMessageBytes } : {}),
    downstream: new StreamTransport(toProxy, fromProxy),
  });
  await proxy.start();
  const client = new Client({ name: 't', version: '1' });
  await client.connect(new StdioServerTransport(fromProxy, toProxy));
  cleanups.push(
    () => client.close(),
    () => proxy.close(),
  );
  return { client, proxy, audit };
}

describe('Streamable HTTP upstream (--url) on loopback', () => {
  it('lists with risk, allows low-risk calls, denies an unapproved write', async () => {
    const { client, audit } = await connect();
    const { tools } = await client.listTools();
    const risk = Object.fromEntries(
      tools.map((t) => [t.name, (t._meta?.[PERMISSION_META_KEY] as { risk: string } | undefined)?.risk]),
    );
    expect(risk).toMatchObject({ echo: 'low', write_note: 'high' });
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'over http' } }))).toBe(
      'echo: over http',
    );
    const target = join(dir, 'note.txt');
    const denied = await client.callTool({ name: 'write_note', arguments: { path: target, content: 'x' } });
    expect(denied.isError).toBe(true);
    expect(existsSync(target)).toBe(false);
    expect(audit.calls().map((e) => e.decision)).toEqual(['allowed', 'denied']);
  });

  it('a response over the cap is an error for that call, and the proxy keeps serving', async () => {
    const { client } = await connect(1024 * 1024);
    await expect(client.callTool({ name: 'echo_huge', arguments: {} })).rejects.toThrow(
      /over the 1048576-byte cap/,
    );
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'ok' } }))).toBe('echo: ok');
  });

  it('the same over server-sent events: the cut stream fails exactly that call', async () => {
    jsonResponse = false;
    try {
      const { client } = await connect(1024 * 1024);
      await expect(client.callTool({ name: 'echo_huge', arguments: {} })).rejects.toThrow(
        /over the 1048576-byte cap/,
      );
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'sse ok' } }))).toBe(
        'echo: sse ok',
      );
    } finally {
      jsonResponse = true;
    }
  });
});
