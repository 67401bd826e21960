// The proxy as its own process over stdio, for the benchmark: the library with an audit sink that
// resolves at once, so the figure is the proxy's own cost (the CLI task adds the real AuditLogger).
import { ChildProcessTransport, McpPermissionProxy, StreamTransport } from '../dist/index.js';

const [command, ...args] = process.argv.slice(2);
const proxy = new McpPermissionProxy({
  server: 'bench',
  profile: process.env.BENCH_PROFILE ?? 'offline',
  audit: { log: async () => undefined },
  upstream: new ChildProcessTransport({ command, args, stderr: 'ignore' }),
  downstream: new StreamTransport(process.stdin, process.stdout),
  log: (m) => process.stderr.write(`${m}\n`),
});
await proxy.start();
await proxy.closed;
