import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyOverrides, loadConfig, profileForSandboxMode, translateOriginalConfig } from '../src/index.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-compat-'));
  file = join(dir, 'config.toml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (toml: string, overrides: string[] = []) => {
  writeFileSync(file, toml);
  return loadConfig(file, { overrides });
};

describe("the original CLI's config keys", () => {
  it('a config written for the original loads: modes mapped, agent-only keys ignored and reported', () => {
    const got = load(`model = "o3"
model_provider = "openai"
sandbox_mode = "workspace-write"
approval_policy = "untrusted"
[sandbox_workspace_write]
writable_roots = ["/srv/cache"]
exclude_slash_tmp = false
[history]
persistence = "none"
[mcp_servers.docs]
command = "docs-server"
`);
    expect(got.config.profile).toBe('workspace-write');
    expect(got.setsProfile).toBe(true);
    expect(got.config.approval.mode).toBe('untrusted');
    expect(got.config.sandbox.extra_writable_roots).toEqual(['/srv/cache']);
    expect(got.ignored).toEqual(['model', 'model_provider', 'history', 'mcp_servers']);
  });

  it('each sandbox mode maps to a profile; network_access picks the networked one', () => {
    expect(load('sandbox_mode = "read-only"').config.profile).toBe('offline');
    expect(load('sandbox_mode = "danger-full-access"').config.profile).toBe('trusted');
    expect(
      load('sandbox_mode = "workspace-write"\n[sandbox_workspace_write]\nnetwork_access = true').config
        .profile,
    ).toBe('workspace-net');
    expect(profileForSandboxMode('read-only')).toBe('offline');
    expect(profileForSandboxMode('workspace-net')).toBe('workspace-net'); // a profile name works too
    expect(() => profileForSandboxMode('bogus')).toThrow(/valid profiles/);
  });

  it('keys with no equivalent are refused, naming the key and the replacement', () => {
    expect(() => load('approval_policy = "on-failure"')).toThrow(
      /approval_policy: .*approval\.mode = "on-request"/,
    );
    expect(() => load('[sandbox_workspace_write]\nexclude_tmpdir_env_var = true')).toThrow(
      /exclude_tmpdir_env_var: not supported: .*private \/tmp/,
    );
    expect(() => load('sandbox_mode = "everything"')).toThrow(
      /sandbox_mode: must be one of read-only, workspace-write/,
    );
    expect(() => load('sandbox_mode = "read-only"\nprofile = "offline"')).toThrow(
      /either sandbox_mode or profile/,
    );
    expect(() => load('[sandbox_workspace_write]\nnetwork_access = true')).toThrow(/needs sandbox_mode/);
    expect(() => load('[sandbox_workspace_write]\nwritable_root = []')).toThrow(/writable_root: unknown key/);
    expect(() => load('approval_policy = "sometimes"')).toThrow(/approval\.mode/);
  });

  it('translation does not touch a config in this project’s own keys', () => {
    const own = { profile: 'offline', sandbox: { deny_read: ['~/x'] } };
    expect(translateOriginalConfig(own, 'x')).toEqual({ data: own, ignored: [] });
  });
});

describe('-c key=value overrides', () => {
  it('TOML values on dotted keys, over the file, and they win over its original-CLI keys', () => {
    const got = load('sandbox_mode = "workspace-write"\napproval_policy = "untrusted"', [
      'approval.mode=never',
      'sandbox.require_full_isolation=true',
      'sandbox.deny_read=["~/secrets"]',
      'sandbox_mode=read-only',
    ]);
    expect(got.config.approval.mode).toBe('never');
    expect(got.config.sandbox.require_full_isolation).toBe(true);
    expect(got.config.sandbox.deny_read).toEqual(['~/secrets']);
    expect(got.config.profile).toBe('offline');
    expect(applyOverrides({}, ['audit.path=logs/a.jsonl'])).toEqual({ audit: { path: 'logs/a.jsonl' } });
  });

  it('apply without a config file; bad keys and values are errors that name them', () => {
    expect(loadConfig(join(dir, 'missing.toml'), { overrides: ['profile=workspace-write'] })).toMatchObject({
      exists: false,
      setsProfile: true,
      config: { profile: 'workspace-write' },
    });
    expect(() => load('', ['sandbox.require_full_isolation=maybe'])).toThrow(
      /sandbox\.require_full_isolation: .*boolean/,
    );
    expect(() => load('', ['no-equals-sign'])).toThrow(/expected key=value/);
    expect(() => load('', ['sandbox.nope=1'])).toThrow(/unknown key sandbox\.nope/);
  });
});
