/**
 * The in-sandbox half of the egress bridge. It runs inside the sandbox's own, empty network
 * namespace (only `lo`), listens on loopback ports there, and forwards every connection to the
 * proxy's Unix socket, which is the one thing bind-mounted in from outside. Then it runs the
 * command as its child and exits with the child's status.
 *
 *   node egress-bridge-main.js --listen 127.0.0.1:3128=/dir/http.sock [--listen …] -- cmd args…
 *
 * Setup failures print `codex-egress-bridge: …` and exit 121 before the command ever runs.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { readForwarder, relay } from '@codex/egress/relay';

const SETUP_EXIT = 121;

function fail(message: string): never {
  process.stderr.write(`codex-egress-bridge: ${message}\n`);
  process.exit(SETUP_EXIT);
}

function parseArgs(argv: readonly string[]): {
  listens: { host: string; port: number; path: string }[];
  command: string[];
} {
  const listens: { host: string; port: number; path: string }[] = [];
  let i = 0;
  for (; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] !== '--listen') fail(`unknown argument ${argv[i]}`);
    const m = /^(127\.0\.0\.1|\[::1\]):(\d{1,5})=(\/.+)$/.exec(argv[++i] ?? '');
    if (!m) fail(`--listen wants 127.0.0.1:PORT=/path/to.sock, got ${argv[i]}`);
    listens.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), path: m[3]! });
  }
  const command = argv.slice(i + 1);
  if (command.length === 0) fail('no command after --');
  return { listens, command };
}

function listen(spec: { host: string; port: number; path: string }): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    // 256 KiB stream buffers: Node's 16 KiB default is smaller than one socket read, and a
    // bulk download would pause and resume the reader on every read (see @codex/egress).
    const server = net.createServer({ highWaterMark: 256 * 1024 }, (client) => {
      // Downloads come back through one reused read buffer (see @codex/egress/relay).
      const reads = readForwarder();
      const options: net.IpcNetConnectOpts & { highWaterMark: number } = {
        path: spec.path,
        highWaterMark: 256 * 1024, // honoured by net.connect though @types/node omits it
        onread: reads.onread,
      };
      const upstream = net.connect(options);
      client.setNoDelay(true);
      // Ends as the proxy's own tunnels do: the last bytes of a download reach a slow reader.
      relay(client, upstream, { reads });
    });
    server.once('error', reject);
    server.listen({ host: spec.host, port: spec.port, exclusive: true }, () => resolve(server));
  });
}

async function main(): Promise<void> {
  const { listens, command } = parseArgs(process.argv.slice(2));
  const servers: net.Server[] = [];
  for (const spec of listens) {
    try {
      const s = await listen(spec);
      s.unref();
      servers.push(s);
    } catch (e) {
      fail(`cannot listen on ${spec.host}:${spec.port}: ${(e as Error).message}`);
    }
  }
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  child.on('error', (e) => {
    process.stderr.write(`codex-egress-bridge: cannot run ${command[0]}: ${e.message}\n`);
    process.exit(127);
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => child.kill(sig));
  }
  child.on('exit', (code, signal) => {
    for (const s of servers) s.close();
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

void main();
