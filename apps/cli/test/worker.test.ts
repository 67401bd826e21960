// codex worker + codex supervise --queue, end to end: a real redis-server on a free loopback port
// (no persistence), real worker processes running the standard agents (exec policy → sandbox →
// audit), real command trees killed on Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, codex } from './helpers.js';

// Not under /tmp: the sandbox gives commands a private, empty /tmp.
const WORK_PARENT = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (!REDIS && process.env.CI === 'true') throw new Error('CI=true requires redis-server');
const KEY = randomBytes(32).toString('hex');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

it('without redis-server the queue tests are skipped for that stated reason (CI=true requires it)', () => {
  const reason = REDIS === undefined ? 'redis-server is not installed' : undefined;
  expect(reason === undefined).toBe(
    existsSync('/usr/bin/redis-server') || existsSync('/usr/local/bin/redis-server'),
  );
});

describe('codex worker / supervise --queue: bad input', () => {
  it('a missing or bad --queue, a missing key, an unreachable Redis: one line, non-zero exit', async () => {
    const home = mkdtempSync(join(tmpdir(), 'codex-home-'));
    try {
      expect(codex(['worker'], { home })).toMatchObject({
        status: 2,
        stderr: 'codex: error: missing --queue redis://HOST:PORT/DB for "codex worker"\n',
      });
      const bad = codex(['worker', '--queue', 'http://127.0.0.1:1'], { home, env: { CODEX_QUEUE_KEY: KEY } });
      expect(bad).toMatchObject({
        status: 1,
        stderr: 'codex: error: queue URL "http://127.0.0.1:1": scheme "http" is not redis or rediss\n',
      });
      const nokey = codex(['worker', '--queue', 'redis://127.0.0.1:1/0'], { home });
      expect(nokey.status).toBe(1);
      expect(nokey.stderr).toMatch(/^codex: error: no job-signing key: set CODEX_QUEUE_KEY[^\n]*\n$/);
      const port = await freePort();
      const plan = join(home, 'p.yaml');
      writeFileSync(plan, 'tasks: [{ id: a, agent: command, input: { argv: [true] } }]\n');
      const down = codex(['supervise', plan, '--queue', `redis://127.0.0.1:${port}/0`], {
        home,
        env: { CODEX_QUEUE_KEY: KEY },
      });
      expect(down).toMatchObject({
        status: 1,
        stderr: `codex: error: cannot reach Redis at redis://127.0.0.1:${port}/0 (ECONNREFUSED)\n`,
      });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe.skipIf(REDIS === undefined)('codex supervise --queue with two codex workers', () => {
  let redis: ChildProcess;
  let url: string;
  let home: string;
  let work: string;
  const workers: ChildProcess[] = [];
  const env = () => ({
    CODEX_QUEUE_KEY: KEY,
    CODEX_HOME: home,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
  });

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'codex-home-'));
    work = mkdtempSync(join(WORK_PARENT, 'codex-queue-'));
    const port = await freePort();
    url = `redis://127.0.0.1:${port}/0`;
    redis = spawn(
      REDIS as string,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise<void>((resolve) => {
      let out = '';
      redis.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
    });
    for (let i = 0; i < 2; i++) {
      const w = spawn(
        process.execPath,
        [BIN, 'worker', '--queue', url, '--concurrency', '2', '--profile', 'workspace-write', '--json'],
        {
          cwd: work,
          env: env(),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        let out = '';
        w.stdout?.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('"ready"')) resolve();
        });
        w.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
      });
    }
  }, 30_000);

  afterAll(async () => {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))),
    );
    redis.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('runs the plan on the workers through their own guard; --json says where each task ran', () => {
    writeFileSync(
      join(work, 'p.yaml'),
      `failure: skip-dependents
tasks:
  - { id: hello, agent: command, input: { argv: [echo, hello] } }
  - { id: net, agent: command, input: { argv: [curl, "http://127.0.0.1:9/"] } }
  - { id: after, agent: command, input: { argv: [echo, after] }, dependsOn: [hello] }
  - { id: steal, agent: command, input: { argv: [printenv, CODEX_QUEUE_KEY] } }
merge: { strategy: concatenate, tasks: [hello, after], separator: "" }
`,
    );
    const r = codex(['supervise', 'p.yaml', '--queue', url, '--profile', 'workspace-write', '--json'], {
      home,
      cwd: work,
      env: { CODEX_QUEUE_KEY: KEY },
    });
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.engine).toBe('bullmq');
    expect(out.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['hello', 'succeeded'],
      ['net', 'denied'],
      ['after', 'succeeded'],
      ['steal', 'failed'],
    ]);
    // the worker's signing key is not in the environment of the commands it runs
    expect(out.tasks[3].error.code).toBe('COMMAND_FAILED');
    expect(r.stdout).not.toContain(KEY);
    for (const t of out.tasks) {
      expect(t.worker.workerId).toMatch(/-\d+$/);
      expect(t.worker.host).toBeTruthy();
      expect(t.attempts).toBe(1);
    }
    expect(out.merged.output).toBe('hello\nafter\n');
    // the workers audited into their own log (their CODEX_HOME), with their id and host
    const dir = join(home, 'audit');
    const lines = readdirSync(dir)
      .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const net = lines.find((l) => l.task_id === 'net' && l.operation === 'command_exec');
    expect(net).toMatchObject({
      decision: 'requires_approval',
      profile: 'workspace-write',
      details: { worker_id: out.tasks[1].worker.workerId, host: out.tasks[1].worker.host },
    });
    const hello = lines.find((l) => l.task_id === 'hello' && l.operation === 'command_exec');
    expect(hello).toMatchObject({
      decision: 'allowed',
      details: { worker_id: out.tasks[0].worker.workerId },
    });
  });

  it('Ctrl-C on the coordinator kills the running command trees on every worker within 1 s (exit 130)', async () => {
    writeFileSync(
      join(work, 'long.yaml'),
      `tasks:\n${[1, 2, 3, 4].map((i) => `  - { id: s${i}, agent: command, input: { argv: [sleep, "37.${i}"] } }`).join('\n')}\n`,
    );
    const sleeps = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
            const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
            return /^sleep\x0037\.[1-4]\x00$/.test(cmd) && !/\) [ZX] /.test(stat);
          } catch {
            return false;
          }
        });
    const coordinator = spawn(
      process.execPath,
      [BIN, 'supervise', 'long.yaml', '--queue', url, '--profile', 'workspace-write', '--json'],
      {
        cwd: work,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    coordinator.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    const exited = new Promise<number | null>((r) => coordinator.once('exit', (code) => r(code)));
    const deadline = Date.now() + 20_000;
    while (sleeps().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sleeps(), 'four sleeps running on the workers').toHaveLength(4);
    const t0 = Date.now();
    coordinator.kill('SIGINT');
    while (sleeps().length > 0 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 10));
    expect(sleeps(), `sleeps left ${Date.now() - t0} ms after SIGINT`).toEqual([]);
    expect(await exited).toBe(130);
    const out = JSON.parse(stdout);
    expect(out.status).toBe('cancelled');
    expect(new Set(out.tasks.map((t: { status: string }) => t.status))).toEqual(new Set(['cancelled']));
    expect(new Set(out.tasks.map((t: { worker: { workerId: string } }) => t.worker.workerId)).size).toBe(2);
  }, 40_000);
});
