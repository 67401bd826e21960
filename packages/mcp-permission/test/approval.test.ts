import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, harness, SERVERS, textOf } from './helpers.js';

let dir: string;
let h: Harness | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-approval-'));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('approval edge cases', () => {
  it('an unanswered approval times out as a denial; nothing is written', async () => {
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      config: { approval_timeout_seconds: 0.3 },
      elicit: () => new Promise(() => {}),
    });
    const target = join(dir, 'never.txt');
    const r = await h.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/approval timeout/);
    expect(existsSync(target)).toBe(false);
    expect(h.audit.calls()[0]?.details).toMatchObject({ approval: 'timeout', decision: 'deny' });
  });

  it('a call cancelled while waiting for approval is never made, and is audited', async () => {
    const ac = new AbortController();
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      elicit: () => {
        setTimeout(() => ac.abort('changed my mind'), 50);
        return new Promise(() => {});
      },
    });
    const target = join(dir, 'cancelled.txt');
    await expect(
      h.client.callTool({ name: 'write_file', arguments: { path: target, content: 'x' } }, undefined, {
        signal: ac.signal,
      }),
    ).rejects.toThrow();
    for (let i = 0; i < 100 && h.audit.calls().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(target)).toBe(false);
    expect(h.audit.calls()[0]).toMatchObject({
      decision: 'denied',
      reason: 'cancelled by the client before a decision',
    });
  });

  it('approval_fallback=allow lets a client without elicitation through (and says so in the audit)', async () => {
    h = await harness({
      server: 'filesystem',
      args: [SERVERS.filesystem, dir],
      profile: 'offline',
      config: { approval_fallback: 'allow' },
    });
    const target = join(dir, 'fallback.txt');
    const r = await h.client.callTool({ name: 'write_file', arguments: { path: target, content: 'fb' } });
    expect(r.isError).toBeFalsy();
    expect(readFileSync(target, 'utf8')).toBe('fb');
    expect(h.audit.calls()[0]).toMatchObject({ decision: 'allowed' });
    expect(h.audit.calls()[0]?.details).toMatchObject({ approval: 'unavailable' });
  });
});

describe('pass-through and id remapping', () => {
  it('relays a server-originated sampling request and its answer', async () => {
    h = await harness({
      server: 'everything',
      args: [SERVERS.everything, 'stdio'],
      profile: 'trusted',
      connect: false,
    });
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
    const client = new Client({ name: 'sampler', version: '1' }, { capabilities: { sampling: {} } });
    const prompts: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      const first = req.params.messages[0]?.content;
      prompts.push(first && 'text' in first ? String(first.text) : '');
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'sampled answer' } };
    });
    await client.connect(new StdioServerTransport(h.fromProxy, h.toProxy));
    const r = await client.callTool({
      name: 'trigger-sampling-request',
      arguments: { prompt: 'hi there', maxTokens: 5 },
    });
    expect(prompts[0]).toContain('hi there');
    expect(JSON.stringify(r)).toContain('sampled answer');
    await client.close();
  });

  it('keeps 30 concurrent calls apart', async () => {
    h = await harness({ server: 'everything', args: [SERVERS.everything, 'stdio'], profile: 'offline' });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        h!.client.callTool({ name: 'echo', arguments: { message: `m${i}` } }),
      ),
    );
    results.forEach((r, i) => {
      expect(textOf(r)).toBe(`Echo: m${i}`);
    });
    expect(h.audit.calls()).toHaveLength(30);
  });
});
