// `codex mcp serve` driven by the MCP SDK's real Client, over real stdio and real Streamable HTTP
// on loopback, with the real sandbox and audit log behind it.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, fullRung } from './helpers.js';

/** Tests of what the full rung does (see fullRung; degraded.test.ts covers the rest). */
const FULL = fullRung();

interface Entry {
  operation: string;
  decision: string;
  reason: string;
  target: string;
  agent_type: string;
  details?: Record<string, unknown>;
}
interface Result {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync('/var/tmp/codex-mcp-serve-');
  home = mkdtempSync('/var/tmp/codex-mcp-serve-home-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CODEX_HOME: home });
function audit(): Entry[] {
  const file = join(home, 'audit', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

type Answer = { action: 'accept'; content: { answer: string } } | { action: 'decline' };
/** A real SDK client over stdio to `codex mcp serve`; `elicit` answers elicitation (else unsupported). */
async function connect(
  o: { elicit?: (message: string) => Answer; args?: string[]; serveArgs?: string[]; name?: string } = {},
) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...(o.args ?? []), 'mcp', 'serve', ...(o.serveArgs ?? [])],
    cwd: dir,
    env: env(),
    stderr: 'pipe',
  });
  const client = new Client(
    { name: o.name ?? 'vitest-client', version: '1.0.0' },
    { capabilities: o.elicit ? { elicitation: {} } : {} },
  );
  const asked: string[] = [];
  if (o.elicit) {
    const answer = o.elicit;
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return answer(req.params.message);
    });
  }
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as Result;
  return { client, transport, call, asked };
}

function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('codex mcp serve (stdio, real SDK client)', () => {
  it.skipIf(!FULL)(
    'lists run_command and check_command; an allowed command runs in the sandbox; audited with the client name',
    async () => {
      const { client, call } = await connect({ name: 'allowed-client' });
      try {
        const tools = (await client.listTools()).tools.map((t) => t.name).sort();
        expect(tools).toEqual(['check_command', 'run_command']);
        writeFileSync(join(dir, 'a.txt'), 'hello\n');
        const r = await call('run_command', { argv: ['cat', 'a.txt'] });
        expect(r.isError).toBe(false);
        expect(r.structuredContent).toMatchObject({
          outcome: 'ran',
          exitCode: 0,
          decision: 'allow',
          stdout: 'hello\n',
        });
        expect(r.structuredContent?.rung).toBe('full');
        const check = await call('check_command', { argv: ['rm', '-rf', '/'] });
        expect(check.structuredContent?.decision).toBe('forbidden');
      } finally {
        await client.close();
      }
      const log = audit();
      expect(log.map((e) => [e.operation, e.decision])).toEqual([
        ['command_exec', 'allowed'],
        ['process_spawn', 'allowed'],
        ['command_exec', 'denied'],
      ]);
      for (const e of log) {
        expect(e.agent_type).toBe('codex-mcp-serve');
        expect(e.details?.client).toBe('allowed-client');
      }
    },
  );

  it('a prompt decision is asked through elicitation: accept runs it, decline refuses it', async () => {
    const accept = await connect({ elicit: () => ({ action: 'accept', content: { answer: 'yes' } }) });
    try {
      const r = await accept.call('run_command', { argv: ['python3', '-c', 'print(6*7)'] });
      expect(r.structuredContent).toMatchObject({
        outcome: 'ran',
        exitCode: 0,
        decision: 'prompt',
        stdout: '42\n',
      });
      expect(accept.asked[0]).toContain('python3 -c print(6*7)');
    } finally {
      await accept.client.close();
    }
    const decline = await connect({ elicit: () => ({ action: 'decline' }) });
    try {
      const marker = join(dir, 'ran');
      const r = await decline.call('run_command', {
        argv: ['python3', '-c', `open(${JSON.stringify(marker)}, "w")`],
      });
      expect(r.isError).toBe(true);
      expect(r.structuredContent).toMatchObject({
        outcome: 'refused',
        exitCode: 125,
        refusal: { code: 'NOT_APPROVED' },
      });
      expect(existsSync(marker)).toBe(false);
    } finally {
      await decline.client.close();
    }
    expect(audit().some((e) => /^approved through MCP elicitation/.test(e.reason))).toBe(true);
    expect(
      audit().some(
        (e) => e.decision === 'denied' && /^prompt declined through MCP elicitation/.test(e.reason),
      ),
    ).toBe(true);
  });

  it('without elicitation support a prompt is refused with a clear message; "always" is saved as the prefix shown', async () => {
    const plain = await connect();
    try {
      const r = await plain.call('run_command', { argv: ['python3', '-c', 'print(1)'] });
      expect(r.structuredContent).toMatchObject({
        outcome: 'refused',
        refusal: { code: 'APPROVAL_REQUIRED' },
      });
      expect(r.content[0]?.text).toContain('does not support elicitation');
    } finally {
      await plain.client.close();
    }
    const always = await connect({ elicit: () => ({ action: 'accept', content: { answer: 'always' } }) });
    try {
      await always.call('run_command', { argv: ['python3', '-c', 'print(2)'] });
    } finally {
      await always.client.close();
    }
    expect(readFileSync(join(home, 'policy', 'approved.toml'), 'utf8')).toContain(
      'prefix = ["python3","-c","print(2)"]',
    );
    const again = await connect();
    try {
      const r = await again.call('run_command', { argv: ['python3', '-c', 'print(2)'] });
      expect(r.structuredContent).toMatchObject({ outcome: 'ran', decision: 'allow', stdout: '2\n' });
    } finally {
      await again.client.close();
    }
  });

  it.skipIf(!FULL)(
    'approval modes: an unknown command runs unasked under on-request (default), is elicited under -a untrusted, refused unasked under -a never',
    async () => {
      writeFileSync(join(dir, 'hello.sh'), '#!/bin/sh\necho contained\n', { mode: 0o755 });
      const plain = await connect();
      try {
        const r = await plain.call('run_command', { argv: ['./hello.sh'] });
        expect(r.structuredContent).toMatchObject({
          outcome: 'ran',
          decision: 'prompt',
          stdout: 'contained\n',
        });
        expect((r.structuredContent as { approval?: string }).approval).toMatch(
          /^auto-approved by approval mode on-request: the sandbox contains it, rung full/,
        );
        const check = await plain.call('check_command', { argv: ['./hello.sh'] });
        expect(check.structuredContent).toMatchObject({ decision: 'prompt', causes: ['unknown-command'] });
      } finally {
        await plain.client.close();
      }
      const strict = await connect({
        serveArgs: ['-a', 'untrusted'],
        elicit: () => ({ action: 'accept', content: { answer: 'no' } }),
      });
      try {
        const r = await strict.call('run_command', { argv: ['./hello.sh'] });
        expect(r.structuredContent).toMatchObject({ outcome: 'refused', refusal: { code: 'NOT_APPROVED' } });
        expect(strict.asked).toHaveLength(1);
      } finally {
        await strict.client.close();
      }
      const never = await connect({
        serveArgs: ['--ask-for-approval', 'never'],
        elicit: () => ({ action: 'accept', content: { answer: 'yes' } }),
      });
      try {
        const r = await never.call('run_command', { argv: ['python3', '-c', 'print(1)'] });
        expect(r.structuredContent).toMatchObject({
          outcome: 'refused',
          refusal: { code: 'APPROVAL_NEVER' },
        });
        expect(never.asked).toEqual([]);
      } finally {
        await never.client.close();
      }
      expect(audit().filter((e) => e.details?.auto === true)).toHaveLength(1);
    },
  );

  it('forbidden is refused before anything runs; a write the policy cannot see is denied by the sandbox', async () => {
    const { client, call } = await connect({
      args: ['--profile', 'workspace-write'],
      elicit: () => ({ action: 'accept', content: { answer: 'yes' } }),
    });
    const outside = join(home, 'outside.txt');
    try {
      const forbidden = await call('run_command', { script: `touch ${join(dir, 'x')}; rm -rf /` });
      expect(forbidden.structuredContent).toMatchObject({
        outcome: 'refused',
        decision: 'forbidden',
        refusal: { code: 'POLICY_FORBIDDEN' },
      });
      expect(existsSync(join(dir, 'x'))).toBe(false);
      writeFileSync(join(dir, 'w.py'), `open(${JSON.stringify(outside)}, "w").write("x")\n`);
      const denied = await call('run_command', { argv: ['python3', 'w.py'] });
      expect(denied.structuredContent).toMatchObject({ outcome: 'ran', exitCode: 1 });
      expect(String(denied.structuredContent?.observedDenials)).toMatch(/read-only-filesystem/);
    } finally {
      await client.close();
    }
    expect(existsSync(outside)).toBe(false);
    expect(audit().some((e) => e.operation === 'file_write' && e.decision === 'denied')).toBe(true);
  });

  it('8 concurrent calls all run and are all audited', async () => {
    const { client, call } = await connect();
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => call('run_command', { argv: ['echo', `call-${i}`] })),
      );
      expect(results.map((r) => r.structuredContent?.stdout)).toEqual(
        Array.from({ length: 8 }, (_, i) => `call-${i}\n`),
      );
    } finally {
      await client.close();
    }
    const outcomes = audit().filter((e) => e.details?.stage === 'outcome');
    expect(outcomes.map((e) => e.target).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `echo call-${i}`),
    );
  });

  it('bad input gets a clear error and the server keeps serving: unknown tool, bad arguments, cwd outside, huge output', async () => {
    const { client, call } = await connect();
    try {
      const unknown = await call('no_such_tool', {});
      expect(unknown.isError).toBe(true);
      expect(unknown.content[0]?.text).toMatch(/not found/);
      const both = await call('run_command', { argv: ['ls'], script: 'ls' });
      expect(both.structuredContent).toMatchObject({ error: { code: 'BAD_ARGUMENTS' } });
      const badType = await call('run_command', { argv: 'ls' });
      expect(badType.isError).toBe(true);
      const outside = await call('run_command', { argv: ['ls'], cwd: '../..' });
      expect(outside.structuredContent).toMatchObject({ error: { code: 'CWD_OUTSIDE_WORKSPACE' } });
      // A symlink inside the workspace that points out of it is followed, and refused.
      symlinkSync(home, join(dir, 'escape'));
      const viaLink = await call('run_command', { argv: ['ls'], cwd: 'escape' });
      expect(viaLink.structuredContent).toMatchObject({ error: { code: 'CWD_OUTSIDE_WORKSPACE' } });
      const missing = await call('run_command', { argv: ['ls'], cwd: 'no/such/dir' });
      expect(missing.structuredContent).toMatchObject({ error: { code: 'CWD_NOT_FOUND' } });
      const huge = await call('run_command', {
        argv: ['head', '-c', '5000000', '/dev/zero'],
        max_output_bytes: 1000,
      });
      expect(huge.structuredContent).toMatchObject({ outcome: 'ran', exitCode: 0, stdoutTruncated: true });
      expect(String(huge.structuredContent?.stdout).length).toBe(1000);
      const still = await call('run_command', { argv: ['echo', 'alive'] });
      expect(still.structuredContent?.stdout).toBe('alive\n');
    } finally {
      await client.close();
    }
    expect(
      audit().some((e) => /^bad run_command call from vitest-client: .*outside the workspace/.test(e.reason)),
    ).toBe(true);
  });

  it('a client that disconnects mid-command: the command is killed, nothing is left running, the run is audited', async () => {
    const marker = `${40 + Math.floor(Math.random() * 1000)}.25`;
    const { client, transport, call } = await connect();
    const pending = call('run_command', { argv: ['sleep', marker] }).catch((e: unknown) => e);
    for (let i = 0; i < 200 && processesWith(`sleep\u0000${marker}`).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(processesWith(`sleep\u0000${marker}`).length).toBeGreaterThan(0);
    const server = (transport as unknown as { _process?: ChildProcess })._process;
    const exited = new Promise((r) => server?.once('exit', r));
    await client.close(); // ends the server's stdin, as a client that goes away does
    await exited;
    await pending;
    expect(processesWith(`sleep\u0000${marker}`)).toEqual([]);
    const outcome = audit().find((e) => e.details?.stage === 'outcome' && e.target === `sleep ${marker}`);
    expect(outcome?.reason).toMatch(/killed by SIGKILL/);
  }, 30_000);
});

describe('codex mcp serve: signals', () => {
  it('SIGTERM kills the running command, writes its outcome and exits (stdin still open)', async () => {
    const marker = `${40 + Math.floor(Math.random() * 1000)}.75`;
    const { transport, call } = await connect();
    const pending = call('run_command', { argv: ['sleep', marker] }).catch((e: unknown) => e);
    for (let i = 0; i < 200 && processesWith(`sleep\u0000${marker}`).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const server = (transport as unknown as { _process?: ChildProcess })._process!;
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    await pending;
    expect(processesWith(`sleep\u0000${marker}`)).toEqual([]);
    const outcome = audit().find((e) => e.details?.stage === 'outcome' && e.target === `sleep ${marker}`);
    expect(outcome?.reason).toMatch(/killed by SIGKILL/);
    await transport.close();
  }, 30_000);
});

describe('codex mcp serve over stdio, a client that stops reading', () => {
  it('once its answers cannot be written (stdout closed), the server exits instead of serving nobody', async () => {
    const server = spawn(process.execPath, [BIN, 'mcp', 'serve'], { cwd: dir, env: env(), stdio: 'pipe' });
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    let stderr = '';
    server.stderr!.on('data', (d) => {
      stderr += d;
    });
    server.stdout!.destroy(); // the client's read end, gone; stdin stays open
    server.stdin!.on('error', () => {}); // our writes after it exits fail with EPIPE here
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'gone', version: '1' } },
    };
    // Asked until it answers into the closed pipe (the first write may come before it reads).
    const ask = setInterval(() => server.stdin!.write(`${JSON.stringify(init)}\n`), 100);
    const guard = setTimeout(() => server.kill('SIGKILL'), 15_000);
    try {
      expect(await exited).toBe(0);
    } finally {
      clearInterval(ask);
      clearTimeout(guard);
    }
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
  }, 30_000);
});

describe('codex mcp serve --http (Streamable HTTP on loopback)', () => {
  it('serves the same tools to a real SDK client over HTTP; refuses a non-loopback host', async () => {
    const server = spawn(process.execPath, [BIN, 'mcp', 'serve', '--http', '--json'], {
      cwd: dir,
      env: env(),
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(JSON.parse(out).url);
        });
        server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = new Client({ name: 'http-client', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const r = (await client.callTool({
        name: 'run_command',
        arguments: { argv: ['echo', 'over-http'] },
      })) as Result;
      expect(r.structuredContent).toMatchObject({ outcome: 'ran', exitCode: 0, stdout: 'over-http\n' });
      await client.close();
      expect(audit().some((e) => e.details?.client === 'http-client')).toBe(true);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    const bad = spawn(process.execPath, [BIN, 'mcp', 'serve', '--http', '--host', '0.0.0.0'], {
      cwd: dir,
      env: env(),
    });
    let stderr = '';
    bad.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise((r) => bad.once('exit', r));
    expect(code).toBe(1);
    expect(stderr).toContain('loopback only');
  }, 30_000);
});
