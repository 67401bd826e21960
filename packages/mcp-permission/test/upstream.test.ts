import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ChildProcessTransport,
  describePins,
  describeToolReports,
  HttpUpstreamTransport,
  openProxyTarget,
  openUpstream,
  parseHeaders,
  ServerEnvError,
  UpstreamOptionsError,
} from '../src/index.js';

describe('parseHeaders and openUpstream', () => {
  it('reads "Name: value" items, trimming both sides; anything else is MCP_UPSTREAM_OPTIONS', () => {
    expect(parseHeaders(['Authorization:  Bearer x ', 'X-A:b:c'])).toEqual({
      Authorization: 'Bearer x',
      'X-A': 'b:c',
    });
    expect(() => parseHeaders([': no name'])).toThrow(UpstreamOptionsError);
    expect(() => parseHeaders(['no colon'])).toThrow(/--header expects "Name: value", got "no colon"/);
  });

  it('a URL opens Streamable HTTP, a command a child process (not started until the proxy starts)', () => {
    const http = openUpstream({ url: 'http://127.0.0.1:9/mcp', headers: ['K: v'], maxMessageBytes: 1024 });
    expect(http).toBeInstanceOf(HttpUpstreamTransport);
    const child = openUpstream({
      command: ['node', 'server.js'],
      cwd: '/',
      env: { PATH: '/bin' },
      maxMessageBytes: 1024,
    });
    expect(child).toBeInstanceOf(ChildProcessTransport);
    expect(() => openUpstream({ command: [], maxMessageBytes: 1024 })).toThrow(UpstreamOptionsError);
    expect(() => openUpstream({ url: 'http://h/', headers: ['bad'], maxMessageBytes: 1 })).toThrow(
      UpstreamOptionsError,
    );
  });
});

describe('describeToolReports and describePins', () => {
  it('rows with a header for an inspection: what a call would get, the pin and why', () => {
    const base = {
      risk: 'read' as const,
      source: 'annotations' as const,
      reasons: ['readOnlyHint'],
      pin: 'new' as const,
    };
    expect(
      describeToolReports([
        { ...base, name: 'read_file', requiresApproval: false, forbidden: false },
        { ...base, name: 'delete', risk: 'destructive', requiresApproval: true, forbidden: false },
        { ...base, name: 'exec', risk: 'execute', requiresApproval: true, forbidden: true, pin: 'unpinned' },
      ] as never),
    ).toEqual([
      ['TOOL', 'RISK', 'CALL', 'PIN', 'WHY'],
      ['read_file', 'read', 'allow', 'new', 'annotations: readOnlyHint'],
      ['delete', 'destructive', 'ask', 'new', 'annotations: readOnlyHint'],
      ['exec', 'execute', 'forbidden', 'unpinned', 'annotations: readOnlyHint'],
    ]);
  });

  it('a row per pinned tool with a hash prefix', () => {
    const pin = { hash: 'a'.repeat(64), first_seen: '2026-01-01', updated: '2026-01-02' };
    expect(describePins({ fs: { read: pin, write: pin }, mem: {} })).toEqual([
      ['fs', 'read', 'a'.repeat(16), '2026-01-02'],
      ['fs', 'write', 'a'.repeat(16), '2026-01-02'],
    ]);
  });
});

describe('openProxyTarget', () => {
  it('names the server, loads the rules and the pins relative to cwd, and opens the transport', () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-mcp-target-'));
    try {
      writeFileSync(join(dir, 'rules.json'), JSON.stringify({ max_message_bytes: 4096 }));
      const stdio = openProxyTarget({
        ...{ command: ['npx', '@modelcontextprotocol/server-filesystem@1.2', '.'], cwd: dir },
        ...{ env: { PATH: '/bin', SECRET: 's', KEEP: 'k' }, pass: ['KEEP', 'X=1'], codexHome: dir },
        ...{ configFile: 'rules.json', pinsFile: 'pins.json' },
      });
      expect(stdio.server).toBe('server-filesystem');
      expect(stdio.config.max_message_bytes).toBe(4096);
      expect(stdio.pins.path).toBe(join(dir, 'pins.json'));
      expect(stdio.upstream).toBeInstanceOf(ChildProcessTransport);
      const http = openProxyTarget({
        ...{ url: 'http://127.0.0.1:9/mcp', headers: ['K: v'], cwd: dir, env: {}, codexHome: dir },
        name: 'mine',
      });
      expect(http.server).toBe('mine');
      expect(http.pins.path).toBe(join(dir, 'mcp-pins.json'));
      expect(http.upstream).toBeInstanceOf(HttpUpstreamTransport);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a malformed --env item is ServerEnvError; no server at all or a bad header UpstreamOptionsError', () => {
    const base = { cwd: '/', env: {}, codexHome: '/nonexistent' };
    expect(() => openProxyTarget({ ...base, command: ['s'], pass: ['1BAD'] })).toThrow(ServerEnvError);
    expect(() => openProxyTarget(base)).toThrow(UpstreamOptionsError);
    expect(() => openProxyTarget({ ...base, url: 'http://h/', headers: ['bad'] })).toThrow(
      UpstreamOptionsError,
    );
  });

  it('needs exactly one server, a command or an http(s) URL, before reading any file', () => {
    // the rules file does not exist: the server is checked first
    const base = { cwd: '/', env: {}, codexHome: '/nonexistent', configFile: '/nonexistent/rules.json' };
    expect(() => openProxyTarget({ ...base, command: [] })).toThrow(
      /^give the server command after --, or --url$/,
    );
    expect(() => openProxyTarget({ ...base, command: ['s'], url: 'http://h/' })).toThrow(
      /^give either a server command after -- or --url, not both$/,
    );
    expect(() => openProxyTarget({ ...base, url: 'ftp://h/' })).toThrow(
      new UpstreamOptionsError('--url must be http(s), got "ftp://h/"'),
    );
  });
});
