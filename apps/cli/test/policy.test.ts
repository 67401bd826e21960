import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codex } from './helpers.js';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ALLOW_NPM_TEST = `
[[rule]]
id = "npm-test"
prefix = ["npm", "test"]
decision = "allow"
justification = "running the project's tests is fine"
match = ["npm test"]
`;

describe('codex policy check: exit codes 0 allow, 10 prompt, 20 forbidden', () => {
  it('allow → 0', () => {
    const r = codex(['policy', 'check', '--', 'ls', '-la']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^allow \(profile offline\)/);
  });

  it('prompt → 10 (network under the default offline profile)', () => {
    const r = codex(['policy', 'check', '--script', 'curl -fsSL https://example.com']);
    expect(r.status, r.stderr).toBe(10);
    expect(r.stdout).toContain('prompt (profile offline)');
    expect(r.stdout).toContain('does not allow');
  });

  it('forbidden → 20', () => {
    const r = codex(['policy', 'check', '--', 'sudo', 'rm', '-rf', '/']);
    expect(r.status).toBe(20);
    expect(r.stdout).toContain('priv.escalate');
  });

  it('decisions follow --profile, CODEX_PROFILE and the global flag before the subcommand', () => {
    const curl = ['--', 'curl', 'https://example.com'];
    expect(codex(['policy', 'check', '--profile', 'workspace-write', ...curl]).status).toBe(10);
    expect(codex(['policy', 'check', '--profile', 'workspace-net', ...curl]).status).toBe(0);
    expect(codex(['--profile', 'trusted', 'policy', 'check', ...curl]).status).toBe(0);
    expect(codex(['policy', 'check', ...curl], { env: { CODEX_PROFILE: 'WorkspaceNet' } }).status).toBe(0);
    expect(codex(['policy', 'check', '--profile', 'nope', ...curl]).status).toBe(2);
  });

  it('bash -lc scripts are parsed: the strictest segment wins', () => {
    expect(codex(['policy', 'check', '--', 'bash', '-lc', 'git status && ls | wc -l']).status).toBe(0);
    expect(codex(['policy', 'check', '--', 'bash', '-lc', 'git status && echo $(sudo id)']).status).toBe(20);
    expect(codex(['policy', 'check', '--script', 'echo "unterminated']).status).toBe(10);
  });

  it('redirects resolve against the working directory and the workspace', () => {
    const ws = tempDir('codex-ws-');
    const inWs = codex(['policy', 'check', '--profile', 'workspace-write', '--script', 'echo hi > out.txt'], {
      cwd: ws,
    });
    expect(inWs.status, inWs.stdout + inWs.stderr).toBe(0);
    expect(
      codex(['policy', 'check', '--profile', 'workspace-write', '--script', 'echo hi > ../out.txt'], {
        cwd: ws,
      }).status,
    ).toBe(20);
    expect(codex(['policy', 'check', '--script', 'echo hi > out.txt'], { cwd: ws }).status).toBe(20); // offline writes nothing
    expect(
      codex(['policy', 'check', '--profile', 'workspace-write', '--script', 'echo x > .git/config'], {
        cwd: ws,
      }).status,
    ).toBe(20);
  });

  it('--json prints the evaluation with segments and exitCode', () => {
    const r = codex([
      'policy',
      'check',
      '--json',
      '--profile',
      'workspace-write',
      '--script',
      'ls && curl https://x',
    ]);
    expect(r.status).toBe(10);
    const body = JSON.parse(r.stdout) as {
      decision: string;
      exitCode: number;
      profile: string;
      segments: { argv: string[]; decision: string }[];
    };
    expect(body).toMatchObject({ decision: 'prompt', exitCode: 10, profile: 'workspace-write' });
    expect(body.segments.map((s) => [s.argv[0], s.decision])).toEqual([
      ['ls', 'allow'],
      ['curl', 'prompt'],
    ]);
  });
});

describe('codex policy explain', () => {
  it('prints segments, matched rules and their justifications', () => {
    const r = codex(['policy', 'explain', '--script', 'git status; rm -rf ~'], {
      env: { HOME: '/home/someone' },
    });
    expect(r.status).toBe(20);
    expect(r.stdout).toContain('Segments:');
    expect(r.stdout).toContain('Matched rules:');
    expect(r.stdout).toMatch(/safe\.git-read \[default: builtin\] → allow\n\s+read-only git inspection/);
    expect(r.stdout).toMatch(
      /fs\.rm-root \[default: builtin\] → forbidden\n\s+recursive delete of \/ or a home directory/,
    );
  });
});

describe('codex policy: layers', () => {
  it('--policy FILE adds a user layer', () => {
    const dir = tempDir('codex-pol-');
    const file = join(dir, 'user.toml');
    writeFileSync(file, ALLOW_NPM_TEST);
    expect(codex(['policy', 'check', '--', 'npm', 'test']).status).toBe(10);
    const r = codex(['policy', 'explain', '--policy', file, '--', 'npm', 'test']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`npm-test [user: ${file}] → allow`);
  });

  it('an admin layer forbid cannot be loosened by user or project layers', () => {
    const ws = tempDir('codex-ws-');
    mkdirSync(join(ws, '.codex'));
    writeFileSync(join(ws, '.codex', 'policy.toml'), ALLOW_NPM_TEST.replace('npm-test', 'project-npm-test'));
    const admin = join(ws, 'admin.toml');
    writeFileSync(
      admin,
      '[[rule]]\nid = "no-npm"\nprefix = ["npm"]\ndecision = "forbidden"\njustification = "npm is banned here"\nmatch = ["npm test"]\n',
    );
    const user = join(ws, 'user.toml');
    writeFileSync(user, ALLOW_NPM_TEST);
    const home = tempDir('codex-home-');
    // an untrusted project layer (an agent could have written it) only tightens: still prompt
    expect(codex(['policy', 'check', '--', 'npm', 'test'], { cwd: ws, home }).status).toBe(10);
    // trusted with `codex policy trust`, its exact content allows
    const t = codex(['policy', 'trust'], { cwd: ws, home });
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toContain('sha256:');
    expect(codex(['policy', 'check', '--', 'npm', 'test'], { cwd: ws, home }).status).toBe(0);
    // any edit voids the pin
    writeFileSync(join(ws, '.codex', 'policy.toml'), `${ALLOW_NPM_TEST.replace('npm-test', 'edited')}\n`);
    expect(codex(['policy', 'check', '--', 'npm', 'test'], { cwd: ws, home }).status).toBe(10);
    writeFileSync(join(ws, '.codex', 'policy.toml'), ALLOW_NPM_TEST.replace('npm-test', 'project-npm-test'));
    // a file that does not load is not trusted
    const bad = join(ws, 'bad.toml');
    writeFileSync(bad, '[[rule]]\nid = 3\n');
    expect(codex(['policy', 'trust', bad], { cwd: ws, home }).status).not.toBe(0);
    const r = codex(
      ['policy', 'check', '--policy', user, '--policy', `admin:${admin}`, '--', 'npm', 'test'],
      { cwd: ws },
    );
    expect(r.status).toBe(20);
    expect(r.stdout).toContain('npm is banned here');
  });

  it('config [policy] files are loaded as user layers (relative to CODEX_HOME)', () => {
    const home = tempDir('codex-home-');
    writeFileSync(join(home, 'allow.toml'), ALLOW_NPM_TEST);
    writeFileSync(join(home, 'config.toml'), '[policy]\nfiles = ["allow.toml"]\n');
    expect(codex(['policy', 'check', '--', 'npm', 'test'], { home }).status).toBe(0);
  });

  it('a policy whose examples fail refuses to load: exit 1, one line naming the rule', () => {
    const dir = tempDir('codex-pol-');
    const file = join(dir, 'bad.toml');
    writeFileSync(file, ALLOW_NPM_TEST.replace('match = ["npm test"]', 'match = ["npm install"]'));
    const r = codex(['policy', 'check', '--policy', file, '--', 'ls']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      `codex: error: ${file}: rule "npm-test": example "npm install" does not match the rule (listed in match)`,
    ]);
    const j = codex(['policy', 'check', '--json', '--policy', file, '--', 'ls']);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { code: 'POLICY_EXAMPLE_FAILED' } });
  });

  it('an invalid or missing policy file is an error, never allow', () => {
    const dir = tempDir('codex-pol-');
    const file = join(dir, 'bad.toml');
    writeFileSync(file, '[[rule]]\nid = "x"\nprefix = ["ls"]\ndecision = "yes"\njustification = "j"\n');
    const r = codex(['policy', 'check', '--json', '--policy', file, '--', 'ls']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'POLICY_LOAD' } });
    expect(JSON.parse(r.stderr).error.message).toContain('rule["x"].decision');
    const missing = codex(['policy', 'check', '--policy', join(dir, 'nope.toml'), '--', 'ls']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read policy file (ENOENT)');
  });
});

describe('codex policy: usage errors exit 2 with one line', () => {
  it.each([
    [['policy'], 'missing action'],
    [['policy', 'check'], 'nothing to check'],
    [['policy', 'frob', '--', 'ls'], 'unknown action "frob"'],
    [['policy', 'check', '--script', 'ls', '--', 'ls'], 'either --script or a command'],
    [['policy', 'check', 'ls'], 'put the command after --'],
    [['policy', 'check', '--bogus', '--', 'ls'], "unknown option '--bogus'"],
  ])('%j', (args, message) => {
    const r = codex(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });

  it('--help documents the exit codes', () => {
    const r = codex(['policy', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Exit codes: 0 allow, 10 prompt, 20 forbidden');
  });
});
