// The far side of the throughput bench, in its own process (as the sandboxed client and a remote
// server would be): a loopback HTTP server with a 100 MB body, and a client that downloads it
// directly, through the proxy (plain HTTP), or through a CONNECT tunnel, on request over IPC;
// `direct-raw` is the tunnel's baseline (the same raw-socket client, straight to the server).
import http from 'node:http';
import net from 'node:net';

const SIZE = 100 * 1024 * 1024;
const chunk = Buffer.alloc(1024 * 1024, 0x61);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-length': SIZE });
  let sent = 0;
  const pump = () => {
    while (sent < SIZE) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

function get(options) {
  return new Promise((resolve, reject) => {
    http
      .get({ ...options, agent: false }, (res) => {
        let n = 0;
        res.on('data', (c) => {
          n += c.length;
        });
        res.on('end', () => resolve(n));
      })
      .on('error', reject);
  });
}
/**
 * A raw HTTP/1.1 GET of /big over a socket, counting the body bytes: over a CONNECT tunnel when
 * `proxyPort` is given, else straight to the server. The tunnel and its baseline use this same
 * client, so their ratio compares the paths, not two HTTP client implementations (node's
 * http.get, used for the plain-HTTP pair, costs more per byte than this).
 */
function rawGet(proxyPort) {
  return new Promise((resolve, reject) => {
    const request = () => s.write('GET /big HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n');
    const s = proxyPort
      ? net.connect(proxyPort, '127.0.0.1', () =>
          s.write(`CONNECT bench.test:${port} HTTP/1.1\r\nHost: bench.test\r\n\r\n`),
        )
      : net.connect(port, '127.0.0.1', request);
    // Headers to skip: the proxy's CONNECT answer (tunnel only), then the server's response head.
    let heads = proxyPort ? 2 : 1;
    let buf = Buffer.alloc(0);
    let n = 0;
    s.on('data', (c) => {
      while (heads > 0) {
        buf = Buffer.concat([buf, c]);
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        heads--;
        c = buf.subarray(i + 4);
        buf = Buffer.alloc(0);
        if (heads === 1) request();
      }
      n += c.length;
    });
    s.on('end', () => resolve(n - 0));
    s.on('error', reject);
  });
}

process.on('message', async ({ via, proxyPort }) => {
  const t = process.hrtime.bigint();
  const bytes =
    via === 'direct'
      ? await get({ host: '127.0.0.1', port, path: '/big' })
      : via === 'proxy'
        ? await get({ host: '127.0.0.1', port: proxyPort, path: `http://bench.test:${port}/big` })
        : via === 'direct-raw'
          ? await rawGet(null)
          : await rawGet(proxyPort);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  process.send({ bytes, mbps: SIZE / s / 1e6 });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port });
