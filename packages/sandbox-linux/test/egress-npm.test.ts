import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { egressSessionFor } from '@codex/egress';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';
import type { EgressSandboxRequest } from '../src/index.js';

// A real `npm install` inside the sandbox, through the egress proxy, against a tiny static
// registry on loopback (127.0.0.2, reached by the name registry.test) serving one tarball.
const sandbox = createLinuxSandbox();
const status = await sandbox.probe();
const ready = status.rungs.find((r) => r.id === 'full')?.available === true;
let npm: string | null = null;
try {
  npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim() || null;
} catch {
  npm = null;
}
const CI = process.env.CI === 'true';

let root: string;
let registry: http.Server;
let port: number;
const served: string[] = [];

beforeAll(async () => {
  if (!npm) return;
  root = mkdtempSync(join(tmpdir(), 'egress-npm-'));
  const pkg = join(root, 'pkg');
  mkdirSync(pkg);
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'codex-egress-fixture', version: '1.0.0', main: 'index.js', license: 'MIT' }),
  );
  writeFileSync(join(pkg, 'index.js'), "module.exports = 'fixture through the egress proxy';\n");
  const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', root], {
    cwd: pkg,
    encoding: 'utf8',
  }).trim();
  const tarball = readFileSync(join(root, file));
  const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  const shasum = createHash('sha1').update(tarball).digest('hex');
  registry = http.createServer((req, res) => {
    served.push(`${req.method} ${req.headers.host} ${req.url}`);
    const base = `http://registry.test:${port}`;
    if (req.url === '/codex-egress-fixture') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          name: 'codex-egress-fixture',
          'dist-tags': { latest: '1.0.0' },
          versions: {
            '1.0.0': {
              name: 'codex-egress-fixture',
              version: '1.0.0',
              main: 'index.js',
              dist: { tarball: `${base}/codex-egress-fixture/-/${file}`, integrity, shasum },
            },
          },
        }),
      );
    } else if (req.url === `/codex-egress-fixture/-/${file}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
      res.end(tarball);
    } else {
      res.writeHead(404);
      res.end('{}');
    }
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.2', r));
  port = (registry.address() as net.AddressInfo).port;
});
afterAll(async () => {
  if (!registry) return;
  registry.closeAllConnections();
  await new Promise((r) => registry.close(r));
  rmSync(root, { recursive: true, force: true });
});

describe.runIf((ready && npm !== null) || CI)(
  'npm install through the egress proxy, inside the sandbox',
  () => {
    const run = (allow: string[]) => {
      const ws = mkdtempSync(join(root, 'ws-'));
      writeFileSync(
        join(ws, 'package.json'),
        JSON.stringify({ name: 'ws', version: '0.0.0', private: true }),
      );
      const policy = toSandboxPolicy('workspace-net', {
        workspaceRoots: [ws],
        egress: { allow, allowAddresses: ['127.0.0.2/32'] },
      });
      const egress = egressSessionFor(policy, { hosts: { 'registry.test': '127.0.0.2' } });
      const request: EgressSandboxRequest = {
        policy,
        cwd: ws,
        egress,
        timeoutMs: 120_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: ws,
          npm_config_cache: join(ws, '.npm-cache'),
        },
        command: [
          'npm',
          'install',
          '--registry',
          `http://registry.test:${port}/`,
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--fetch-retries=0',
          'codex-egress-fixture',
        ],
      };
      return { ws, egress, result: sandbox.run(request) };
    };

    it('installs the package when the registry host is allowed', async () => {
      const { ws, egress, result } = run(['registry.test']);
      const r = await result;
      expect(r.exitCode, r.stderr).toBe(0);
      expect(readFileSync(join(ws, 'node_modules', 'codex-egress-fixture', 'index.js'), 'utf8')).toContain(
        'fixture through the egress proxy',
      );
      expect(served.some((s) => s.startsWith(`GET registry.test:${port} /codex-egress-fixture/-/`))).toBe(
        true,
      );
      expect(egress.decisions().every((d) => d.decision === 'allowed' && d.address === '127.0.0.2')).toBe(
        true,
      );
      expect(egress.refused()).toEqual([]);
    }, 150_000);

    it('fails, with the registry listed as refused and grantable, when it is not allowed', async () => {
      const before = served.length;
      const { ws, egress, result } = run(['preset:npm']);
      const r = await result;
      expect(r.exitCode).not.toBe(0);
      expect(existsSync(join(ws, 'node_modules', 'codex-egress-fixture'))).toBe(false);
      expect(served.length).toBe(before);
      expect(egress.refused()[0]).toMatchObject({
        host: 'registry.test',
        port,
        rule: 'not-allowed',
        grantable: true,
      });
    }, 150_000);
  },
);
