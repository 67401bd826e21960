import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PERMISSION_META_KEY } from '../src/index.js';
import { type Harness, harness, SERVERS, textOf } from './helpers.js';

let dir: string;
let h: Harness | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-perm-'));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const meta = (tool: { _meta?: Record<string, unknown> | undefined }) =>
  tool._meta?.[PERMISSION_META_KEY] as { risk: string; requiresApproval: boolean } | undefined;

describe('@modelcontextprotocol/server-filesystem through the proxy', () => {
  it('lists tools with their risk level', async () => {
    h = await harness({ server: 'filesystem', args: [SERVERS.filesystem, dir], profile: 'offline' });
    const { tools } = await h.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.size).toBeGreaterThan(8);
    expect(meta(byName.get('read_text_file')!)).toMatchObject({ risk: 'medium', requiresApproval: false });
    expect(meta(byName.get('write_file')!)).toMatchObject({ risk: 'high', requiresApproval: true });
    expect(meta(byName.get('move_file')!)?.risk).toBe('high');
    for (const t of tools) expect(meta(t)?.risk).toMatch(/^(low|medium|high|critical)$/);
  });

  it('allows a read (medium risk, offline) and audits it', async () => {
    writeFileSync(join(dir, 'hello.txt'), 'hello from disk');
    h = await harness({ server: 'filesystem', args: [SERVERS.filesystem, dir], profile: 'offline' });
    const result = await h.client.callTool({
      name: 'read_text_file',
      arguments: { path: join(dir, 'hello.txt') },
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('hello from disk');
    const [event] = h.audit.calls();
    expect(event).toMatchObject({
      operation: 'mcp_tool_call',
      decision: 'allowed',
      target: 'filesystem/read_text_file',
      profile: 'offline',
    });
    expect(event?.details).toMatchObject({ server: 'filesystem', tool: 'read_text_file', risk: 'medium' });
    expect(String(event?.details?.['arguments'])).toContain('hello.txt');
  });

  it('denies a write when the client cannot be asked, and no file is left behind', async () => {
    h = await harness({ server: 'filesystem', args: [SERVERS.filesystem, dir], profile: 'workspace-write' });
    await h.client.listTools();
    const target = join(dir, 'evil.txt');
    const secret = `ghp_${'Z'.repeat(36)}`;
    const result = await h.client.callTool({
      name: 'write_file',
      arguments: { path: target, content: `pwned with ${secret}` },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Denied by codex mcp proxy: .*cannot be asked.*approval_fallback=deny/);
    expect(existsSync(target)).toBe(false);
    const [event] = h.audit.calls();
    expect(event).toMatchObject({ decision: 'denied', target: 'filesystem/write_file' });
    expect(event?.details).toMatchObject({ risk: 'high', approval: 'unavailable' });
    // Arguments are summarised for the audit log with secrets redacted.
    expect(String(event?.details?.['arguments'])).toContain('pwned with [REDACTED]');
    expect(String(event?.details?.['arguments'])).not.toContain(secret);
  });

  it('denies a write the user declines through elicitation; no file', async () => {
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      elicit: () => ({ action: 'decline' }),
    });
    const target = join(dir, 'declined.txt');
    const result = await h.client.callTool({
      name: 'write_file',
      arguments: { path: target, content: 'no' },
    });
    expect(result.isError).toBe(true);
    expect(existsSync(target)).toBe(false);
    expect(h.elicitations).toHaveLength(1);
    expect(h.elicitations[0]).toMatch(/write_file[\s\S]*Risk: high/);
    expect(h.audit.calls()[0]?.details).toMatchObject({ approval: 'declined' });
  });

  it('performs a write approved through elicitation', async () => {
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      elicit: () => ({ action: 'accept', content: { approve: true } }),
    });
    const target = join(dir, 'approved.txt');
    const result = await h.client.callTool({
      name: 'write_file',
      arguments: { path: target, content: 'yes' },
    });
    expect(result.isError).toBeFalsy();
    expect(readFileSync(target, 'utf8')).toBe('yes');
    expect(h.audit.calls()[0]).toMatchObject({ decision: 'allowed' });
    expect(h.audit.calls()[0]?.details).toMatchObject({ approval: 'accepted', risk: 'high' });
  });

  it('treats accept with approve=false as a refusal', async () => {
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      elicit: () => ({ action: 'accept', content: { approve: false } }),
    });
    const target = join(dir, 'unticked.txt');
    const result = await h.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    expect(result.isError).toBe(true);
    expect(existsSync(target)).toBe(false);
  });

  it('trusted never asks; a configured forbidden tool is hidden and refused', async () => {
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'trusted',
      config: { servers: { 'file*': { tools: { 'move_*': { forbidden: true } } } } },
    });
    const { tools } = await h.client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('move_file');
    const target = join(dir, 'trusted.txt');
    const ok = await h.client.callTool({ name: 'write_file', arguments: { path: target, content: 't' } });
    expect(ok.isError).toBeFalsy();
    expect(existsSync(target)).toBe(true);
    const moved = await h.client.callTool({
      name: 'move_file',
      arguments: { source: target, destination: join(dir, 'moved.txt') },
    });
    expect(moved.isError).toBe(true);
    expect(textOf(moved)).toMatch(/forbidden/);
    expect(existsSync(target)).toBe(true);
  });
});

describe('@modelcontextprotocol/server-memory through the proxy', () => {
  it('lists, allows reads, denies unapproved writes (memory file untouched)', async () => {
    const memoryFile = join(dir, 'memory.jsonl');
    h = await harness({
      server: 'memory',
      args: [SERVERS.memory],
      profile: 'offline',
      env: { MEMORY_FILE_PATH: memoryFile },
    });
    const { tools } = await h.client.listTools();
    expect(meta(tools.find((t) => t.name === 'read_graph')!)?.risk).toBe('medium');
    expect(meta(tools.find((t) => t.name === 'create_entities')!)?.risk).toBe('high');
    const read = await h.client.callTool({ name: 'read_graph', arguments: {} });
    expect(read.isError).toBeFalsy();
    const write = await h.client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'x', entityType: 'y', observations: [] }] },
    });
    expect(write.isError).toBe(true);
    expect(existsSync(memoryFile)).toBe(false);
  });

  it('a configured override lowers the approval need for writes under workspace-write', async () => {
    const memoryFile = join(dir, 'memory.jsonl');
    h = await harness({
      server: 'memory',
      args: [SERVERS.memory],
      profile: 'workspace-write',
      env: { MEMORY_FILE_PATH: memoryFile },
      config: { servers: { memory: { tools: { 'create_*': { requires_approval: false } } } } },
    });
    const write = await h.client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'alice', entityType: 'person', observations: ['likes tea'] }] },
    });
    expect(write.isError).toBeFalsy();
    expect(readFileSync(memoryFile, 'utf8')).toContain('alice');
  });
});

describe('@modelcontextprotocol/server-everything through the proxy', () => {
  it('passes resources, prompts and progress notifications through', async () => {
    h = await harness({ server: 'everything', args: [SERVERS.everything, 'stdio'], profile: 'trusted' });
    const resources = await h.client.listResources();
    expect(resources.resources.length).toBeGreaterThan(0);
    const first = resources.resources[0]!;
    const read = await h.client.readResource({ uri: first.uri });
    expect(read.contents.length).toBeGreaterThan(0);
    const prompts = await h.client.listPrompts();
    expect(prompts.prompts.length).toBeGreaterThan(0);
    const progress: number[] = [];
    const result = await h.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(result.isError).toBeFalsy();
    // The server sends 1, 2, 3 then the result. The SDK client dispatches notifications a microtask
    // late, so the last one can lose the race with the response; it does so without the proxy too.
    expect(progress.slice(0, 2)).toEqual([1, 2]);
    expect(progress.every((p, i) => p === i + 1)).toBe(true);
  });

  it('echo (low) is allowed under offline; get-env (critical) asks even when approval is configured off', async () => {
    h = await harness({
      server: 'everything',
      args: [SERVERS.everything, 'stdio'],
      profile: 'workspace-net',
      config: { servers: { '*': { requires_approval: false } } },
      elicit: () => ({ action: 'decline' }),
    });
    const echo = await h.client.callTool({ name: 'echo', arguments: { message: 'hi' } });
    expect(textOf(echo)).toContain('hi');
    const env = await h.client.callTool({ name: 'get-env', arguments: {} });
    expect(env.isError).toBe(true);
    expect(h.elicitations).toHaveLength(1);
    expect(h.elicitations[0]).toMatch(/get-env[\s\S]*Risk: critical/);
  });

  it("relays the server's own elicitation to the client and its answer back", async () => {
    const seen: string[] = [];
    h = await harness({
      server: 'everything',
      args: [SERVERS.everything, 'stdio'],
      profile: 'trusted',
      elicit: (message) => {
        seen.push(message);
        return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
      },
    });
    const result = await h.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    expect(seen).toHaveLength(1);
    expect(textOf(result)).toContain('Ada Lovelace');
  });

  it('cancellation from the client reaches the server under the remapped id', async () => {
    h = await harness({ server: 'everything', args: [SERVERS.everything, 'stdio'], profile: 'trusted' });
    // Observe what the proxy writes to the server.
    const sent: { method?: string; id?: unknown; params?: { requestId?: unknown; name?: string } }[] = [];
    const send = h.upstream.send.bind(h.upstream);
    h.upstream.send = (m) => {
      sent.push(m as (typeof sent)[number]);
      return send(m);
    };
    const ac = new AbortController();
    const call = h.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 } },
      undefined,
      { signal: ac.signal, onprogress: () => ac.abort('enough') },
    );
    await expect(call).rejects.toThrow(/enough|abort/i);
    await new Promise((r) => setTimeout(r, 100));
    const forwarded = sent.find(
      (m) => m.method === 'tools/call' && m.params?.name === 'trigger-long-running-operation',
    );
    const cancel = sent.find((m) => m.method === 'notifications/cancelled');
    expect(forwarded?.id).toBeDefined();
    expect(cancel?.params?.requestId).toBe(forwarded?.id);
    // The proxy stays usable after a cancellation, and forgot the cancelled request.
    const echo = await h.client.callTool({ name: 'echo', arguments: { message: 'after' } });
    expect(textOf(echo)).toContain('after');
    expect(h.proxy.pendingRequests).toBe(0);
  });
});

describe('inspectTools (dry run, nothing pinned)', () => {
  it('reports what the proxy would decide for each real tool, comparing pins without writing them', async () => {
    const { ChildProcessTransport, inspectTools, parseMcpProxyConfig, PinStore } = await import(
      '../src/index.js'
    );
    const pins = new PinStore();
    pins.pin('filesystem', 'write_file', '0'.repeat(64));
    const report = await inspectTools({
      server: 'filesystem',
      upstream: new ChildProcessTransport({
        command: process.execPath,
        args: [SERVERS.filesystem, dir],
        stderr: 'ignore',
      }),
      profile: 'workspace-write',
      config: parseMcpProxyConfig({ servers: { filesystem: { tools: { move_file: { forbidden: true } } } } }),
      pins,
    });
    const by = Object.fromEntries(report.map((r) => [r.name, r]));
    expect(by['read_text_file']).toMatchObject({
      risk: 'medium',
      requiresApproval: false,
      pin: 'new',
      forbidden: false,
    });
    expect(by['write_file']).toMatchObject({ risk: 'high', requiresApproval: true, pin: 'changed' });
    expect(by['move_file']?.forbidden).toBe(true);
    expect(pins.get('filesystem', 'read_text_file')).toBeUndefined();
  });
});
