// Approval modes (-a/--ask-for-approval) through the built CLI, the real policy, the real Linux
// sandbox and the real audit log. Every run here has no terminal unless it goes through `script`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, codex, fullRung } from './helpers.js';

/** Tests of what the full rung does (see fullRung; degraded.test.ts covers the rest). */
const FULL = fullRung();

interface Entry {
  operation: string;
  decision: string;
  reason: string;
  target: string;
  task_id?: string;
  details?: Record<string, unknown>;
}

let dir: string;
let home: string;
beforeEach(() => {
  dir = mkdtempSync('/var/tmp/codex-cli-approval-');
  home = mkdtempSync('/var/tmp/codex-cli-approval-home-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const exec = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  codex(['exec', ...args], { cwd: dir, home, env });
function audit(): Entry[] {
  const file = join(home, 'audit', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}
const autoApprovals = () => audit().filter((e) => e.details?.auto === true);
const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();

/** `codex exec` on a real pseudo-terminal (util-linux `script`); stdin answers any question. */
function tty(args: string, answer = 'y') {
  return spawnSync('script', ['-qec', `${process.execPath} ${BIN} exec --no-color ${args}`, '/dev/null'], {
    cwd: dir,
    input: `${answer}\n`,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
    timeout: 60_000,
  });
}

describe('codex exec: approval modes', () => {
  it.skipIf(!FULL)(
    'on-request (default): an unknown command runs without a terminal in the fully enforcing rung, audited',
    () => {
      const r = exec(['--', 'npm', '--version']);
      expect(r.stderr).toContain('rung "full"');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(npmVersion);
      const [auto, ...more] = autoApprovals();
      expect(more).toEqual([]);
      expect(auto).toMatchObject({
        operation: 'command_exec',
        decision: 'allowed',
        target: 'npm --version',
        details: { stage: 'approval', mode: 'on-request', rung: 'full', backend: 'linux' },
      });
      expect(auto!.reason).toMatch(
        /^auto-approved by approval mode on-request: the sandbox contains it, rung full \(.*\) fully enforces profile offline: unknown command "npm"/,
      );
      expect(audit().map((e) => [e.operation, e.decision, e.details?.stage])).toEqual([
        ['command_exec', 'requires_approval', 'policy'],
        ['command_exec', 'allowed', 'approval'],
        ['process_spawn', 'allowed', 'outcome'],
      ]);
    },
  );

  it.skipIf(!FULL)('--json shows the causes and the auto-approval', () => {
    const j = JSON.parse(exec(['--json', '--', 'npm', '--version']).stdout);
    expect(j.policy).toMatchObject({ decision: 'prompt', causes: ['unknown-command'] });
    expect(j.policy.approval).toMatch(/^auto-approved by approval mode on-request/);
    expect(j.stdout.trim()).toBe(npmVersion);
  });

  it.skipIf(!FULL)(
    'an auto-run command is still confined: its write under offline is denied by the sandbox',
    () => {
      // An unknown command that tries to write the workspace under offline (read-only) is run, and
      // the sandbox denies the write: containment, not trust.
      writeFileSync(join(dir, 'w.sh'), '#!/bin/sh\necho x > ./out.txt\n', { mode: 0o755 });
      const r = exec(['--', './w.sh']);
      expect(r.status).not.toBe(0);
      expect(r.status).not.toBe(125);
      expect(existsSync(join(dir, 'out.txt'))).toBe(false);
      expect(autoApprovals()).toHaveLength(1);
      expect(audit().some((e) => e.operation === 'file_write' && e.decision === 'denied')).toBe(true);
    },
  );

  it('a degraded rung (CODEX_SANDBOX_RUNG) is not containment: the unknown command is refused and says why', () => {
    const r = exec(['--', 'npm', '--version'], { CODEX_SANDBOX_RUNG: 'seccomp' });
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('refused (APPROVAL_REQUIRED)');
    expect(r.stderr).toMatch(/not run unasked: rung seccomp .* does NOT enforce filesystem-write/);
    expect(autoApprovals()).toEqual([]);
    const never = exec(['-a', 'never', '--', 'npm', '--version'], { CODEX_SANDBOX_RUNG: 'seccomp' });
    expect(never.status).toBe(125);
    expect(never.stderr).toContain('refused (APPROVAL_NEVER)');
  });

  it('network under a no-network profile is still asked (refused without a terminal) in on-request and never', () => {
    for (const mode of ['on-request', 'never']) {
      const r = exec(['-a', mode, '--', 'curl', '-sS', 'http://127.0.0.1:9/']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain(mode === 'never' ? 'APPROVAL_NEVER' : 'APPROVAL_REQUIRED');
    }
    expect(autoApprovals()).toEqual([]);
  });

  it('writes outside the writable roots are not auto-run under workspace-write', () => {
    const outside = join(mkdtempSync(join(tmpdir(), 'codex-outside-')), 'x.txt');
    try {
      // A literal target outside the roots: forbidden, in every mode.
      for (const mode of ['untrusted', 'on-request', 'never']) {
        const r = exec(['-p', 'workspace-write', '-a', mode, '--', 'sh', '-c', `npm --version > ${outside}`]);
        expect(r.status).toBe(125);
        expect(r.stderr).toContain('POLICY_FORBIDDEN');
      }
      // A target the write analysis cannot resolve: asked, not auto-run.
      const r = exec(['-p', 'workspace-write', '--', 'sh', '-c', 'npm --version > "$OUT"'], { OUT: outside });
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('APPROVAL_REQUIRED');
      expect(existsSync(outside)).toBe(false);
      expect(autoApprovals()).toEqual([]);
    } finally {
      rmSync(join(outside, '..'), { recursive: true, force: true });
    }
  });

  it.skipIf(!FULL)('-a untrusted restores the prompt: refused without a terminal, asked on one', () => {
    const r = exec(['-a', 'untrusted', '--', 'npm', '--version']);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('APPROVAL_REQUIRED');
    expect(r.stderr).toContain('unknown command "npm"');
    const asked = tty('-a untrusted -- npm --version', 'y');
    expect(asked.stdout).toContain('the policy asks before running: unknown command "npm"');
    expect(asked.stdout).toContain(npmVersion);
    // The config key and the environment variable select it too.
    writeFileSync(join(home, 'config.toml'), '[approval]\nmode = "untrusted"\n');
    expect(exec(['--', 'npm', '--version']).status).toBe(125);
    expect(exec(['--', 'npm', '--version'], { CODEX_APPROVAL_MODE: 'on-request' }).status).toBe(0);
    expect(exec(['-a', 'on-request', '--', 'npm', '--version']).status).toBe(0);
    expect(autoApprovals()).toHaveLength(2);
  });

  it.skipIf(!FULL)(
    "-a is also a global option, before the command name, and the command's own flag wins",
    () => {
      const run = (args: string[], env: NodeJS.ProcessEnv = {}) => codex(args, { cwd: dir, home, env });
      const before = run(['-a', 'untrusted', 'exec', '--', 'npm', '--version']);
      expect(before.status).toBe(125);
      expect(before.stderr).toContain('APPROVAL_REQUIRED');
      // The global flag beats the environment variable, as the command's own flag does.
      expect(
        run(['--ask-for-approval=untrusted', 'exec', '--', 'npm', '--version'], {
          CODEX_APPROVAL_MODE: 'on-request',
        }).status,
      ).toBe(125);
      expect(run(['-a', 'untrusted', 'exec', '-a', 'on-request', '--', 'npm', '--version']).status).toBe(0);
      const bad = run(['-a', 'sometimes', 'exec', '--', 'true']);
      expect(bad).toMatchObject({ status: 2, stdout: '' });
      expect(bad.stderr).toBe(
        'codex: error: --ask-for-approval: unknown approval mode "sometimes"; valid modes: untrusted, on-request, never\n',
      );
    },
  );

  it.skipIf(!FULL)(
    '-a never refuses without prompting, even on a terminal; contained commands still run',
    () => {
      const r = tty("-a never -- python3 -c 'print(42)'", 'y');
      expect(r.stdout).toContain('refused (APPROVAL_NEVER)');
      expect(r.stdout).not.toContain('Run it?');
      expect(r.stdout).not.toMatch(/^42\r?$/m);
      expect(
        audit().some((e) => /^prompt under approval mode never: denied without asking/.test(e.reason)),
      ).toBe(true);
      const ran = exec(['-a', 'never', '--', 'npm', '--version']);
      expect(ran.status).toBe(0);
      expect(autoApprovals().map((e) => e.details?.mode)).toEqual(['never']);
    },
  );

  it('forbidden stays forbidden in every mode, with or without --yes', () => {
    const marker = join(dir, 'ran');
    for (const mode of ['untrusted', 'on-request', 'never']) {
      const r = exec(['-a', mode, '--', 'sh', '-c', `touch ${marker}; rm -rf /`]);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('POLICY_FORBIDDEN');
    }
    expect(exec(['--yes', '--', 'sh', '-c', `touch ${marker}; rm -rf /`]).stderr).toContain(
      'POLICY_FORBIDDEN',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('--yes still approves prompts; bad modes are one-line usage errors (exit 2)', () => {
    const yes = exec(['--yes', '-a', 'untrusted', '--', 'npm', '--version']);
    expect(yes.status).toBe(0);
    expect(audit().some((e) => /^approved by --yes/.test(e.reason))).toBe(true);
    expect(exec(['-a', 'sometimes', '--', 'true'])).toMatchObject({
      status: 2,
      stderr:
        'codex: error: --ask-for-approval: unknown approval mode "sometimes"; valid modes: untrusted, on-request, never\n',
    });
    expect(exec(['--', 'true'], { CODEX_APPROVAL_MODE: 'auto' })).toMatchObject({
      status: 2,
      stderr:
        'codex: error: CODEX_APPROVAL_MODE: unknown approval mode "auto"; valid modes: untrusted, on-request, never\n',
    });
    expect(exec(['--yes', '-a', 'never', '--', 'true']).status).toBe(2);
    writeFileSync(join(home, 'config.toml'), '[approval]\nmode = "ask"\n');
    const bad = exec(['--', 'true']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/approval\.mode: .*untrusted.*on-request.*never/);
  });
});

describe('codex supervise: approval modes', () => {
  it.skipIf(!FULL)(
    'a command task with an unknown command runs under on-request (default) and is denied under untrusted',
    () => {
      writeFileSync(
        join(dir, 'p.json'),
        JSON.stringify({ tasks: [{ id: 'v', agent: 'command', input: { argv: ['npm', '--version'] } }] }),
      );
      const ok = codex(['supervise', 'p.json', '--json'], { cwd: dir, home });
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout).tasks[0].status).toBe('succeeded');
      expect(autoApprovals()).toMatchObject([
        { task_id: 'v', details: { mode: 'on-request', rung: 'full' } },
      ]);
      const strict = codex(['supervise', 'p.json', '--json', '-a', 'untrusted'], { cwd: dir, home });
      expect(strict.status).toBe(1);
      expect(JSON.parse(strict.stdout).tasks[0].status).toBe('denied');
    },
  );
});
