import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectThroughPermissionProxy,
  openPinStore,
  type ProxiedMcpConnection,
} from '@codex/mcp-permission';
import type { AuditEventInput } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  extractMainText,
  filesystemAdapter,
  McpProvider,
  memoryGraphAdapter,
  NoSourcesError,
  renderMarkdown,
  research,
} from '../src/index.js';

const resolveBin = (p: string) => fileURLToPath(import.meta.resolve(p));
const SERVERS = {
  filesystem: resolveBin('@modelcontextprotocol/server-filesystem/dist/index.js'),
  memory: resolveBin('@modelcontextprotocol/server-memory/dist/index.js'),
};
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

let dir: string;
let audit: AuditEventInput[];
let conn: ProxiedMcpConnection | undefined;
const sink = { log: async (e: AuditEventInput) => audit.push(e) };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dr-mcp-'));
  audit = [];
});
afterEach(async () => {
  await conn?.close();
  conn = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP provider through @codex/mcp-permission (real servers, offline profile)', () => {
  it('server-filesystem: search_files + read_text_file produce a cited report; every call is audited', async () => {
    cpSync(join(fixtures, 'pages'), join(dir, 'pages'), { recursive: true });
    conn = await connectThroughPermissionProxy({
      server: 'filesystem',
      command: process.execPath,
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      audit: sink,
      pins: openPinStore(dir),
      clientInfo: { name: 'codex-deep-research', version: '0.1.0' },
    });
    const provider = new McpProvider({
      client: conn.client,
      server: 'filesystem',
      adapter: filesystemAdapter({ root: dir }),
    });
    const report = await research('libffi thread safety', { providers: [provider], maxSources: 3, depth: 1 });
    const first = report.sources[0]!;
    expect(first.url).toBe(
      `mcp://filesystem/${encodeURIComponent(join(dir, 'pages', 'libffi-Thread-Safety.html'))}`,
    );
    expect(first.domain).toBe('mcp:filesystem');
    expect(first.title).toMatch(/^Thread Safety \(libffi/);
    expect(renderMarkdown(report)).toMatch(/libffi is not completely thread-safe.*\[1\]/);
    const calls = audit.filter((e) => e.operation === 'mcp_tool_call');
    expect(calls.map((e) => e.target)).toEqual(
      expect.arrayContaining(['filesystem/search_files', 'filesystem/read_text_file']),
    );
    expect(calls.every((e) => e.decision === 'allowed' && e.details?.['risk'] === 'medium')).toBe(true);
  });

  it('a call the proxy denies surfaces as RESEARCH_MCP_TOOL_FAILED with its reason, and nothing is read', async () => {
    cpSync(join(fixtures, 'pages'), join(dir, 'pages'), { recursive: true });
    conn = await connectThroughPermissionProxy({
      server: 'filesystem',
      command: process.execPath,
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      audit: sink,
      pins: openPinStore(dir),
      clientInfo: { name: 'codex-deep-research', version: '0.1.0' },
      // the user marks the search tool high risk: offline asks for high, and this client cannot be asked
      config: { servers: { filesystem: { tools: { search_files: { risk: 'high' } } } } },
    });
    const provider = new McpProvider({
      client: conn.client,
      server: 'filesystem',
      adapter: filesystemAdapter({ root: dir }),
    });
    const err = await research('libffi thread safety', { providers: [provider], depth: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NoSourcesError);
    expect((err as Error).message).toMatch(/filesystem\/search_files: Denied by codex mcp proxy/);
    expect(audit.some((e) => e.target === 'filesystem/search_files' && e.decision === 'denied')).toBe(true);
    expect(audit.some((e) => e.target === 'filesystem/read_text_file')).toBe(false);
  });

  it('server-memory: search_nodes over a knowledge graph of real text; observations are the text', async () => {
    // Entities made from the real libffi pages: one entity per page, one observation per paragraph.
    const lines = ['libffi-Memory-Usage.html', 'libffi-Thread-Safety.html', 'libffi-Introduction.html'].map(
      (f) => {
        const page = extractMainText(readFileSync(join(fixtures, 'pages', f), 'utf8'));
        return JSON.stringify({
          type: 'entity',
          name: f.replace(/^libffi-|\.html$/g, ''),
          entityType: 'libffi manual page',
          observations: page.text.split('\n\n'),
        });
      },
    );
    const memoryFile = join(dir, 'memory.jsonl');
    writeFileSync(memoryFile, `${lines.join('\n')}\n`);
    conn = await connectThroughPermissionProxy({
      server: 'memory',
      command: process.execPath,
      args: [SERVERS.memory],
      env: { MEMORY_FILE_PATH: memoryFile },
      profile: 'offline',
      audit: sink,
      pins: openPinStore(dir),
      clientInfo: { name: 'codex-deep-research', version: '0.1.0' },
    });
    const provider = new McpProvider({
      client: conn.client,
      server: 'memory',
      adapter: memoryGraphAdapter(),
    });
    const hits = await provider.search('closure memory allocation', { limit: 5 });
    expect(hits[0]!.url).toBe('mcp://memory/Memory-Usage');
    const report = await research('closure memory allocation', { providers: [provider], depth: 1 });
    expect(report.sources[0]!.title).toBe('Memory-Usage (libffi manual page)');
    expect(report.findings[0]!.text).toMatch(/ffi_closure_alloc/);
    expect(audit.some((e) => e.target === 'memory/search_nodes' && e.decision === 'allowed')).toBe(true);
  });
});
