// A machine without bubblewrap (a fresh Debian with Node and npm): the Quick start's rung.
// bwrap is hidden here with CODEX_BWRAP naming a path that does not exist (bwrap is looked up
// only at fixed paths, never on PATH), so this runs on every Linux machine, CI included, and
// proves what a user without bwrap gets: the best remaining rung is named, never called "full";
// it still confines writes and network; and what it cannot enforce is asked, not run unasked.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { codex } from './helpers.js';

const env = { CODEX_BWRAP: '/nonexistent/codex-test/bwrap' };
let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-degraded-'));
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
});
const run = (args: string[]) => codex(args, { cwd: dir, home, env });
const audit = () =>
  readFileSync(join(home, 'audit', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { operation: string; decision: string; reason: string });

interface Status {
  best: string;
  mechanisms: { id: string; available: boolean; reason: string }[];
  rungs: { id: string; available: boolean; enforces?: string[] }[];
}

describe.skipIf(process.platform !== 'linux')('without bubblewrap (the landlock-seccomp rung)', () => {
  it('the status names bwrap as missing with its Debian package, and the best rung is not "full"', () => {
    const s = JSON.parse(run(['sandbox', 'status', '--json']).stdout) as Status;
    expect(s.mechanisms.find((m) => m.id === 'bwrap')).toMatchObject({
      available: false,
      reason: expect.stringMatching(
        /^bwrap not found at \/nonexistent\/codex-test\/bwrap \(Debian package: bubblewrap/,
      ),
    });
    expect(s.best).not.toBe('full');
    expect(s.rungs.find((r) => r.id === 'full')?.available).toBe(false);
  });

  it('an allowed command runs; the rung and what it does not enforce are on stderr, never hidden', () => {
    const best = (JSON.parse(run(['sandbox', 'status', '--json']).stdout) as Status).best;
    const r = run(['exec', '--', 'ls']);
    if (best === 'landlock-seccomp') {
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(
        /^codex: sandbox: profile offline: linux sandbox, rung "landlock-seccomp" \(landlock\+seccomp\+helper-ns[^)]*\); NOT enforced: process-isolation/m,
      );
      expect(r.stderr).toContain('codex: sandbox: warning: rung "landlock-seccomp" runs without: bwrap');
    } else {
      // No Landlock either: nothing here enforces offline's writes, so it is refused, not weakened.
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('SANDBOX_UNAVAILABLE');
    }
  });

  it('an unknown command is not run unasked (the rung does not enforce the whole profile): refused without a terminal', () => {
    const r = run(['exec', '--', 'npm', '--version']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(
      /refused \(APPROVAL_REQUIRED\): the policy asks before running this \(unknown command "npm" \[npm --version\]\) and there is no terminal to ask on; pass --yes to approve \(not run unasked: rung \S+ .* does not enforce /,
    );
    expect(audit().some((e) => e.operation === 'command_exec' && e.decision === 'denied')).toBe(true);
  });

  it('approved with --yes, a write outside the workspace is still denied (Landlock), and nothing is written', (t) => {
    const s = JSON.parse(run(['sandbox', 'status', '--json']).stdout) as Status;
    if (s.best !== 'landlock-seccomp') return t.skip(`no Landlock here (best rung ${s.best})`);
    const target = `/etc/codex-degraded-${process.pid}`;
    writeFileSync(join(dir, 'w.sh'), `#!/bin/sh\necho x > ${target}\n`, { mode: 0o755 });
    const r = run(['exec', '--yes', '--', './w.sh']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /cannot create \/etc\/codex-degraded-\d+: (Read-only file system|Permission denied)/,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('approved with --yes, a connection to a loopback listener is still refused (seccomp), and none arrives', async (t) => {
    const s = JSON.parse(run(['sandbox', 'status', '--json']).stdout) as Status;
    if (s.best !== 'landlock-seccomp') return t.skip(`no Landlock here (best rung ${s.best})`);
    let connections = 0;
    const server = createServer((c) => {
      connections++;
      c.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const script = `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', (e) => { console.error(e.code); process.exit(7); })`;
      const r = run(['exec', '--yes', '--', process.execPath, '-e', script]);
      expect(r.status).toBe(7);
      expect(r.stderr).toMatch(/^(EPERM|EACCES)$/m);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('--require-full-isolation refuses the weaker rung (125) and says what is missing', () => {
    const r = run(['sandbox', 'run', '--require-full-isolation', '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(
      /refused \(SANDBOX_DEGRADED\): full isolation is required but profile offline: .*missing: bwrap/,
    );
  });
});
