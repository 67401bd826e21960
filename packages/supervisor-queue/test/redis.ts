// Test harness: a real redis-server on a free loopback port, no persistence; worker processes.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function findRedisServer(): string | undefined {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Why the Redis suites are skipped here, or undefined when they run. Under CI=true a missing server is an error. */
export function redisSkipReason(): string | undefined {
  if (findRedisServer()) return undefined;
  if (process.env.CI === 'true') throw new Error('CI=true requires redis-server on PATH');
  return 'redis-server is not installed';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  #child: ChildProcess | undefined;
  readonly port: number;

  private constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.#spawn();
    return server;
  }

  async #spawn(): Promise<void> {
    const bin = findRedisServer() as string;
    const child = spawn(
      bin,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      child.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited ${code}: ${out}`));
      });
    });
  }

  /** Kills the server (SIGKILL: nothing is saved) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

export const TEST_KEY = randomBytes(32).toString('hex');

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly id: string;
  output = '';
  readonly ready: Promise<void>;

  constructor(
    url: string,
    id: string,
    opts: {
      concurrency?: number;
      ceiling?: string;
      lockMs?: number;
      queueName?: string;
      auditFile?: string;
      key?: string;
    } = {},
  ) {
    this.id = id;
    this.child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'fixtures', 'worker.mjs'),
        url,
        id,
        String(opts.concurrency ?? 1),
        opts.ceiling ?? 'workspace-net',
      ],
      {
        env: {
          ...process.env,
          CODEX_QUEUE_KEY: opts.key ?? TEST_KEY,
          ...(opts.lockMs ? { LOCK_MS: String(opts.lockMs) } : {}),
          ...(opts.queueName ? { QUEUE_NAME: opts.queueName } : {}),
          ...(opts.auditFile ? { AUDIT_FILE: opts.auditFile } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stderr?.on('data', (b: Buffer) => {
      this.output += b.toString();
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.stdout?.on('data', (b: Buffer) => {
        this.output += b.toString();
        if (this.output.includes(`ready ${id}`)) resolve();
      });
      this.child.once('exit', (code) => reject(new Error(`worker ${id} exited ${code}: ${this.output}`)));
    });
    this.ready.catch(() => {});
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

export async function startWorkers(
  url: string,
  n: number,
  opts: ConstructorParameters<typeof WorkerProcess>[2] = {},
  prefix = 'w',
): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: n }, (_, i) => new WorkerProcess(url, `${prefix}${i + 1}`, opts));
  await Promise.all(workers.map((w) => w.ready));
  return workers;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function until(predicate: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Live (non-zombie) members of a process group, from /proc. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
