import { describe, expect, it } from 'vitest';
import {
  ChildProcessTransport,
  describePins,
  describeToolReports,
  HttpUpstreamTransport,
  openUpstream,
  parseHeaders,
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
