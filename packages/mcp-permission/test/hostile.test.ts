import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PERMISSION_META_KEY, PinStore } from '../src/index.js';
import { fixture, type Harness, harness, textOf } from './helpers.js';

let dir: string;
let h: Harness | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-hostile-'));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const risk = (tool: { _meta?: Record<string, unknown> | undefined }) =>
  (tool._meta?.[PERMISSION_META_KEY] as { risk: string } | undefined)?.risk;

describe('a server that lies in its annotations', () => {
  it('cannot talk its tools below the heuristics, and unknown tools count as high', async () => {
    h = await harness({ server: 'liar', args: [fixture('lying-server.mjs')], profile: 'workspace-write' });
    const { tools } = await h.client.listTools();
    const by = Object.fromEntries(tools.map((t) => [t.name, risk(t)]));
    expect(by).toEqual({ run_shell: 'critical', save_note: 'high', zorble: 'high', echo: 'low' });
  });

  it('its "read-only" write is still refused without approval, and leaves no file', async () => {
    h = await harness({ server: 'liar', args: [fixture('lying-server.mjs')], profile: 'offline' });
    const target = join(dir, 'note.txt');
    const r = await h.client.callTool({ name: 'save_note', arguments: { path: target, content: 'x' } });
    expect(r.isError).toBe(true);
    expect(existsSync(target)).toBe(false);
    const echo = await h.client.callTool({ name: 'echo', arguments: { text: 'ok' } });
    expect(echo.isError).toBeFalsy();
  });
});

describe('a server that swaps a tool after the first listing', () => {
  it('on_tool_change=block: the changed tool is hidden and refused, even under trusted', async () => {
    const pins = new PinStore({ path: join(dir, 'pins.json') });
    h = await harness({
      server: 'swapper',
      args: [fixture('swapping-server.mjs')],
      profile: 'trusted',
      pins,
    });
    const first = await h.client.listTools();
    expect(first.tools.map((t) => t.name)).toEqual(['summarise']);
    const ok = await h.client.callTool({ name: 'summarise', arguments: { text: 'hello' } });
    expect(textOf(ok)).toMatch(/^summary\(innocent/);
    await h.client.callTool({ name: 'swap', arguments: {} });
    // The client does not re-list; the proxy re-reads the list itself before deciding.
    const swapped = await h.client.callTool({ name: 'summarise', arguments: { text: 'hello' } });
    expect(swapped.isError).toBe(true);
    expect(textOf(swapped)).toMatch(/changed since it was pinned/);
    const second = await h.client.listTools();
    expect(second.tools.map((t) => t.name)).toEqual([]);
    const changed = h.audit.events.find((e) => e.details?.['event'] === 'tool_changed');
    expect(changed).toMatchObject({ decision: 'denied', target: 'swapper/summarise' });
    // A second proxy with the same pin file still refuses: the pin outlives the session.
    await h.close();
    h = await harness({
      server: 'swapper',
      args: [fixture('swapping-server.mjs')],
      profile: 'trusted',
      pins: new PinStore({ path: join(dir, 'pins.json') }),
    });
    await h.client.callTool({ name: 'swap', arguments: {} });
    const again = await h.client.callTool({ name: 'summarise', arguments: { text: 'x' } });
    expect(again.isError).toBe(true);
  });

  it('on_tool_change=ask: the user is asked again, with a warning, and approval re-pins', async () => {
    const answers = [{ action: 'accept' as const, content: { approve: true } }];
    h = await harness({
      server: 'swapper',
      args: [fixture('swapping-server.mjs')],
      profile: 'trusted',
      config: { on_tool_change: 'ask' },
      elicit: () => answers.shift() ?? { action: 'decline' },
    });
    await h.client.listTools();
    await h.client.callTool({ name: 'swap', arguments: {} });
    const approved = await h.client.callTool({ name: 'summarise', arguments: { text: 'a' } });
    expect(textOf(approved)).toMatch(/^summary\(evil/);
    expect(h.elicitations).toHaveLength(1);
    expect(h.elicitations[0]).toMatch(/changed since it was first seen/);
    // Re-pinned: the next call does not ask (trusted never asks for risk).
    const next = await h.client.callTool({ name: 'summarise', arguments: { text: 'b' } });
    expect(next.isError).toBeFalsy();
    expect(h.elicitations).toHaveLength(1);
  });
});

describe('a server that sends malformed JSON-RPC', () => {
  it('answers the client with a clear error when the id can be found, and keeps serving', async () => {
    h = await harness({ server: 'malformed', args: [fixture('malformed-server.mjs')], profile: 'trusted' });
    await expect(h.client.callTool({ name: 'truncated', arguments: {} })).rejects.toThrow(
      /server's response was dropped: not JSON/,
    );
    await expect(h.client.callTool({ name: 'wrong_version', arguments: {} })).rejects.toThrow(
      /not a JSON-RPC 2\.0 message/,
    );
    const echo = await h.client.callTool({ name: 'echo', arguments: { text: 'still alive' } });
    expect(textOf(echo)).toBe('echo: still alive');
  });

  it('reports unattributable garbage to the client as a log notification; the call times out client-side', async () => {
    h = await harness({ server: 'malformed', args: [fixture('malformed-server.mjs')], profile: 'trusted' });
    const logs: unknown[] = [];
    const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params.data);
    });
    await expect(
      h.client.callTool({ name: 'garbage', arguments: {} }, undefined, { timeout: 1500 }),
    ).rejects.toThrow(/timed out/i);
    expect(JSON.stringify(logs)).toMatch(/dropped a message from server \\"malformed\\": not JSON/);
    const echo = await h.client.callTool({ name: 'echo', arguments: { text: 'ok' } });
    expect(textOf(echo)).toBe('echo: ok');
  });
});

describe('a server that sends a 10 MB payload', () => {
  it('drops it at the cap, tells the client which request failed, and keeps serving', async () => {
    h = await harness({
      server: 'huge',
      args: [fixture('huge-server.mjs')],
      profile: 'trusted',
      config: { max_message_bytes: 1024 * 1024 },
    });
    const before = process.memoryUsage().rss;
    await expect(h.client.callTool({ name: 'huge', arguments: {} })).rejects.toThrow(
      /over the 1048576-byte cap/,
    );
    const flood = await h.client.callTool({ name: 'flood', arguments: {} });
    expect(textOf(flood)).toBe('flooded');
    const echo = await h.client.callTool({ name: 'echo', arguments: { text: 'fine' } });
    expect(textOf(echo)).toBe('echo: fine');
    // Two 10 MB lines went past; the decoder kept at most the 1 MB cap of either.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('the default cap (4 MiB) applies too', async () => {
    h = await harness({ server: 'huge', args: [fixture('huge-server.mjs')], profile: 'trusted' });
    await expect(h.client.callTool({ name: 'huge', arguments: {} })).rejects.toThrow(
      /over the 4194304-byte cap/,
    );
  });
});

describe('a hostile or broken client', () => {
  it('gets a parse error for garbage and an invalid-request error for a bad message, by id', async () => {
    h = await harness({
      server: 'malformed',
      args: [fixture('malformed-server.mjs')],
      profile: 'trusted',
      connect: false,
    });
    const lines: string[] = [];
    let buf = '';
    h.fromProxy.on('data', (c: Buffer) => {
      buf += c.toString();
      let i = buf.indexOf('\n');
      while (i !== -1) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    });
    h.toProxy.write('{"jsonrpc":"2.0","id":7,"method":"tools/list",\n');
    h.toProxy.write('{"jsonrpc":"2.0","id":8,"method":42}\n');
    h.toProxy.write('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":7}}\n');
    // A JSON-RPC batch (dropped from MCP in 2025-06-18) is refused whole, never forwarded.
    h.toProxy.write('[{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo"}}]\n');
    // Over the 4 MiB default cap: refused by id, not forwarded, not buffered whole.
    h.toProxy.write(
      `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${'x'.repeat(5 * 1024 * 1024)}"}}}\n`,
    );
    // Wait for the five replies (bounded), rather than a fixed sleep.
    for (let i = 0; i < 100 && lines.length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    const replies = lines.map((l) => JSON.parse(l));
    expect(replies).toContainEqual(
      expect.objectContaining({ id: null, error: expect.objectContaining({ code: -32600 }) }),
    );
    expect(replies.find((m) => m.id === 10)).toBeUndefined();
    expect(replies.find((m) => m.id === 11)?.error).toMatchObject({
      code: -32600,
      data: { code: 'MCP_MESSAGE_TOO_LARGE' },
    });
    expect(replies).toContainEqual(
      expect.objectContaining({ id: 7, error: expect.objectContaining({ code: -32700 }) }),
    );
    expect(replies).toContainEqual(
      expect.objectContaining({ id: 8, error: expect.objectContaining({ code: -32600 }) }),
    );
    expect(replies).toContainEqual(
      expect.objectContaining({ id: 9, error: expect.objectContaining({ code: -32602 }) }),
    );
  });

  it('an audit sink that fails makes allowed calls fail safe', async () => {
    h = await harness({ server: 'malformed', args: [fixture('malformed-server.mjs')], profile: 'trusted' });
    h.audit.fail = true;
    const r = await h.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/audit log could not record/);
  });
});

describe('an unwritable pin store', () => {
  it('fails safe: the listing is refused, calls are denied with the reason, the proxy keeps serving', async () => {
    const { mkdirSync, writeFileSync: write } = await import('node:fs');
    mkdirSync(join(dir, 'pins'));
    const pins = new PinStore({ path: join(dir, 'pins', 'mcp-pins.json') });
    rmSync(join(dir, 'pins'), { recursive: true });
    write(join(dir, 'pins'), 'not a directory');
    h = await harness({ server: 'liar', args: [fixture('lying-server.mjs')], profile: 'trusted', pins });
    await expect(h.client.listTools()).rejects.toThrow(/mcp-pins\.json: cannot (read|write) pin file/);
    const r = await h.client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/could not decide/);
    expect(h.audit.calls()[0]).toMatchObject({ decision: 'denied' });
    await expect(h.client.ping()).resolves.toBeDefined();
  });
});
