import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, codex } from './helpers.js';

// The SDK and the real servers are dev dependencies of @codex/mcp-permission; resolve them there.
const pkgRequire = createRequire(new URL('../../../packages/mcp-permission/package.json', import.meta.url));
const FILESYSTEM = pkgRequire.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
const { Client } = await import(pkgRequire.resolve('@modelcontextprotocol/sdk/client/index.js'));
const { StdioClientTransport } = await import(
  pkgRequire.resolve('@modelcontextprotocol/sdk/client/stdio.js')
);
const { ElicitRequestSchema } = await import(pkgRequire.resolve('@modelcontextprotocol/sdk/types.js'));
const { McpServer } = await import(pkgRequire.resolve('@modelcontextprotocol/sdk/server/mcp.js'));
const { StreamableHTTPServerTransport } = await import(
  pkgRequire.resolve('@modelcontextprotocol/sdk/server/streamableHttp.js')
);

let home: string;
let work: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  work = mkdtempSync(join(tmpdir(), 'codex-mcp-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const text = (r: { content?: { text?: string }[] }) => (r.content ?? []).map((c) => c.text ?? '').join('\n');

async function connect(args: string[], opts: { elicit?: (m: string) => unknown } = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', 'proxy', ...args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CODEX_HOME: home },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const client = new Client(
    { name: 'cli-test', version: '1' },
    { capabilities: opts.elicit ? { elicitation: { form: {} } } : {} },
  );
  if (opts.elicit) {
    const answer = opts.elicit;
    client.setRequestHandler(ElicitRequestSchema, async (req: { params: { message: string } }) =>
      answer(req.params.message),
    );
  }
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

function auditLines(): { decision: string; target: string; details: Record<string, unknown> }[] {
  const path = join(home, 'audit', 'audit.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('codex mcp proxy (real process, real filesystem server)', () => {
  it('lists tools with risk, allows a read, denies a write, and audits both with the real logger', async () => {
    writeFileSync(join(work, 'a.txt'), 'alpha');
    const { client, stderr } = await connect([
      '--profile',
      'offline',
      '--',
      process.execPath,
      FILESYSTEM,
      work,
    ]);
    const { tools } = await client.listTools();
    const write = tools.find((t: { name: string }) => t.name === 'write_file');
    expect(write._meta['codex/permission']).toMatchObject({ risk: 'high', requiresApproval: true });
    const read = await client.callTool({ name: 'read_text_file', arguments: { path: join(work, 'a.txt') } });
    expect(text(read)).toBe('alpha');
    const denied = await client.callTool({
      name: 'write_file',
      arguments: { path: join(work, 'b.txt'), content: 'x' },
    });
    expect(denied.isError).toBe(true);
    expect(existsSync(join(work, 'b.txt'))).toBe(false);
    await client.close();
    expect(stderr()).toMatch(/serving "server-filesystem" under profile offline/);
    const calls = auditLines().filter((e) => e.details?.['event'] !== 'tool_changed');
    expect(calls.map((e) => [e.target, e.decision])).toEqual([
      ['server-filesystem/read_text_file', 'allowed'],
      ['server-filesystem/write_file', 'denied'],
    ]);
    // Every listed tool was pinned in $CODEX_HOME/mcp-pins.json.
    expect(
      JSON.parse(readFileSync(join(home, 'mcp-pins.json'), 'utf8')).servers['server-filesystem'],
    ).toHaveProperty('write_file');
  });

  it('asks through elicitation and performs the approved write', async () => {
    const asked: string[] = [];
    const { client } = await connect(['--name', 'fs', '--', process.execPath, FILESYSTEM, work], {
      elicit: (m) => {
        asked.push(m);
        return { action: 'accept', content: { approve: true } };
      },
    });
    const r = await client.callTool({
      name: 'write_file',
      arguments: { path: join(work, 'ok.txt'), content: 'yes' },
    });
    expect(r.isError).toBeFalsy();
    expect(readFileSync(join(work, 'ok.txt'), 'utf8')).toBe('yes');
    expect(asked[0]).toMatch(/"write_file" on server "fs"/);
    await client.close();
    expect(auditLines().at(-1)).toMatchObject({ target: 'fs/write_file', decision: 'allowed' });
  });

  it('applies --mcp-config (TOML): a forbidden tool is hidden', async () => {
    const cfg = join(work, 'mcp.toml');
    writeFileSync(cfg, '[servers.fs.tools."write_*"]\nforbidden = true\n');
    const { client } = await connect([
      '--mcp-config',
      cfg,
      '--name',
      'fs',
      '--',
      process.execPath,
      FILESYSTEM,
      work,
    ]);
    const { tools } = await client.listTools();
    const names = tools.map((t: { name: string }) => t.name);
    expect(names).toContain('read_text_file');
    expect(names).not.toContain('write_file');
    await client.close();
  });

  it('writes nothing but JSON-RPC to stdout, even for bad input', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--', process.execPath, FILESYSTEM, work], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stdin.write(
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}\n',
    );
    child.stdin.write('not json\n');
    child.stdin.write('{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n');
    for (let i = 0; i < 200 && !out.includes('"id":2,'); i++) await new Promise((r) => setTimeout(r, 50));
    child.stdin.end();
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const messages = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(messages.every((m) => m.jsonrpc === '2.0')).toBe(true);
    expect(messages.find((m) => m.id === 1)?.result?.serverInfo).toBeDefined();
    expect(messages.find((m) => m.error?.code === -32700)).toBeDefined();
    expect(messages.find((m) => m.id === 2)?.result?.tools?.length).toBeGreaterThan(5);
  });
});

describe('codex mcp proxy --url (Streamable HTTP on 127.0.0.1)', () => {
  it('proxies a stateless HTTP server: lists with risk, allows low, denies high, audits with a session id', async () => {
    const { createServer } = await import('node:http');
    const http = createServer(async (req, res) => {
      const server = new McpServer({ name: 'http', version: '1' });
      server.registerTool('echo', { description: 'Echoes the input.' }, async () => ({
        content: [{ type: 'text', text: 'echoed' }],
      }));
      server.registerTool('delete_everything', { description: 'Deletes all records.' }, async () => ({
        content: [{ type: 'text', text: 'deleted' }],
      }));
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(t);
      await t.handleRequest(req, res);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    try {
      const { client } = await connect(['--name', 'remote', '--url', `http://127.0.0.1:${port}/mcp`]);
      const { tools } = await client.listTools();
      const risk = Object.fromEntries(
        tools.map((t: { name: string; _meta: Record<string, { risk: string }> }) => [
          t.name,
          t._meta['codex/permission']?.risk,
        ]),
      );
      expect(risk).toEqual({ echo: 'low', delete_everything: 'high' });
      expect(text(await client.callTool({ name: 'echo', arguments: {} }))).toBe('echoed');
      const denied = await client.callTool({ name: 'delete_everything', arguments: {} });
      expect(denied.isError).toBe(true);
      await client.close();
      const calls = auditLines().filter((e) => e.details?.['event'] !== 'tool_changed');
      expect(calls.map((e) => [e.target, e.decision])).toEqual([
        ['remote/echo', 'allowed'],
        ['remote/delete_everything', 'denied'],
      ]);
      const sessions = new Set(calls.map((e) => (e as unknown as { session_id: string }).session_id));
      expect(sessions.size).toBe(1);
      expect([...sessions][0]).toMatch(/^mcp-[0-9a-f-]{36}$/);
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});

describe('codex mcp inspect', () => {
  it('lists the real tools with risk and decision, calls and pins nothing', async () => {
    const r = codex(['mcp', 'inspect', '--json', '--name', 'fs', '--', process.execPath, FILESYSTEM, work], {
      home,
    });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      profile: string;
      tools: { name: string; risk: string; requiresApproval: boolean }[];
    };
    expect(report.profile).toBe('offline');
    const by = Object.fromEntries(report.tools.map((t) => [t.name, t]));
    expect(by['write_file']).toMatchObject({ risk: 'high', requiresApproval: true });
    expect(by['read_text_file']).toMatchObject({ risk: 'medium', requiresApproval: false });
    expect(existsSync(join(home, 'mcp-pins.json'))).toBe(false);
    const table = codex(['mcp', 'inspect', '--name', 'fs', '--', process.execPath, FILESYSTEM, work], {
      home,
    });
    expect(table.stdout).toMatch(/^TOOL\s+RISK\s+CALL\s+PIN\s+WHY/);
    expect(table.stdout).toMatch(/write_file\s+high\s+ask\s+new/);
  });
});

describe('codex mcp: errors and pins', () => {
  it('usage and config errors are one line with exit 2', () => {
    const none = codex(['mcp', 'proxy'], { home });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^codex: error: give the server command after --, or --url\n$/);
    expect(none.stdout).toBe('');
    const cfg = join(work, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ servers: { fs: { tools: { x: { risk: 'extreme' } } } } }));
    const bad = codex(['mcp', 'proxy', '--mcp-config', cfg, '--', 'true'], { home });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: servers\.fs\.tools\.x\.risk: /);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(codex(['mcp', 'frobnicate'], { home }).status).toBe(2);
  });

  it('a server that cannot start is a one-line failure, exit 1', () => {
    const r = codex(['mcp', 'proxy', '--', join(work, 'no-such-server')], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot start MCP server/);
    expect(r.stdout).toBe('');
  });

  it('a server that exits on its own ends the proxy with exit 1 and says so', async () => {
    // stdin stays open: the server, not the client, ends the session.
    const child = spawn(
      process.execPath,
      [
        BIN,
        'mcp',
        'proxy',
        '--name',
        'quitter',
        '--',
        process.execPath,
        '-e',
        'setTimeout(() => process.exit(3), 200)',
      ],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(/codex: error: MCP server "quitter" went away \(exit code 3\)/);
    expect(out).toBe('');
  });

  it('pins list and forget', async () => {
    const { client } = await connect(['--name', 'fs', '--', process.execPath, FILESYSTEM, work]);
    await client.listTools();
    await client.close();
    const list = codex(['mcp', 'pins', 'list', '--json'], { home });
    expect(list.status).toBe(0);
    expect(Object.keys(JSON.parse(list.stdout).servers.fs)).toContain('read_text_file');
    const forget = codex(['mcp', 'pins', 'forget', 'fs', 'read_text_file'], { home });
    expect(forget).toMatchObject({ status: 0, stdout: 'forgot 1 pin\n' });
    expect(codex(['mcp', 'pins', 'forget', 'fs', 'read_text_file'], { home }).status).toBe(1);
  });
});
