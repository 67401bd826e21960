import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codex } from './helpers.js';

// The original Codex CLI's surface: -s/--sandbox, -c key=value, its config keys, `sandbox linux`.
let home: string;
let ws: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  ws = mkdtempSync(join(tmpdir(), 'codex-ws-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(ws, { recursive: true, force: true });
});

const run = (args: string[]) => codex(args, { home, cwd: ws });

describe("the original CLI's flags and config keys", () => {
  it('-s picks the profile by the original mode names (or a profile name); with --profile it is a usage error', () => {
    const show = (args: string[]) => JSON.parse(run([...args, 'config', 'show', '--json']).stdout);
    expect(show(['-s', 'read-only'])).toMatchObject({ profile: 'offline', profileSource: 'flag' });
    expect(show(['--sandbox', 'workspace-write'])).toMatchObject({ profile: 'workspace-write' });
    expect(show(['-s', 'danger-full-access'])).toMatchObject({ profile: 'trusted' });
    expect(show(['-s', 'workspace-net'])).toMatchObject({ profile: 'workspace-net' });
    const both = run(['-s', 'read-only', '-p', 'offline', 'config', 'show']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--profile and -s\/--sandbox both choose the profile/);
    expect(run(['-s', 'bogus', 'config', 'show'])).toMatchObject({ status: 2 });
  });

  it('-s applies to the sandbox: read-only refuses a write that workspace-write makes', () => {
    const write = (mode: string) => run(['exec', '-s', mode, '--', 'sh', '-c', 'echo x > out.txt']);
    const ro = write('read-only');
    expect(ro.status).not.toBe(0);
    expect(existsSync(join(ws, 'out.txt'))).toBe(false);
    const rw = write('workspace-write');
    expect(rw.status, rw.stderr).toBe(0);
    expect(existsSync(join(ws, 'out.txt'))).toBe(true);
  });

  it('-c key=value overrides the config (before or after the command); bad ones name the key', () => {
    const shown = JSON.parse(
      run(['-c', 'approval.mode=untrusted', 'config', 'show', '--json', '-c', 'sandbox.env_allow=["CI"]'])
        .stdout,
    );
    expect(shown.config.approval.mode).toBe('untrusted');
    expect(shown.config.sandbox.env_allow).toEqual(['CI']);
    // the override changes what exec does: under untrusted an unknown command is asked, so refused here
    const asked = run(['-c', 'approval.mode=untrusted', 'exec', '--', 'npm', '--version']);
    expect(asked.status).toBe(125);
    const bad = run(['-c', 'sandbox.require_full_isolation=maybe', 'config', 'show']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/sandbox\.require_full_isolation/);
  });

  it('a config.toml written for the original loads, its agent-only keys listed as ignored', () => {
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'config.toml'),
      'model = "o3"\nsandbox_mode = "workspace-write"\napproval_policy = "never"\n[sandbox_workspace_write]\nnetwork_access = true\n',
    );
    const r = run(['config', 'show']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/effective profile: workspace-net \(from config\)/);
    expect(r.stdout).toMatch(/ignored \(.*\): model/);
    writeFileSync(join(home, 'config.toml'), 'approval_policy = "on-failure"\n');
    const old = run(['config', 'show']);
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/approval_policy: "on-failure" is replaced by approval\.mode = "on-request"/);
  });

  it('codex sandbox linux runs like sandbox run here; macos and windows say they need their OS', (t) => {
    if (process.platform !== 'linux') return t.skip('the linux alias runs on Linux only');
    const r = run(['sandbox', 'linux', '--', 'echo', 'inside']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('inside\n');
    expect(r.stderr).toMatch(/linux sandbox, rung/);
    for (const os of ['macos', 'windows']) {
      const other = run(['sandbox', os, '--', 'true']);
      expect(other.status).toBe(2);
      expect(other.stderr).toMatch(new RegExp(`codex sandbox ${os} runs the .* sandbox, which needs`));
    }
  });
});
