import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readForwarder, relay } from '../src/relay.js';

// A relay between a client and a server, both on loopback: client ⇄ [relay] ⇄ server.
const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

async function listen(onConnection: (s: net.Socket) => void, allowHalfOpen = false): Promise<number> {
  // 256 KiB stream buffers, as the proxy and the bridge use: more can be queued for a slow reader.
  const server = net.createServer({ allowHalfOpen, highWaterMark: 256 * 1024 }, onConnection);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/**
 * A relay listening on a port, forwarding every connection to `target`. With `allowHalfOpen`
 * (everywhere) a side that ends its writing may still read the answer; without it, as in the
 * egress proxy, a socket closes as soon as its peer has ended.
 */
let forwarded = false;
async function relayTo(target: number, allowHalfOpen = false): Promise<number> {
  return listen((client) => {
    const options = { host: '127.0.0.1', port: target, allowHalfOpen, highWaterMark: 256 * 1024 };
    // The proxy's upstream sockets read through a forwarder (one reused buffer); the bridge's pipe.
    const reads = forwarded ? readForwarder(64 * 1024) : undefined;
    const upstream = net.connect(reads ? { ...options, onread: reads.onread } : options);
    // Joined late, as the proxy joins after its 200 answer: what the server said first is kept.
    const join = () => relay(client, upstream, { idleTimeoutMs: 10_000, ...(reads ? { reads } : {}) });
    if (reads) setTimeout(join, 30);
    else join();
  }, allowHalfOpen);
}

describe.each([
  ['pipe', false],
  ['readForwarder', true],
])('relay (server to client through %s)', (_name, forward) => {
  beforeAll(() => {
    forwarded = forward;
  });

  it('every byte arrives in order, through a client that reads slowly, and what a server says before the join', async () => {
    // 16 MiB of a counting pattern (any reordering or reuse of the read buffer shows), after a
    // greeting the server sends at once, before the relay has joined the two sides.
    const body = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);
    const port = await relayTo(await listen((s) => s.end(Buffer.concat([Buffer.from('hello\n'), body]))));
    const socket = net.connect({ host: '127.0.0.1', port });
    const got = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => {
        // Slower than the relay: the kernel's buffers fill and the relay's writes have to wait.
        chunks.push(c);
        socket.pause();
        setTimeout(() => socket.resume(), 2);
      });
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    expect(got.subarray(0, 6).toString()).toBe('hello\n');
    expect(got.length).toBe(body.length + 6);
    expect(got.subarray(6).equals(body)).toBe(true);
  });

  it('a side that closes after a clean end leaves the other to write out what is queued for it', async () => {
    // In memory, so the timing is the test's: a reader that takes 1 ms per chunk, and a source
    // that sends 64 KiB, ends, and closes at once (as a socket does without allowHalfOpen).
    const written: Buffer[] = [];
    const slow = new Duplex({
      highWaterMark: 1024,
      read() {},
      write(chunk: Buffer, _encoding, done) {
        setTimeout(() => {
          written.push(chunk);
          done();
        }, 1);
      },
    });
    const fast = new Duplex({ allowHalfOpen: false, read() {}, write: (_c, _e, done) => done() });
    relay(slow, fast);
    for (let i = 0; i < 64; i++) fast.push(Buffer.alloc(1024, i));
    fast.push(null);
    await new Promise((r) => slow.once('close', r));
    expect(Buffer.concat(written).length).toBe(64 * 1024);
    expect(fast.destroyed).toBe(true);
  });

  it('delivers everything a server sent before it closed, to a slow reader', async () => {
    const size = 24 * 1024 * 1024;
    const body = Buffer.alloc(size, 0x63);
    const port = await relayTo(await listen((s) => s.end(body)));
    const socket = net.connect({ host: '127.0.0.1', port });
    const n = await new Promise<number>((resolve, reject) => {
      let got = 0;
      socket.on('data', (c: Buffer) => {
        got += c.length;
        socket.pause();
        setTimeout(() => socket.resume(), 2);
      });
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
    expect(n).toBe(size);
  });

  it('half-close: a client that ends its request still gets the whole answer, then both close', async () => {
    let serverClosed!: () => void;
    const closed = new Promise<void>((r) => {
      serverClosed = r;
    });
    const port = await relayTo(
      await listen((s) => {
        let text = '';
        s.on('data', (c: Buffer) => {
          text += c.toString();
        });
        s.on('end', () => s.end(`echo:${text}`));
        s.on('close', () => serverClosed());
      }, true),
      true,
    );
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.end('hello');
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
      });
      socket.on('close', () => resolve(text));
    });
    expect(answer).toBe('echo:hello');
    await closed;
  });

  it('a reset on one side takes the other down at once', async () => {
    let upstream!: net.Socket;
    const port = await relayTo(
      await listen((s) => {
        upstream = s;
      }),
    );
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    const gone = new Promise<string>((resolve) => {
      socket.on('error', () => {});
      socket.on('close', () => resolve('closed'));
      setTimeout(() => resolve('still open after 3 s'), 3000);
    });
    upstream.resetAndDestroy();
    expect(await gone).toBe('closed');
  });
});
