// The MCP wiring every codex path shares: config files, server names and environment, the
// persisted pin store, and connecting a client through the proxy.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  connectThroughPermissionProxy,
  defaultServerName,
  loadMcpProxyConfig,
  McpClientError,
  openPinStore,
  PINS_FILE,
  type ProxiedMcpConnection,
  ServerEnvError,
  serverEnvironment,
} from '../src/index.js';
import { MemorySink, SERVERS } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-wiring-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadMcpProxyConfig', () => {
  it('reads TOML (by .toml extension) or JSON (anything else), in one loader', () => {
    writeFileSync(join(dir, 'm.toml'), 'max_message_bytes = 2048\n');
    writeFileSync(join(dir, 'm.json'), '{"max_message_bytes": 4096}');
    expect(loadMcpProxyConfig(join(dir, 'm.toml')).max_message_bytes).toBe(2048);
    expect(loadMcpProxyConfig(join(dir, 'm.json')).max_message_bytes).toBe(4096);
    writeFileSync(join(dir, 'rules.conf'), '{"max_message_bytes": 8192}'); // not .toml: JSON
    expect(loadMcpProxyConfig(join(dir, 'rules.conf')).max_message_bytes).toBe(8192);
    expect(loadMcpProxyConfig(undefined).approval_fallback).toBe('deny');
  });

  it('errors name the file and the problem on one line', () => {
    writeFileSync(join(dir, 'x.json'), '{');
    expect(() => loadMcpProxyConfig(join(dir, 'x.json'))).toThrow(/x\.json.*JSON syntax error/);
    writeFileSync(join(dir, 'x.toml'), 'a = \n');
    expect(() => loadMcpProxyConfig(join(dir, 'x.toml'))).toThrow(/x\.toml.*TOML syntax error at line 1/);
    expect(() => loadMcpProxyConfig(join(dir, 'missing.toml'))).toThrow(/cannot read file \(ENOENT\)/);
    writeFileSync(join(dir, 'bad.toml'), 'approval_fallback = "maybe"\n');
    expect(() => loadMcpProxyConfig(join(dir, 'bad.toml'))).toThrow(/bad\.toml.*approval_fallback/);
  });
});

describe('server names and environment', () => {
  it('default names come from the package, script or command, skipping generic names', () => {
    expect(defaultServerName(['npx', '-y', '@modelcontextprotocol/server-filesystem', '/home/me'])).toBe(
      'server-filesystem',
    );
    expect(defaultServerName(['npx', '-y', '@scope/tool@1.2.3'])).toBe('tool');
    expect(defaultServerName(['node', '/opt/srv/weather-mcp/dist/index.js'])).toBe('weather-mcp');
    expect(defaultServerName(['node', 'C:\\mcp\\notes\\build\\main.js'])).toBe('notes');
    expect(defaultServerName(['uvx', 'mcp-server-fetch'])).toBe('mcp-server-fetch');
    expect(defaultServerName(['python3', '-m', 'my_server'])).toBe('my_server');
    expect(defaultServerName(['/usr/local/bin/github-mcp-server', 'stdio'])).toBe('github-mcp-server');
    expect(defaultServerName([], 'http://127.0.0.1:8931/mcp')).toBe('127.0.0.1:8931');
  });

  it('the environment is the harmless defaults plus NAME=VALUE and passed NAMEs', () => {
    const env = { PATH: '/bin', HOME: '/h', SECRET: 's', TOKEN: 't' };
    expect(serverEnvironment(env)).toEqual({ PATH: '/bin', HOME: '/h' });
    expect(serverEnvironment(env, ['TOKEN', 'A=b=c', 'UNSET'])).toEqual({
      PATH: '/bin',
      HOME: '/h',
      TOKEN: 't',
      A: 'b=c',
    });
    expect(() => serverEnvironment(env, ['=x'], '--mcp-env')).toThrow(ServerEnvError);
    expect(() => serverEnvironment(env, ['1BAD'], '--mcp-env')).toThrow(
      '--mcp-env expects NAME or NAME=VALUE, got "1BAD"',
    );
  });
});

describe('connectThroughPermissionProxy', () => {
  let conn: ProxiedMcpConnection | undefined;
  afterEach(async () => {
    await conn?.close();
    conn = undefined;
  });

  it('pins every listed tool in the persisted store ($CODEX_HOME/mcp-pins.json); calls are audited', async () => {
    const audit = new MemorySink();
    conn = await connectThroughPermissionProxy({
      ...{ server: 'memory', command: process.execPath, args: [SERVERS.memory] },
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
      ...{ profile: 'offline', audit, pins: openPinStore(dir) },
      clientInfo: { name: 'wiring-test', version: '1' },
    });
    const result = await conn.callTool('search_nodes', { query: 'nothing' });
    expect(result['isError']).toBeFalsy();
    expect(audit.calls().map((e) => [e.target, e.decision])).toEqual([['memory/search_nodes', 'allowed']]);
    const pins = JSON.parse(readFileSync(join(dir, PINS_FILE), 'utf8'));
    expect(Object.keys(pins.servers.memory)).toContain('search_nodes');
    // A second store on the same file sees the same pins.
    expect(openPinStore(dir).get('memory', 'search_nodes')?.hash).toMatch(/^[0-9a-f]{64}$/);
  }, 30_000);

  it('after the proxy closed, a call fails with MCP_CLOSED', async () => {
    conn = await connectThroughPermissionProxy({
      ...{ server: 'memory', command: process.execPath, args: [SERVERS.memory] },
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
      ...{ profile: 'offline', audit: new MemorySink(), pins: openPinStore(dir, join(dir, 'p.json')) },
      clientInfo: { name: 'wiring-test', version: '1' },
    });
    await conn.close('test');
    const error = await conn.callTool('search_nodes', { query: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpClientError);
    expect((error as McpClientError).code).toBe('MCP_CLOSED');
    expect(conn.proxy.closeReason).toBe('test');
    expect(existsSync(join(dir, PINS_FILE))).toBe(false);
  }, 30_000);
});
