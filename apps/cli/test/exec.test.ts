import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, codex, fullRung, readLate } from './helpers.js';

/** Tests of what the full rung does (see fullRung; degraded.test.ts covers the rest). */
const FULL = fullRung();

interface Entry {
  operation: string;
  decision: string;
  reason: string;
  target: string;
  profile: string;
  agent_type: string;
  details?: Record<string, unknown>;
}

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync('/var/tmp/codex-cli-exec-');
  home = mkdtempSync('/var/tmp/codex-cli-exec-home-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  codex(['exec', ...args], { cwd: dir, home, env });
function audit(): Entry[] {
  const file = join(home, 'audit', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

describe('codex exec in a pipeline whose reader goes away', () => {
  it.skipIf(!FULL)(
    '`codex exec -- yes | head -1` stops the command (killed, 137) instead of running it forever; audited',
    () => {
      const script = `"${process.execPath}" "${BIN}" exec -- yes | head -1; exit \${PIPESTATUS[0]}`;
      const r = spawnSync('bash', ['-c', script], {
        encoding: 'utf8',
        cwd: dir,
        timeout: 20_000,
        env: { ...process.env, CODEX_HOME: home },
      });
      expect(r.signal).toBeNull(); // not the 20 s timeout
      expect(r.stdout).toBe('y\n');
      expect(r.status).toBe(137);
      expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
      const ran = audit().find((e) => e.operation === 'process_spawn');
      expect(ran).toBeDefined();
    },
  );
});

describe('codex exec under the proxied profiles (the bundled CLI reaches @codex/egress)', () => {
  it.skipIf(!FULL || !existsSync('/usr/bin/curl'))(
    'workspace-net: the proxy is set up, a host off the allow list gets 403 and is named on stderr and in the audit log; a client that ignores the proxy has no network',
    () => {
      const script = [
        'echo "proxy=$HTTP_PROXY"',
        'curl -sS -o /dev/null -w "%{http_code}\\n" http://example.com/',
        'curl -sS --noproxy "*" -o /dev/null http://127.0.0.1:9/ 2>/dev/null; echo "direct=$?"',
      ].join('; ');
      const r = codex(['--profile', 'workspace-net', 'exec', '-y', '--', 'sh', '-c', script], {
        cwd: dir,
        home,
      });
      expect(r.stderr).not.toContain('Cannot find module');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('proxy=http://127.0.0.1:3128\n403\ndirect=7\n');
      expect(r.stderr).toContain('codex: egress refused 1 host: example.com:80 (not-allowed');
      const refused = audit().filter((e) => e.operation === 'network_access' && e.decision === 'denied');
      expect(refused.map((e) => e.reason)).toContain('not-allowed: host is not on the allow list');
    },
  );
  it.skipIf(!FULL || !existsSync('/usr/bin/curl') || !existsSync('/usr/bin/script'))(
    'a refused host: --allow-host grants it for one command; on a terminal codex offers to run again with it allowed',
    async () => {
      // In its own process: codex() below blocks this one (spawnSync).
      const server = `require('http').createServer((q, s) => s.end('reached\\n')).listen(0, '127.0.0.2', function () { console.log(this.address().port); })`;
      const web = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
      const port = await new Promise<number>((r) =>
        web.stdout.once('data', (d: Buffer) => r(Number(d.toString()))),
      );
      writeFileSync(join(home, 'config.toml'), '[egress]\nallow_addresses = ["127.0.0.2/32"]\n');
      const curl = `curl -sS --noproxy "" -x http://127.0.0.1:3128 http://127.0.0.2:${port}/`;
      try {
        const refused = codex(['--profile', 'workspace-net', 'exec', '-y', '--', 'sh', '-c', curl], {
          cwd: dir,
          home,
        });
        expect(refused.stdout).toContain('codex egress: refused');
        expect(refused.stderr).toContain('codex: egress refused 1 host: 127.0.0.2');
        const flag = [
          '--profile',
          'workspace-net',
          'exec',
          '-y',
          '--allow-host',
          '127.0.0.2',
          '--',
          'sh',
          '-c',
          curl,
        ];
        const granted = codex(flag, { cwd: dir, home });
        expect(granted).toMatchObject({ status: 0, stdout: 'reached\n' });
        expect(
          audit().some((e) => e.reason === 'egress grant for this command only, by --allow-host: 127.0.0.2'),
        ).toBe(true);
        // On a terminal: refused, then "run again?" answered yes, and the second run reaches it.
        const onTty = spawnSync(
          'script',
          [
            '-qec',
            `${process.execPath} ${BIN} --profile workspace-net exec --no-color -- sh -c '${curl}'`,
            '/dev/null',
          ],
          {
            cwd: dir,
            input: 'y\ny\ny\n',
            encoding: 'utf8',
            env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
            timeout: 60_000,
          },
        );
        expect(onTty.stdout).toContain('codex: exec: the egress proxy refused 127.0.0.2');
        expect(onTty.stdout).toContain('reached');
        expect(onTty.status).toBe(0);
        expect(
          audit().some((e) => e.reason === 'egress grant for this command only, on the terminal: 127.0.0.2'),
        ).toBe(true);
      } finally {
        web.kill();
      }
    },
  );
  it.skipIf(!FULL)('net-read-only starts the proxy too', () => {
    const r = codex(['--profile', 'net-read-only', 'exec', '--', 'sh', '-c', 'echo "proxy=$HTTPS_PROXY"'], {
      cwd: dir,
      home,
    });
    expect(r.stderr).not.toContain('Cannot find module');
    expect(r).toMatchObject({ status: 0, stdout: 'proxy=http://127.0.0.1:3128\n' });
  });
});

describe('codex exec', () => {
  it.skipIf(!FULL)(
    'allowed command: runs in the full sandbox under offline by default; decision and outcome audited',
    () => {
      writeFileSync(join(dir, 'a.txt'), 'hello\n');
      const r = run(['--', 'cat', 'a.txt']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('hello\n');
      expect(r.stderr).toContain(
        'profile offline: linux sandbox, rung "full" (bwrap+landlock+seccomp+cgroup-pids)',
      );
      const log = audit();
      expect(log.map((e) => [e.operation, e.decision])).toEqual([
        ['command_exec', 'allowed'],
        ['process_spawn', 'allowed'],
      ]);
      expect(log[0]!.reason).toMatch(/^execpolicy allow under profile offline/);
      expect(log[1]!.reason).toBe(
        'ran under profile offline, rung full (bwrap+landlock+seccomp+cgroup-pids): exit 0',
      );
    },
  );

  it('forbidden: refused with 125 before anything runs, and the denial is audited with its reason', () => {
    const marker = join(dir, 'ran');
    const r = run(['--', 'sh', '-c', `touch ${marker}; rm -rf /`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('POLICY_FORBIDDEN');
    expect(existsSync(marker)).toBe(false);
    const log = audit();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ operation: 'command_exec', decision: 'denied' });
    expect(log[0]!.reason).toMatch(/^execpolicy forbidden under profile offline: /);
    expect(log[0]!.reason.length).toBeGreaterThan(60);
  });

  it('prompt without a TTY is refused unless --yes; both are audited', () => {
    const denied = run(['--', 'curl', '-sS', 'http://127.0.0.1:9/']);
    expect(denied.status).toBe(125);
    expect(denied.stderr).toContain('APPROVAL_REQUIRED');
    expect(audit().map((e) => e.decision)).toEqual(['requires_approval', 'denied']);
    expect(audit()[1]!.reason).toMatch(/^prompt without a TTY: denied/);
  });

  it.skipIf(!FULL)(
    'approved network command: the sandbox still blocks the loopback listener, and the denial is in the audit log',
    async () => {
      let hits = 0;
      const server: Server = createServer((s) => {
        hits++;
        s.destroy();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      try {
        // Control: the same command, outside codex, reaches the listener.
        const control = codex(
          [
            'sandbox',
            'run',
            '--rung',
            'none',
            '--allow-degraded',
            '--',
            'curl',
            '-sS',
            '-m',
            '3',
            `http://127.0.0.1:${port}/`,
          ],
          { cwd: dir, home },
        );
        expect(control.stderr).toContain('rung "none"');
        await new Promise((r) => setTimeout(r, 50));
        expect(hits).toBe(1);
        const r = run(['--yes', '--', 'curl', '-sS', '-m', '3', `http://127.0.0.1:${port}/`]);
        await new Promise((r) => setTimeout(r, 50));
        expect(hits).toBe(1);
        expect(r.status).toBe(7);
        // The control's --allow-degraded run is audited too (by `codex sandbox run`); look at exec's.
        const log = audit().filter((e) => e.agent_type === 'codex-exec');
        expect(log.map((e) => [e.operation, e.decision])).toEqual([
          ['command_exec', 'requires_approval'],
          ['command_exec', 'allowed'],
          ['process_spawn', 'allowed'],
          ['network_access', 'denied'],
        ]);
        expect(log[1]!.reason).toMatch(/^approved by --yes/);
        expect(log[3]!.reason).toMatch(
          /sandbox denial observed \(network\) under profile offline, rung full .*Couldn't connect/,
        );
      } finally {
        server.close();
      }
    },
  );

  it.skipIf(!FULL)(
    'a write the policy cannot see (inside a script) is denied by the sandbox and audited as a file_write denial',
    () => {
      const target = join(home, 'outside.txt');
      writeFileSync(join(dir, 'w.py'), `open(${JSON.stringify(target)}, "w").write("x")\n`);
      const r = run(['--yes', '--profile', 'workspace-write', '--', 'python3', 'w.py']);
      expect(r.status).toBe(1);
      expect(existsSync(target)).toBe(false);
      const denial = audit().find((e) => e.decision === 'denied');
      expect(denial?.operation).toBe('file_write');
      expect(denial?.reason).toMatch(
        /sandbox denial observed \(read-only-filesystem\) under profile workspace-write, rung full/,
      );
    },
  );

  it.skipIf(!FULL)(
    'a rung that cannot enforce the profile is refused and audited; --allow-degraded runs and is audited',
    () => {
      const refused = run(['--', 'true'], { CODEX_SANDBOX_RUNG: 'seccomp' });
      expect(refused.status).toBe(125);
      expect(refused.stderr).toContain('SANDBOX_UNAVAILABLE');
      const last = audit().at(-1)!;
      expect(last).toMatchObject({ operation: 'process_spawn', decision: 'denied' });
      expect(last.reason).toMatch(
        /sandbox refused \(SANDBOX_UNAVAILABLE\) for profile offline, rung seccomp \(seccomp\+cgroup-pids\)/,
      );

      const degraded = run(['--allow-degraded', '--', 'true'], { CODEX_SANDBOX_RUNG: 'seccomp' });
      expect(degraded.status).toBe(0);
      expect(degraded.stderr).toContain('NOT enforced: filesystem-write');
      expect(
        audit().some((e) =>
          /^--allow-degraded: ran under profile offline with rung seccomp .*does NOT enforce filesystem-write/.test(
            e.reason,
          ),
        ),
      ).toBe(true);
    },
  );

  it.skipIf(!FULL)('require_full_isolation in the config refuses a weaker rung (audited)', () => {
    writeFileSync(join(home, 'config.toml'), '[sandbox]\nrequire_full_isolation = true\n');
    const r = run(['--', 'true'], { CODEX_SANDBOX_RUNG: 'landlock-seccomp' });
    expect(r.status).toBe(125);
    expect(audit().at(-1)!.reason).toMatch(/SANDBOX_DEGRADED/);
    expect(run(['--', 'true']).status).toBe(0);
  });

  it('timeout exits 124 and is audited', () => {
    const r = run(['--timeout', '300', '--', 'sleep', '20']);
    expect(r.status).toBe(124);
    expect(audit().some((e) => e.decision === 'denied' && /^timeout after 300 ms/.test(e.reason))).toBe(true);
  });

  it.skipIf(!FULL)('--json prints the policy decision and the sandbox assessment', () => {
    const j = JSON.parse(run(['--json', '--', 'echo', 'hi']).stdout);
    expect(j.policy.decision).toBe('allow');
    expect(j.stdout).toBe('hi\n');
    expect(j.sandbox.rung).toBe('full');
  });

  it('prompt on a TTY: "always" runs it and remembers the prefix in the user policy layer; "no" refuses', () => {
    // util-linux `script` gives the command a real pseudo-terminal; stdin answers the question.
    const tty = (answer: string, cmd: string) =>
      spawnSync('script', ['-qec', `${process.execPath} ${BIN} exec --no-color -- ${cmd}`, '/dev/null'], {
        cwd: dir,
        input: `${answer}\n`,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
        timeout: 60_000,
      });
    const always = tty('a', "python3 -c 'print(6*7)'");
    // The narrowest prefix the user saw is what "always" saves: not just ["python3"].
    expect(always.stdout).toContain('Run it? [y]es / [n]o / [a]lways for "python3 -c print(6*7)"');
    expect(always.stdout).toMatch(/^42\r?$/m);
    const saved = readFileSync(join(home, 'policy', 'approved.toml'), 'utf8');
    expect(saved).toContain('prefix = ["python3","-c","print(6*7)"]');
    // Saved: no TTY and no --yes needed any more for that command, and `policy check` agrees…
    expect(run(['--', 'python3', '-c', 'print(6*7)']).stdout).toBe('42\n');
    expect(codex(['policy', 'check', '--', 'python3', '-c', 'print(6*7)'], { cwd: dir, home }).status).toBe(
      0,
    );
    // …but another python3 program still asks.
    expect(run(['--', 'python3', '-c', 'print(43)']).status).toBe(125);
    // "always" again for the same prefix does not save it twice.
    tty('a', "python3 -c 'print(6*7)'");
    expect(readFileSync(join(home, 'policy', 'approved.toml'), 'utf8')).toBe(saved);
    const no = tty('n', "python -c 'print(1)'");
    expect(no.status).toBe(125);
    expect(no.stdout).toContain('NOT_APPROVED');
    expect(audit().some((e) => /^approved always for prefix "python3 -c print\(6\*7\)"/.test(e.reason))).toBe(
      true,
    );
    expect(
      audit().some((e) => e.decision === 'denied' && /^prompt declined on the terminal/.test(e.reason)),
    ).toBe(true);
  });

  it('usage: a command is required', () => {
    expect(run([]).status).toBe(2);
  });

  it('the CLI exits promptly after its child (no timer or handle left after the command)', async () => {
    // The child prints the time as its last act; the gap to codex's own exit is cleanup only
    // (audit, cgroup). A dangling timer (it used to be 2 s) shows in every run, so the best of
    // three is taken to keep a busy machine's scheduling noise out, and the bound is 500 ms: the
    // regression this guards is seconds; the speed itself is measured by `pnpm bench`, not here
    // (a 100 ms bound failed on a loaded 2-core machine at 129 ms).
    const gaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [BIN, 'exec', '--', 'date', '+%s%N'], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      const code = await new Promise((r) => child.once('exit', r));
      const exited = Date.now();
      expect(code).toBe(0);
      gaps.push(exited - Number(out.trim()) / 1e6);
    }
    expect(Math.min(...gaps)).toBeLessThan(500);
  }, 60_000);

  it('exits only after all of its output is out, even to a reader that starts late', async () => {
    // codex exec ends with process.exit once its writes have flushed (not on heap teardown):
    // a consumer that reads nothing for a while must still get every byte and the exit code.
    const child = spawn(process.execPath, [BIN, 'exec', '--', 'sh', '-c', 'seq 1 100000; exit 3'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
    });
    const { code, out } = await readLate(child);
    expect(code).toBe(3);
    expect(out.length).toBe(588_895); // every line of `seq 1 100000`
    expect(out.endsWith('99999\n100000\n')).toBe(true);
  }, 60_000);
});
