import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodexError, SECURITY_PROFILES } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  classifyTool,
  hashTool,
  LineDecoder,
  type McpPermission,
  PinStore,
  PinStoreError,
  parseMcpProxyConfig,
  RISK_LEVELS,
  type RiskLevel,
  readAnnotations,
  readHeuristics,
  redactText,
  requiresUserApproval,
  resolveRule,
  scanId,
  summariseArguments,
} from '../src/index.js';

const perm = (riskLevel: RiskLevel, requiresApproval: boolean): McpPermission => ({
  server: 's',
  tool: 't',
  riskLevel,
  requiresApproval,
});

describe('requiresUserApproval', () => {
  it('follows the rule table for every profile, level and configured value', () => {
    for (const profile of SECURITY_PROFILES) {
      for (const level of RISK_LEVELS) {
        for (const configured of [true, false]) {
          const got = requiresUserApproval(perm(level, configured), profile);
          let want: boolean;
          if (profile === 'trusted') want = false;
          else if (level === 'critical') want = true;
          else if (profile === 'offline' && level === 'high') want = true;
          else want = configured;
          expect(got, `${profile}/${level}/${configured}`).toBe(want);
        }
      }
    }
  });
});

describe('classifyTool', () => {
  it('user config is authoritative, even below the heuristics', () => {
    const c = classifyTool(
      { name: 'run_shell_command', inputSchema: { properties: { command: {} } } },
      'low',
    );
    expect(c).toMatchObject({ level: 'low', source: 'config' });
  });

  it('reads heuristics over names, descriptions and parameter names', () => {
    expect(classifyTool({ name: 'echo' }).level).toBe('low');
    expect(classifyTool({ name: 'read_text_file' }).level).toBe('medium');
    expect(
      classifyTool({ name: 'frob', inputSchema: { properties: { path: { type: 'string' } } } }).level,
    ).toBe('medium');
    expect(classifyTool({ name: 'write_file' }).level).toBe('high');
    expect(classifyTool({ name: 'frob', description: 'Deletes the record.' }).level).toBe('high');
    expect(classifyTool({ name: 'fetchPage' }).level).toBe('critical');
    expect(
      classifyTool({ name: 'frob', inputSchema: { properties: { url: { type: 'string' } } } }).level,
    ).toBe('critical');
    expect(classifyTool({ name: 'frob', description: 'Execute a command in a shell.' }).level).toBe(
      'critical',
    );
    expect(classifyTool({ name: 'frob', inputSchema: { properties: { cmd: {} } } }).level).toBe('critical');
  });

  it('a tool nothing recognises is high', () => {
    expect(classifyTool({ name: 'zorble' })).toMatchObject({ level: 'high', source: 'unclassified' });
    expect(readHeuristics({ name: 'zorble' })).toBeUndefined();
  });

  it('annotations raise the level but never lower it below the heuristics', () => {
    expect(classifyTool({ name: 'echo', annotations: { openWorldHint: true } })).toMatchObject({
      level: 'critical',
      source: 'annotations',
    });
    expect(classifyTool({ name: 'echo', annotations: { readOnlyHint: false } }).level).toBe('high');
    expect(classifyTool({ name: 'echo', annotations: { destructiveHint: true } }).level).toBe('high');
    expect(classifyTool({ name: 'echo', annotations: { idempotentHint: true } }).level).toBe('high');
    // A lie cannot lower: read-only claims on a shell tool, an unknown tool and a writer.
    const lie = { readOnlyHint: true, openWorldHint: false, destructiveHint: false };
    expect(classifyTool({ name: 'run_shell', annotations: lie }).level).toBe('critical');
    expect(classifyTool({ name: 'zorble', annotations: lie }).level).toBe('high');
    expect(classifyTool({ name: 'write_file', annotations: lie }).level).toBe('high');
    expect(readAnnotations({ name: 'x', annotations: lie })?.level).toBe('low');
    expect(readAnnotations({ name: 'x' })).toBeUndefined();
  });
});

describe('proxy config', () => {
  it('validates with zod and names the key on one line', () => {
    expect(() =>
      parseMcpProxyConfig({ servers: { fs: { tools: { w: { risk: 'extreme' } } } } }, 'p.json'),
    ).toThrow(/^p\.json: servers\.fs\.tools\.w\.risk: /);
    expect(() => parseMcpProxyConfig({ approval_fallback: 'maybe' }, 'p.json')).toThrow(/approval_fallback/);
    expect(() => parseMcpProxyConfig({ severs: {} }, 'p.json')).toThrow(/unknown key severs/);
    let error: unknown;
    try {
      parseMcpProxyConfig({ max_message_bytes: 3 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodexError);
    expect((error as CodexError).code).toBe('INVALID_CONFIG');
    const d = parseMcpProxyConfig({});
    expect(d).toMatchObject({
      approval_fallback: 'deny',
      on_tool_change: 'block',
      max_message_bytes: 4194304,
    });
  });

  it('resolves per-server and per-tool globs, most specific last', () => {
    const config = parseMcpProxyConfig({
      servers: {
        '*': { requires_approval: true, tools: { 'delete_*': { forbidden: true } } },
        'fs-*': { risk: 'medium', tools: { 'write_*': { risk: 'high' }, write_log: { forbidden: false } } },
        'fs-prod': { tools: { 'write_*': { forbidden: true } } },
      },
    });
    expect(resolveRule(config, 'fs-dev', 'read_file')).toMatchObject({
      risk: 'medium',
      requiresApproval: true,
      forbidden: false,
    });
    expect(resolveRule(config, 'fs-dev', 'write_file')).toMatchObject({ risk: 'high', forbidden: false });
    expect(resolveRule(config, 'fs-prod', 'write_file').forbidden).toBe(true);
    expect(resolveRule(config, 'other', 'delete_all').forbidden).toBe(true);
    expect(resolveRule(config, 'other', 'undelete_all').forbidden).toBe(false);
    expect(resolveRule(config, 'other', 'x').risk).toBeUndefined();
    // A literal `.` or `+` in a pattern is not a regex metacharacter.
    const literal = parseMcpProxyConfig({ servers: { 'a.b+': { forbidden: true } } });
    expect(resolveRule(literal, 'a.b+', 't').forbidden).toBe(true);
    expect(resolveRule(literal, 'aXbb', 't').forbidden).toBe(false);
  });
});

describe('PinStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pins-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes definitions independent of key order, sensitive to every pinned field', () => {
    const a = { name: 't', description: 'd', inputSchema: { type: 'object', properties: { x: {} } } };
    const b = { inputSchema: { properties: { x: {} }, type: 'object' }, description: 'd', name: 't' };
    expect(hashTool(a)).toBe(hashTool(b));
    expect(hashTool({ ...a, description: 'd.' })).not.toBe(hashTool(a));
    expect(hashTool({ ...a, annotations: { readOnlyHint: true } })).not.toBe(hashTool(a));
    expect(hashTool({ ...a, inputSchema: { type: 'object', properties: { y: {} } } })).not.toBe(hashTool(a));
  });

  it('pins on first sight, detects changes, persists atomically across instances', () => {
    const path = join(dir, 'sub', 'mcp-pins.json');
    const store = new PinStore({ path });
    expect(store.check('srv', 't', 'a'.repeat(64))).toBe('new');
    expect(store.check('srv', 't', 'a'.repeat(64))).toBe('same');
    expect(store.check('srv', 't', 'b'.repeat(64))).toBe('changed');
    const reopened = new PinStore({ path });
    expect(reopened.check('srv', 't', 'b'.repeat(64))).toBe('changed');
    reopened.pin('srv', 't', 'b'.repeat(64));
    expect(new PinStore({ path }).check('srv', 't', 'b'.repeat(64))).toBe('same');
    expect(JSON.parse(readFileSync(path, 'utf8')).servers.srv.t.hash).toBe('b'.repeat(64));
    expect(reopened.forget('srv')).toBe(1);
    expect(new PinStore({ path }).get('srv', 't')).toBeUndefined();
  });

  it('refuses a corrupt pin file instead of silently starting over', () => {
    const path = join(dir, 'mcp-pins.json');
    writeFileSync(path, '{not json');
    expect(() => new PinStore({ path })).toThrow(PinStoreError);
    writeFileSync(path, JSON.stringify({ version: 1, servers: { s: { t: { hash: 'nope' } } } }));
    expect(() => new PinStore({ path })).toThrow(/invalid pin file at servers\.s\.t/);
  });
});

describe('framing', () => {
  const collect = (max: number) => {
    const messages: unknown[] = [];
    const problems: unknown[] = [];
    const d = new LineDecoder(max, { message: (m) => messages.push(m), problem: (p) => problems.push(p) });
    return { d, messages, problems };
  };

  it('splits lines across chunks and validates JSON-RPC', () => {
    const { d, messages, problems } = collect(1024);
    d.push(Buffer.from('{"jsonrpc":"2.0","id":1,"res'));
    d.push(Buffer.from('ult":{}}\n{"jsonrpc":"2.0","method":"x"}\r\n\n'));
    d.push(Buffer.from('{"jsonrpc":"1.0","id":"a","result":{}}\nnope\n'));
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', method: 'x' },
    ]);
    expect(problems).toMatchObject([
      { kind: 'invalid_message', id: 'a' },
      { kind: 'invalid_json', detail: expect.stringMatching(/^not JSON/) },
    ]);
  });

  it('drops an over-cap line as it streams and still finds its id (first or last)', () => {
    const { d, messages, problems } = collect(1000);
    const big = 'x'.repeat(5000);
    const line1 = `{"result":{"content":[{"text":"${big}","id":99}]},"jsonrpc":"2.0","id":"last"}\n`;
    for (let i = 0; i < line1.length; i += 700) d.push(Buffer.from(line1.slice(i, i + 700)));
    d.push(
      Buffer.from(`{"id":5,"jsonrpc":"2.0","result":{"t":"${big}"}}\n{"jsonrpc":"2.0","id":6,"result":{}}\n`),
    );
    expect(problems).toMatchObject([
      { kind: 'too_large', id: 'last', bytes: line1.length - 1 },
      { kind: 'too_large', id: 5 },
    ]);
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 6, result: {} }]);
  });

  it('scanId ignores nested ids and strings that look like keys', () => {
    expect(scanId('{"params":{"id":1},"x":"\\"id\\":3","id":2}')).toBe(2);
    expect(scanId('{"jsonrpc":"2.0","id":-4,"result":{')).toBe(-4);
    expect(scanId('garbage')).toBeUndefined();
  });
});

describe('argument summaries for the audit log', () => {
  it('redacts secret keys and secret-looking values, and cuts long values', () => {
    const s = summariseArguments({
      path: '/tmp/x',
      api_key: 'abc',
      headers: { Authorization: 'Bearer abcdefghijklmnop' },
      note: `token ghp_${'a'.repeat(36)} here`,
      body: 'y'.repeat(500),
    });
    expect(s).toContain('/tmp/x');
    expect(s).not.toContain('abc"');
    expect(s).not.toContain('abcdefghijklmnop');
    expect(s).not.toContain('ghp_');
    expect(s).toContain('(500 chars)');
    expect(s.length).toBeLessThanOrEqual(512);
    expect(redactText('https://user:hunter2@example.test/x')).toBe('https://user:[REDACTED]@example.test/x');
  });
});
