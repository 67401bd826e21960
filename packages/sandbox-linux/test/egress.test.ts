import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger } from '@codex/audit';
import { createEgressSession, egressSessionFor } from '@codex/egress';
import { UnsupportedPolicyError } from '@codex/sandbox-contract';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';
import { EGRESS_HTTP_PORT } from '../src/egress-bridge.js';
import type { EgressSandboxRequest } from '../src/index.js';

// Host-side test servers on loopback. From inside the sandbox the only way to them is the proxy,
// and the proxy only lets `registry.test` (→ 127.0.0.2, the one exempted address) through.
const sandbox = createLinuxSandbox();
const status = await sandbox.probe();
const hasNetns = status.rungs.find((r) => r.id === 'full')?.available === true;
const CI = process.env.CI === 'true';

let work: string;
let web: http.Server;
let webPort: number;
let web6: http.Server;
let web6Port: number;
const webHits: string[] = [];
const tcpHits: string[] = [];
let tcp: net.Server;
let tcpPort: number;
let udp4: dgram.Socket;
let udp6: dgram.Socket;
let udpPort4: number;
let udpPort6: number;
const udpHits: string[] = [];

function listenHttp(host: string): Promise<[http.Server, number]> {
  const s = http.createServer((req, res) => {
    webHits.push(`${req.method} ${req.headers.host} ${req.url}`);
    res.end(`hello ${req.method} ${req.url}`);
  });
  return new Promise((r) => s.listen(0, host, () => r([s, (s.address() as net.AddressInfo).port])));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'egress-sbx-'));
  [web, webPort] = await listenHttp('127.0.0.2');
  [web6, web6Port] = await listenHttp('::1');
  tcp = net.createServer((s) => {
    tcpHits.push(String(s.remoteAddress));
    s.destroy();
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.2', r));
  tcpPort = (tcp.address() as net.AddressInfo).port;
  udp4 = dgram.createSocket('udp4').on('message', (m, from) => udpHits.push(`${from.address} ${m.length}`));
  udp6 = dgram.createSocket('udp6').on('message', (m, from) => udpHits.push(`${from.address} ${m.length}`));
  await new Promise<void>((r) => udp4.bind(0, '127.0.0.2', r));
  await new Promise<void>((r) => udp6.bind(0, '::1', r));
  udpPort4 = udp4.address().port;
  udpPort6 = udp6.address().port;
});
afterAll(async () => {
  web.closeAllConnections();
  web6.closeAllConnections();
  await Promise.all([
    new Promise((r) => web.close(r)),
    new Promise((r) => web6.close(r)),
    new Promise((r) => tcp.close(r)),
  ]);
  udp4.close();
  udp6.close();
  rmSync(work, { recursive: true, force: true });
});

const policy = () =>
  toSandboxPolicy('workspace-net', {
    workspaceRoots: [work],
    egress: {
      allow: ['registry.test', '*.allowed.test'],
      deny: ['bad.allowed.test'],
      allowAddresses: ['127.0.0.2/32'],
    },
  });
const hosts = {
  'registry.test': '127.0.0.2',
  'bad.allowed.test': '127.0.0.2',
  'loop.allowed.test': '127.0.0.3',
};

describe.runIf(hasNetns || CI)('proxied network on Linux: own netns, Unix-socket bridge to the proxy', () => {
  it('a proxy-aware client reaches an allowed host by name (HTTP, CONNECT and SOCKS5)', async () => {
    const egress = egressSessionFor(policy(), { hosts });
    const req: EgressSandboxRequest = {
      policy: policy(),
      cwd: work,
      egress,
      command: [
        'sh',
        '-c',
        `curl -sS http://registry.test:${webPort}/plain; echo; ` +
          `curl -sS -p http://registry.test:${webPort}/tunnel; echo; ` +
          `curl -sS -x "$ALL_PROXY" http://registry.test:${webPort}/socks; echo; ` +
          `node -e 'const u=new URL(process.env.HTTP_PROXY);require("http").get({host:u.hostname,port:u.port,path:"http://registry.test:${webPort}/node"},r=>r.pipe(process.stdout))'`,
      ],
    };
    const r = await sandbox.run(req);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'hello GET /plain',
      'hello GET /tunnel',
      'hello GET /socks',
      'hello GET /node',
    ]);
    expect(egress.decisions().map((d) => [d.protocol, d.decision, d.rule])).toEqual([
      ['http', 'allowed', 'allow:registry.test'],
      ['connect', 'allowed', 'allow:registry.test'],
      ['socks5', 'allowed', 'allow:registry.test'],
      ['http', 'allowed', 'allow:registry.test'],
    ]);
    expect(r.assessment.mechanisms).toContain('bwrap');
  });

  it('the in-sandbox forwarder carries bulk data intact both ways: 12 tunnels at once, one read slowly, and an upload', async () => {
    const SIZE = 4 * 1024 * 1024;
    const pattern = Buffer.alloc(SIZE);
    for (let i = 0; i < SIZE; i += 4) pattern.writeUInt32LE(i, i);
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
    // A download server (sends the pattern after the first byte) and an upload server (answers
    // with what it received once it has the whole pattern).
    const big = net.createServer((c) => c.once('data', () => c.end(pattern)));
    const sum = net.createServer((c) => {
      const chunks: Buffer[] = [];
      let n = 0;
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        n += d.length;
        if (n === SIZE) c.end(`${n}:${digest(Buffer.concat(chunks))}`);
      });
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.2', r));
    await new Promise<void>((r) => sum.listen(0, '127.0.0.2', r));
    const bigPort = (big.address() as net.AddressInfo).port;
    const sumPort = (sum.address() as net.AddressInfo).port;
    const script = `
const net = require('net'), crypto = require('crypto');
const SIZE = ${SIZE};
const tunnel = (port) => new Promise((resolve, reject) => {
  const s = net.connect(${EGRESS_HTTP_PORT}, '127.0.0.1', () => s.write('CONNECT registry.test:' + port + ' HTTP/1.1\\r\\nHost: registry.test\\r\\n\\r\\n'));
  let head = Buffer.alloc(0);
  const onData = (c) => {
    head = Buffer.concat([head, c]);
    const i = head.indexOf('\\r\\n\\r\\n');
    if (i < 0) return;
    s.off('data', onData);
    if (!head.toString('latin1', 0, 12).startsWith('HTTP/1.1 200')) return reject(new Error(head.toString()));
    resolve({ s, rest: head.subarray(i + 4) });
  };
  s.on('data', onData);
  s.on('error', reject);
});
const download = async (slow) => {
  const { s, rest } = await tunnel(${bigPort});
  s.write('GET');
  const h = crypto.createHash('sha256');
  let n = rest.length;
  h.update(rest);
  return new Promise((resolve, reject) => {
    s.on('data', (c) => { h.update(c); n += c.length; if (slow) { s.pause(); setTimeout(() => s.resume(), 1); } });
    s.on('end', () => resolve(n + ':' + h.digest('hex').slice(0, 16)));
    s.on('error', reject);
  });
};
const upload = async () => {
  const { s } = await tunnel(${sumPort});
  const data = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i += 4) data.writeUInt32LE(i, i);
  s.write(data);
  let out = '';
  return new Promise((resolve, reject) => {
    s.on('data', (c) => { out += c; });
    s.on('end', () => { s.end(); resolve(out); });
    s.on('error', reject);
  });
};
Promise.all([...Array(12)].map((_, i) => download(i === 0)).concat([upload()])).then(
  (r) => console.log(JSON.stringify(r)),
  (e) => { console.error(String(e)); process.exit(1); },
);`;
    try {
      const egress = egressSessionFor(policy(), { hosts });
      const req: EgressSandboxRequest = {
        policy: policy(),
        cwd: work,
        egress,
        command: ['node', '-e', script],
      };
      const r = await sandbox.run(req);
      expect(r.stderr).toBe('');
      const want = `${SIZE}:${digest(pattern)}`;
      expect(JSON.parse(r.stdout)).toEqual(Array(13).fill(want));
    } finally {
      big.close();
      sum.close();
    }
  });

  it('sets the proxy variables for common clients', async () => {
    const r = await sandbox.run({
      policy: policy(),
      cwd: work,
      egress: egressSessionFor(policy(), { hosts }),
      command: [
        'sh',
        '-c',
        'env | grep -iE "^(https?_proxy|all_proxy|no_proxy|npm_config_(https_)?proxy|pip_proxy|cargo_http_proxy|git_config_value_0)=" | sort',
      ],
    } as EgressSandboxRequest);
    const h = `http://127.0.0.1:${EGRESS_HTTP_PORT}`;
    expect(r.stdout).toContain(`HTTP_PROXY=${h}\n`);
    expect(r.stdout).toContain(`https_proxy=${h}\n`);
    expect(r.stdout).toContain('ALL_PROXY=socks5h://127.0.0.1:1080\n');
    expect(r.stdout).toContain('NO_PROXY=localhost,127.0.0.1,::1\n');
    expect(r.stdout).toContain(`npm_config_https_proxy=${h}\n`);
    expect(r.stdout).toContain(`PIP_PROXY=${h}\n`);
    expect(r.stdout).toContain(`CARGO_HTTP_PROXY=${h}\n`);
    expect(r.stdout).toContain(`GIT_CONFIG_VALUE_0=${h}\n`);
  });

  it('refused hosts are refused inside the sandbox too, listed for the summary, and audited with the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-audit-'));
    const audit = new AuditLogger({ path: join(dir, 'a.jsonl'), durability: 'none', flushIntervalMs: 1 });
    const egress = egressSessionFor(policy(), { hosts, audit });
    const r = await sandbox.run({
      policy: policy(),
      cwd: work,
      egress,
      command: [
        'sh',
        '-c',
        `curl -sS -o /dev/null -w '%{http_code}\\n' http://unlisted.test:${webPort}/; ` +
          `curl -sS -o /dev/null -w '%{http_code}\\n' http://bad.allowed.test:${webPort}/; ` +
          `curl -sS -o /dev/null -w '%{http_code}\\n' http://loop.allowed.test:${webPort}/`,
      ],
    } as EgressSandboxRequest);
    expect(r.stdout).toBe('403\n403\n403\n');
    expect(egress.refused().map((x) => [x.host, x.rule, x.grantable])).toEqual([
      ['bad.allowed.test', 'deny:bad.allowed.test', false],
      ['loop.allowed.test', 'private-address', false],
      ['unlisted.test', 'not-allowed', true],
    ]);
    await audit.close();
    const lines = readFileSync(join(dir, 'a.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    rmSync(dir, { recursive: true, force: true });
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(l).toMatchObject({ operation: 'network_access', decision: 'denied', profile: 'workspace-net' });
      expect(l.details.command).toMatch(/^sh -c curl/);
    }
  });

  it('grantOnce allows a host for the next command only', async () => {
    const egress = egressSessionFor(policy(), { hosts: { ...hosts, 'unlisted.test': '127.0.0.2' } });
    const cmd = ['sh', '-c', `curl -sS -o /dev/null -w '%{http_code}' http://unlisted.test:${webPort}/g`];
    const run = () =>
      sandbox.run({ policy: policy(), cwd: work, egress, command: cmd } as EgressSandboxRequest);
    expect((await run()).stdout).toBe('403');
    egress.grantOnce('unlisted.test');
    expect((await run()).stdout).toBe('200');
    expect((await run()).stdout).toBe('403');
    expect(egress.refusedInSession()[0]).toMatchObject({ host: 'unlisted.test', count: 2 });
  });

  it('a client that ignores the proxy variables has no network at all (TCP, UDP, DNS, QUIC-style UDP, IPv6)', async () => {
    const before = { web: webHits.length, tcp: tcpHits.length, udp: udpHits.length };
    const script = `
      const net = require('net'), dgram = require('dgram'), dns = require('dns'), os = require('os'), fs = require('fs');
      const out = {};
      const tcp = (host, port) => new Promise((res) => {
        const s = net.connect({ host, port }); s.setTimeout(1500);
        s.on('connect', () => { s.destroy(); res('connected'); });
        s.on('error', (e) => res(e.code)); s.on('timeout', () => { s.destroy(); res('timeout'); });
      });
      const udp = (type, host, port, buf) => new Promise((res) => {
        const s = dgram.createSocket(type);
        s.send(buf, port, host, (e) => { s.close(); res(e ? e.code : 'sent'); });
      });
      (async () => {
        out.tcp4 = await tcp('127.0.0.2', ${tcpPort});
        out.http4 = await tcp('127.0.0.2', ${webPort});
        out.tcp6 = await tcp('::1', ${web6Port});
        out.udp4 = await udp('udp4', '127.0.0.2', ${udpPort4}, Buffer.from('x'));
        out.udp6 = await udp('udp6', '::1', ${udpPort6}, Buffer.from('x'));
        // QUIC-style: a 1200-byte long-header Initial datagram.
        const quic = Buffer.alloc(1200); quic[0] = 0xc3; quic.writeUInt32BE(1, 1);
        out.quic = await udp('udp4', '127.0.0.2', ${udpPort4}, quic);
        const r = new dns.promises.Resolver({ timeout: 500, tries: 1 });
        r.setServers(['127.0.0.2:${udpPort4}']);
        out.dns = await r.resolve4('registry.test').then(() => 'resolved', (e) => e.code);
        out.lookup = await dns.promises.lookup('registry.test').then(() => 'resolved', (e) => e.code);
        out.interfaces = Object.keys(os.networkInterfaces()).sort();
        out.routes4 = fs.readFileSync('/proc/net/route', 'utf8').trim().split('\\n').length - 1;
        out.routes6 = fs.readFileSync('/proc/net/ipv6_route', 'utf8').trim().split('\\n').filter((l) => !/ lo$/.test(l.trim())).length;
        console.log(JSON.stringify(out));
      })();`;
    const r = await sandbox.run({
      policy: policy(),
      cwd: work,
      egress: egressSessionFor(policy(), { hosts }),
      command: ['node', '-e', script],
    } as EgressSandboxRequest);
    const out = JSON.parse(r.stdout);
    // 127.0.0.2 and ::1 inside the sandbox are the sandbox's own loopback: nothing listens there.
    expect(out.tcp4).toBe('ECONNREFUSED');
    expect(out.http4).toBe('ECONNREFUSED');
    expect(out.tcp6).toBe('ECONNREFUSED');
    expect(out.dns).toMatch(/^(ECONNREFUSED|ETIMEOUT)$/);
    expect(out.lookup).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    expect(out.interfaces).toEqual(['lo']);
    expect(out.routes4).toBe(0);
    expect(out.routes6).toBe(0);
    // Datagrams may be "sent" into the sandbox's own loopback; none reaches the host.
    await new Promise((res) => setTimeout(res, 200));
    expect(webHits.length).toBe(before.web);
    expect(tcpHits.length).toBe(before.tcp);
    expect(udpHits.length).toBe(before.udp);
  });

  it('ignoring the variables with curl --noproxy fails too', async () => {
    const before = webHits.length;
    const r = await sandbox.run({
      policy: policy(),
      cwd: work,
      egress: egressSessionFor(policy(), { hosts }),
      command: ['sh', '-c', `curl -sS -m 3 --noproxy '*' http://127.0.0.2:${webPort}/; echo "rc=$?"`],
    } as EgressSandboxRequest);
    expect(r.stdout).toContain('rc=7');
    expect(webHits.length).toBe(before);
  });

  it('net-read-only limits plain-HTTP methods inside the sandbox', async () => {
    const p = toSandboxPolicy('net-read-only', {
      egress: { allow: ['registry.test'], allowAddresses: ['127.0.0.2/32'] },
    });
    const egress = egressSessionFor(p, { hosts });
    const r = await sandbox.run({
      policy: p,
      cwd: work,
      egress,
      command: [
        'sh',
        '-c',
        `curl -sS -o /dev/null -w '%{http_code} ' http://registry.test:${webPort}/r; ` +
          `curl -sS -o /dev/null -w '%{http_code} ' -X POST -d secret=1 http://registry.test:${webPort}/w; ` +
          `curl -sS -o /dev/null -w '%{http_code}' -p -X POST -d secret=1 http://registry.test:${webPort}/t`,
      ],
    } as EgressSandboxRequest);
    // GET passes, POST is refused, and plain HTTP smuggled through a CONNECT tunnel is cut (000).
    expect(r.stdout).toBe('200 405 000');
    expect(egress.decisions().map((d) => d.rule)).toEqual([
      'allow:registry.test',
      'method',
      'allow:registry.test',
      'tunnel-not-tls',
    ]);
  });

  it('a session without a hosts map and with nothing allowed lets nothing out', async () => {
    const p = toSandboxPolicy('workspace-net', { workspaceRoots: [work] });
    const egress = createEgressSession({
      profile: 'workspace-net',
      allow: [],
      deny: [],
      methods: 'any',
      hosts: {},
    });
    const r = await sandbox.run({
      policy: p,
      cwd: work,
      egress,
      command: ['sh', '-c', `curl -sS -o /dev/null -w '%{http_code}' http://registry.test:${webPort}/`],
    } as EgressSandboxRequest);
    expect(r.stdout).toBe('403');
  });
});

describe('proxied network without a network namespace', () => {
  it.each(['landlock-seccomp', 'seccomp', 'none'])(
    'rung %s refuses to run a proxied profile',
    async (rung) => {
      if (!status.rungs.find((r) => r.id === rung)?.available) return;
      const before = webHits.length;
      await expect(
        sandbox.run({
          policy: policy(),
          cwd: work,
          rung,
          allowDegraded: true,
          command: ['curl', '-sS', `http://127.0.0.2:${webPort}/`],
        }),
      ).rejects.toBeInstanceOf(UnsupportedPolicyError);
      expect(webHits.length).toBe(before);
    },
  );
});
