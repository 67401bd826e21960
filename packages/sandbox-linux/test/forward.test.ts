// The helper's egress forwarder (`--forward`) on its own, on loopback: a proxy side that writes
// small chunks to a client that reads nothing must leave the forwarder idle, not spinning.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { findHelper } from '../src/probe.js';

const helper = process.platform === 'linux' ? findHelper() : null;
const dir = mkdtempSync(join(tmpdir(), 'codex-forward-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** CPU seconds (user + system) of a process so far. */
function cpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!helper)('helper --forward', () => {
  it('refuses a spec that is not the loopback address, a port and an absolute socket path: one line, exit 121, nothing run', () => {
    const marker = join(dir, 'ran');
    for (const spec of [
      '10.0.0.1:3128=/x.sock',
      '0.0.0.0:3128=/x.sock',
      '[::]:3128=/x.sock',
      '127.0.0.1:0=/x.sock',
      '127.0.0.1:70000=/x.sock',
      '127.0.0.1:3128=relative.sock',
      '127.0.0.1:3128',
      `127.0.0.1:3128=/${'x'.repeat(200)}`,
    ]) {
      const r = spawnSync(helper!, ['--forward', spec, '--', 'touch', marker], { encoding: 'utf8' });
      expect(r.status, spec).toBe(121);
      expect(r.stderr, spec).toBe(
        `codex-sandbox-helper: --forward wants 127.0.0.1:PORT=/socket or [::1]:PORT=/socket, got ${spec}\n`,
      );
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('stays idle when the pipe is full of small chunks and the client reads nothing (no busy poll)', async () => {
    const sock = join(dir, 'up.sock');
    let sent = 0;
    const proxy = net.createServer((c) => {
      const chunk = Buffer.alloc(16, 0x78);
      const pump = () => {
        // 16-byte writes, each its own pipe slot in the forwarder: the pipe fills by slots.
        while (c.write(chunk)) sent += chunk.length;
        sent += chunk.length;
        c.once('drain', pump);
      };
      c.on('error', () => {});
      pump();
    });
    await new Promise<void>((r) => proxy.listen(sock, r));
    const port = await freePort();
    const child = spawn(helper!, ['--forward', `127.0.0.1:${port}=${sock}`, '--', 'sleep', '30'], {
      stdio: 'ignore',
    });
    try {
      await sleep(300);
      const client = net.connect(port, '127.0.0.1');
      client.pause(); // reads nothing
      // Wait until nothing moves any more (every buffer on the way is full).
      for (let last = -1; sent !== last; ) {
        last = sent;
        await sleep(400);
      }
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
      const forwarder = Number(kids[0]);
      const before = cpu(forwarder);
      await sleep(1500);
      expect(cpu(forwarder) - before).toBeLessThan(0.2);
      client.destroy();
    } finally {
      child.kill('SIGKILL');
      proxy.close();
    }
  }, 30_000);
  it('out of descriptors: stops accepting without spinning, and serves again once connections close', async () => {
    const sock = join(dir, 'echo.sock');
    const proxy = net.createServer((c) => {
      c.on('error', () => {});
      c.pipe(c);
    });
    await new Promise<void>((r) => proxy.listen(sock, r));
    const port = await freePort();
    // 20 descriptors: after the listener and stdio, room for about two forwarded connections
    // (each is a client, an upstream socket and two pipes: six descriptors).
    const child = spawn(
      'sh',
      [
        '-c',
        `ulimit -n 20 && exec "$0" "$@"`,
        helper!,
        '--forward',
        `127.0.0.1:${port}=${sock}`,
        '--',
        'sleep',
        '30',
      ],
      {
        stdio: 'ignore',
      },
    );
    /** One round trip on a new connection: 'echo', 'closed', or 'waiting' after `ms`. */
    const exchange = (c: net.Socket, text: string, ms: number) =>
      new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('waiting'), ms);
        c.once('data', (d: Buffer) => {
          clearTimeout(timer);
          resolve(d.toString() === text ? 'echo' : `wrong: ${d}`);
        });
        c.once('close', () => {
          clearTimeout(timer);
          resolve('closed');
        });
        c.write(text);
      });
    const clients: net.Socket[] = [];
    try {
      await sleep(300);
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
      const forwarder = Number(kids[0]);
      for (let i = 0; i < 8; i++) {
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => {});
        clients.push(c);
      }
      const first = await Promise.all(clients.map((c, i) => exchange(c, `ping ${i}`, 1000)));
      // As many as there are descriptors for are served; the rest wait in the backlog (none is
      // accepted and then closed for want of a descriptor, none answered wrongly).
      expect(first.filter((r) => r === 'echo').length).toBeGreaterThan(0);
      expect(first.filter((r) => r === 'waiting').length).toBeGreaterThan(0);
      expect(first.every((r) => r === 'echo' || r === 'waiting')).toBe(true);
      const before = cpu(forwarder);
      await sleep(1000);
      expect(cpu(forwarder) - before).toBeLessThan(0.2);
      // Close the served ones: the waiting ones are then served, in turn, as descriptors free up.
      const waiting = clients.filter((_c, i) => first[i] === 'waiting');
      for (const [i, c] of clients.entries()) if (first[i] !== 'waiting') c.destroy();
      for (const c of waiting) {
        const got = await new Promise<string>((resolve) => {
          c.once('data', (d: Buffer) => resolve(d.toString()));
          c.once('close', () => resolve('closed'));
        });
        expect(got).toMatch(/^ping \d$/);
        c.destroy();
      }
      const late = net.connect(port, '127.0.0.1');
      late.on('error', () => {});
      clients.push(late);
      expect(await exchange(late, 'after', 3000)).toBe('echo');
    } finally {
      for (const c of clients) c.destroy();
      child.kill('SIGKILL');
      proxy.close();
    }
  }, 30_000);
});

describe.skipIf(!helper)('helper --gate and descriptor arguments', () => {
  it('--gate and --cgroup-fd take a descriptor number above 2: anything else is one line, exit 121, nothing run', () => {
    const marker = join(dir, 'ran-fd');
    for (const flag of ['--gate', '--cgroup-fd']) {
      for (const value of ['2', '1024', 'x', '3x', '']) {
        const r = spawnSync(helper!, [flag, value, '--', 'touch', marker], { encoding: 'utf8' });
        expect(r.status, `${flag} ${value}`).toBe(121);
        expect(r.stderr).toBe(`codex-sandbox-helper: ${flag} needs a descriptor number above 2\n`);
      }
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('runs the command on "g" from the gate, and exits 122 without running it on anything else', () => {
    const marker = join(dir, 'ran-gate');
    // The gate is the read end of a pipe that carries `input`, then end of file.
    const run = (input: string) =>
      spawnSync('sh', ['-c', 'printf %s "$1" | "$0" --gate 3 -- touch "$2" 3<&0', helper!, input, marker], {
        encoding: 'utf8',
        timeout: 10_000,
      });
    expect(run('').status).toBe(122);
    expect(run('x').status).toBe(122);
    expect(existsSync(marker)).toBe(false);
    expect(run('g').status).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});
