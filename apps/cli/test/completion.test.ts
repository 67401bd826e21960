import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codex } from './helpers.js';

// Real shells: bash is always there; zsh and fish are checked where installed (CI installs them).
const CI = process.env.CI === 'true';
const shellPath = (name: string) => ['/usr/bin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));

let dir: string;
const scripts: Record<string, string> = {};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-completion-'));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = codex(['completion', shell]);
    expect(r.status, r.stderr).toBe(0);
    scripts[shell] = join(dir, `codex.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function complete(words: string[]): string[] {
  const script = `source ${JSON.stringify(scripts.bash)}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _codex; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('codex completion', () => {
  it('bash completes commands, a command’s actions and its flags (from the declaration its --help is made from)', () => {
    expect(complete(['codex', 'au'])).toEqual(['audit']);
    expect(complete(['codex', 'audit', 've'])).toEqual(['verify']);
    expect(complete(['codex', '--json', 'exec', '--ask'])).toEqual(['--ask-for-approval']);
    expect(complete(['codex', 'sandbox', '--requ'])).toEqual(['--require-full-isolation']);
    expect(complete(['codex', '--pro'])).toEqual(['--profile']);
    // after `--` the words belong to the command being run
    expect(complete(['codex', 'exec', '--', 'au'])).toEqual([]);
    expect(complete(['codex', 'exec', '--', '--he'])).toEqual([]);
    // a global flag's value is not the command's name
    expect(complete(['codex', '-p', 'trusted', 'exec', '--ti'])).toEqual(['--timeout']);
    expect(complete(['codex', '--config', 'c.toml', 'au'])).toEqual(['audit']);
    // a command's positional values, and no old spellings the help does not show
    expect(complete(['codex', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'fish', 'zsh']));
    expect(complete(['codex', 'completion', 'z'])).toEqual(['zsh']);
    expect(complete(['codex', 'plugin', '--timeout'])).toEqual(['--timeout']);
    // every flag a command's help mentions is offered for it
    const help = codex(['research', '--help']);
    for (const flag of help.stdout.match(/--[a-z][a-z0-9-]*/g) ?? [])
      expect(complete(['codex', 'research', flag])).toContain(flag);
  });

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it(`the ${shell} script is valid ${shell} syntax`, (t) => {
      const bin = shellPath(shell);
      if (!bin) {
        if (CI) throw new Error(`CI=true requires ${shell} for the completion test`);
        return t.skip(`${shell} is not installed`);
      }
      const r = spawnSync(bin, ['-n', scripts[shell]!], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    });
  }

  it('fish completes from its script', (t) => {
    if (!shellPath('fish')) {
      if (CI) throw new Error('CI=true requires fish for the completion test');
      return t.skip('fish is not installed');
    }
    const r = spawnSync(
      'fish',
      ['--no-config', '-c', `source ${scripts.fish}; complete -C "codex audit ve"`],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stdout.split('\n')[0]).toBe('verify');
    // after `--` the words belong to the command being run
    const after = spawnSync(
      'fish',
      ['--no-config', '-c', `source ${scripts.fish}; complete -C "codex exec -- --he"`],
      {
        encoding: 'utf8',
      },
    );
    expect(after.stdout).toBe('');
  });

  it('an unknown or missing shell is a usage error (exit 2)', () => {
    expect(codex(['completion', 'tcsh'])).toMatchObject({ status: 2, stdout: '' });
    expect(codex(['completion']).stderr).toMatch(/missing <shell>/);
  });
});
