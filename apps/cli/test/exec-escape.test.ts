// Escape attempts through `codex exec` (policy + sandbox + audit): each one must have no effect
// on the host, and the audit log must hold a `denied` entry naming why (the policy rule, or the
// sandbox denial observed with the profile and mechanisms). The exhaustive per-rung escape
// suite lives in packages/sandbox-linux/test/escape; this checks the audit trail end to end.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codex, fullRung } from './helpers.js';

/** The full rung's denials (see fullRung; degraded.test.ts covers a machine without it). */
const FULL = fullRung();

let ws: string;
let home: string;
let server: Server;
let port = 0;
let hits = 0;

beforeAll(async () => {
  ws = mkdtempSync('/var/tmp/codex-exec-esc-');
  home = mkdtempSync('/var/tmp/codex-exec-esc-home-');
  execFileSync('git', ['init', '-q', ws]);
  server = createServer((s) => {
    hits++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server.close();
  rmSync(ws, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

interface Case {
  id: string;
  profile: string;
  files?: Record<string, string>;
  argv: () => string[];
  effect: () => boolean;
  /** Where the denial must come from. */
  by: RegExp;
}

const CASES: Case[] = [
  {
    id: 'python writes /etc',
    profile: 'workspace-write',
    files: { 'w.py': 'open("/etc/codex-exec-escape", "w").write("x")\n' },
    argv: () => ['python3', 'w.py'],
    effect: () => existsSync('/etc/codex-exec-escape'),
    by: /sandbox denial observed \(read-only-filesystem\)/,
  },
  {
    id: 'python writes outside the workspace',
    profile: 'workspace-write',
    files: {
      'o.py': `open(${JSON.stringify(join('/var/tmp', 'codex-exec-esc-outside'))}, "w").write("x")\n`,
    },
    argv: () => ['python3', 'o.py'],
    effect: () => existsSync('/var/tmp/codex-exec-esc-outside'),
    by: /sandbox denial observed \(read-only-filesystem\)/,
  },
  {
    id: 'python writes a git hook',
    profile: 'workspace-write',
    files: { 'g.py': 'open(".git/hooks/pre-commit", "w").write("#!/bin/sh\\n")\n' },
    argv: () => ['python3', 'g.py'],
    effect: () => existsSync(join(ws, '.git/hooks/pre-commit')),
    by: /sandbox denial observed \(read-only-filesystem\)/,
  },
  {
    id: 'shell redirect into a git hook',
    profile: 'workspace-write',
    argv: () => ['sh', '-c', 'echo x > .git/hooks/post-merge'],
    effect: () => existsSync(join(ws, '.git/hooks/post-merge')),
    by: /execpolicy forbidden/,
  },
  {
    id: 'python connects to a loopback listener',
    profile: 'offline',
    files: { 'n.py': `import socket\nsocket.create_connection(("127.0.0.1", PORT), 3)\n` },
    argv: () => ['python3', 'n.py'],
    effect: () => hits > 0,
    by: /sandbox denial observed \(permission\).*Operation not permitted/,
  },
  {
    id: 'bash /dev/tcp to a loopback listener',
    profile: 'workspace-write',
    argv: () => ['bash', '-c', `echo hi > /dev/tcp/127.0.0.1/${port}`],
    effect: () => hits > 0,
    by: /sandbox denial observed \(permission\)/,
  },
  {
    id: 'node net.connect to a loopback listener',
    profile: 'offline',
    files: {
      'n.js': `require('net').connect(PORT, '127.0.0.1').on('error', (e) => { console.error(e.message); process.exit(1); });\n`,
    },
    argv: () => ['node', 'n.js'],
    effect: () => hits > 0,
    by: /sandbox denial observed/,
  },
  {
    id: 'curl to a loopback listener (approved prompt)',
    profile: 'offline',
    argv: () => ['curl', '-sS', '-m', '3', `http://127.0.0.1:${port}/`],
    effect: () => hits > 0,
    by: /sandbox denial observed \(network\)/,
  },
  {
    id: 'unshare -r',
    profile: 'offline',
    argv: () => ['unshare', '-r', 'id'],
    effect: () => false,
    by: /sandbox denial observed \(permission\).*unshare failed/,
  },
  {
    id: 'rm -rf of the home directory',
    profile: 'workspace-write',
    argv: () => ['rm', '-rf', home],
    effect: () => !existsSync(home),
    by: /execpolicy forbidden/,
  },
];

describe.skipIf(!FULL)('escape attempts through codex exec leave a denial in the audit log', () => {
  for (const c of CASES) {
    it(c.id, async () => {
      for (const [name, text] of Object.entries(c.files ?? {}))
        writeFileSync(join(ws, name), text.replaceAll('PORT', String(port)));
      const log = join(home, 'audit', 'audit.jsonl');
      const before = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
      const r = codex(['exec', '--yes', '--profile', c.profile, '--', ...c.argv()], { cwd: ws, home });
      await new Promise((res) => setTimeout(res, 50));
      expect(c.effect(), `escaped: ${r.stderr}`).toBe(false);
      expect(r.status).not.toBe(0);
      const entries = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .slice(before)
        .map((l) => JSON.parse(l) as { decision: string; reason: string; profile: string });
      const denied = entries.filter((e) => e.decision === 'denied');
      expect(denied.length, JSON.stringify(entries)).toBeGreaterThan(0);
      expect(
        denied.some((e) => c.by.test(e.reason)),
        JSON.stringify(denied),
      ).toBe(true);
      expect(denied.every((e) => e.profile === c.profile)).toBe(true);
      if (c.by.source.startsWith('sandbox')) {
        expect(denied.some((e) => e.reason.includes('rung full (bwrap+landlock+seccomp+cgroup-pids)'))).toBe(
          true,
        );
      }
    });
  }
});

describe.skipIf(!FULL)("codex's own state inside a writable workspace", () => {
  it('a sandboxed command cannot plant compiled code, a probe result or config for the next codex run', () => {
    // A workspace that holds codex's cache and home, as when the workspace is $HOME.
    const root = mkdtempSync('/var/tmp/codex-exec-state-');
    try {
      const cache = join(root, 'cache');
      const codexHome = join(root, 'home');
      const env = { XDG_CACHE_HOME: cache };
      // One run first, so the cache exists with its compiled code and probe.
      expect(codex(['exec', '--', 'true'], { cwd: root, home: codexHome, env }).status).toBe(0);
      const planted = [join(cache, 'codex', 'planted'), join(codexHome, 'planted')];
      const script = [
        ...planted.map((p) => `echo x > ${p}`),
        `for f in ${cache}/codex/v8-cache/*/*.bin ${cache}/codex/sandbox-probe.json; do echo x >> "$f"; done`,
        `echo ok > ${join(root, 'allowed')}`,
      ].join('; ');
      const r = codex(['exec', '--yes', '--profile', 'workspace-write', '--', 'sh', '-c', script], {
        cwd: root,
        home: codexHome,
        env,
      });
      expect(readFileSync(join(root, 'allowed'), 'utf8')).toBe('ok\n');
      for (const p of planted) expect(existsSync(p), r.stderr).toBe(false);
      // The next run still hits its compiled code: nothing in the cache was changed.
      const after = codex(['exec', '--', 'true'], {
        cwd: root,
        home: codexHome,
        env: { ...env, CODEX_DEBUG_COMPILE_CACHE: '1' },
      });
      expect(after.stderr).toMatch(/compile cache: hit/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
