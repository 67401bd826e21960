import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };
import { BIN, codex } from './helpers.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function expectOneLineError(r: { status: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^codex: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('codex basics', () => {
  it.each([['--help'], ['exec', '--help'], ['completion', 'bash'], ['profile', 'list']])(
    '`codex %s | true`: a reader gone before the output (EPIPE) is exit 0, nothing on stderr',
    (...args) => {
      const script = `"${process.execPath}" "${BIN}" ${args.join(' ')} | true; exit \${PIPESTATUS[0]}`;
      const r = spawnSync('bash', ['-c', script], {
        encoding: 'utf8',
        env: { ...process.env, CODEX_HOME: home },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );

  it('--version prints the package version', () => {
    const r = codex(['--version']);
    expect(r).toEqual({ status: 0, stdout: `codex ${pkg.version}\n`, stderr: '' });
    expect(codex(['-V']).stdout).toBe(`codex ${pkg.version}\n`);
  });

  it('--help lists commands and exit codes; no command prints help to stderr and exits 2', () => {
    const r = codex(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Commands:[\s\S]*profile/);
    expect(r.stdout).toMatch(/Exit codes: 0 success, 1 failure, 2 usage/);
    const bare = codex([]);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/Usage: codex/);
  });

  it('help <command> shows that command', () => {
    const r = codex(['help', 'profile']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: codex profile list/);
  });
});

describe('bad input: one clear line, non-zero exit, no stack trace', () => {
  it('unknown command, with a suggestion', () => {
    expectOneLineError(codex(['profil']), /unknown command "profil"; did you mean "profile"\?/);
    expectOneLineError(codex(['zzzzzz']), /unknown command "zzzzzz"/);
  });

  it('unknown flag, before or after the command', () => {
    expectOneLineError(codex(['--frobnicate', 'profile']), /unknown option '--frobnicate'/);
    expectOneLineError(codex(['profile', 'list', '--frobnicate']), /unknown option '--frobnicate'/);
  });

  it('unknown profile lists the valid ones', () => {
    expectOneLineError(
      codex(['--profile', 'yolo', 'profile', 'show']),
      /unknown security profile "yolo"; valid profiles: offline, net-read-only, workspace-write, workspace-net, trusted/,
    );
    expectOneLineError(codex(['profile', 'show', 'nope']), /unknown security profile "nope"/);
  });

  it('malformed TOML names the file, line and column', () => {
    writeFileSync(join(home, 'config.toml'), 'profile = "offline"\n[sandbox\n');
    expectOneLineError(
      codex(['profile', 'show'], { home }),
      new RegExp(`${home}/config.toml: .*line 2, column`),
    );
  });

  it('bad values name the file and the key', () => {
    writeFileSync(join(home, 'config.toml'), 'profile = "yolo"\n');
    expectOneLineError(
      codex(['profile', 'show'], { home }),
      /config\.toml: profile: unknown security profile "yolo"/,
    );
    writeFileSync(join(home, 'config.toml'), '[audit]\ndurability = "sometimes"\n');
    expectOneLineError(codex(['config', 'show'], { home }), /config\.toml: audit\.durability: /);
    writeFileSync(join(home, 'config.toml'), '[sandbox]\nextra_writeable_roots = ["/x"]\n');
    expectOneLineError(codex(['config', 'show'], { home }), /sandbox\.extra_writeable_roots: unknown key/);
  });

  it('--config pointing at a directory is a clear error', () => {
    expectOneLineError(codex(['--config', home, 'config', 'show']), /cannot read file \(EISDIR\)/);
  });

  it('--json turns errors into one JSON line on stderr', () => {
    const r = codex(['--json', 'nosuch']);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stderr)).toEqual({
      error: { code: 'USAGE', message: 'unknown command "nosuch"; run "codex --help" for the list' },
    });
  });

  it('--debug adds the stack trace', () => {
    const r = codex(['--debug', '--profile', 'yolo', 'profile', 'show']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/UnknownProfileError[\s\S]*\n\s+at /);
  });
});

describe('profiles and config', () => {
  it('defaults to offline when nothing is configured', () => {
    const r = codex(['profile', 'show', '--json'], { home });
    expect(r.status).toBe(0);
    const policy = JSON.parse(r.stdout);
    expect(policy).toMatchObject({
      profile: 'offline',
      writableRoots: [],
      network: { mode: 'none' },
      skipSandbox: false,
    });
  });

  it('precedence: --profile > CODEX_PROFILE > config > default', () => {
    writeFileSync(join(home, 'config.toml'), 'profile = "workspace"\n');
    const show = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = codex(['config', 'show', '--json', ...args], { home, env });
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      return `${j.profile}/${j.profileSource}`;
    };
    expect(show([])).toBe('workspace-write/config');
    expect(show([], { CODEX_PROFILE: 'net-read-only' })).toBe('net-read-only/env');
    expect(show(['--profile', 'workspace-net'], { CODEX_PROFILE: 'net-read-only' })).toBe(
      'workspace-net/flag',
    );
    rmSync(join(home, 'config.toml'));
    expect(show([])).toBe('offline/default');
  });

  it('workspace roots default to the current directory', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'codex-ws-'));
    try {
      const r = codex(['--profile', 'workspace-write', 'profile', 'show'], { home, cwd });
      const policy = JSON.parse(r.stdout);
      expect(policy.writableRoots[0].root).toBe(cwd);
      expect(policy.writableRoots[0].readOnlySubpaths).toContain(join(cwd, '.git'));
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('trusted skips the sandbox only when asked for by name', () => {
    const r = codex(['--profile', 'trusted', 'profile', 'show'], { home });
    expect(JSON.parse(r.stdout).skipSandbox).toBe(true);
  });

  it('profile list marks the effective profile', () => {
    const r = codex(['profile', 'list', '--no-color'], { home });
    expect(r.stdout).toMatch(/^offline \*/m);
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('NO_COLOR and FORCE_COLOR are honoured', () => {
    expect(codex(['profile', 'list'], { home, env: { FORCE_COLOR: '1' } }).stdout).toMatch(/\u001b\[2m/);
    expect(codex(['profile', 'list'], { home, env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toMatch(
      /\u001b\[/,
    );
  });
});
