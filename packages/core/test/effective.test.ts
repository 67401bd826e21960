import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, UnknownApprovalModeError } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { effectiveApprovalMode, effectiveProfile, resolveSettings } from '../src/index.js';

const loaded = (setsProfile: boolean) => ({
  config: { ...defaultConfig(), profile: 'net-read-only' as const },
  setsProfile,
});

describe('effectiveProfile', () => {
  it('takes the flag over CODEX_PROFILE over the config over the default', () => {
    expect(effectiveProfile(loaded(false), {})).toEqual({ profile: 'net-read-only', source: 'default' });
    expect(effectiveProfile(loaded(true), {})).toEqual({ profile: 'net-read-only', source: 'config' });
    expect(effectiveProfile(loaded(true), { CODEX_PROFILE: 'offline' })).toEqual({
      profile: 'offline',
      source: 'env',
    });
    expect(
      effectiveProfile(loaded(true), { CODEX_PROFILE: 'offline' }, { profile: 'workspace-write' }),
    ).toEqual({
      profile: 'workspace-write',
      source: 'flag',
    });
    expect(effectiveProfile(loaded(false), {}, { sandbox: 'read-only' }).source).toBe('flag');
  });

  it('rejects an unknown profile name', () => {
    expect(() => effectiveProfile(loaded(false), { CODEX_PROFILE: 'root' })).toThrow(/root/);
    expect(() => effectiveProfile(loaded(false), {}, { profile: 'root' })).toThrow(/root/);
  });
});

describe('effectiveApprovalMode', () => {
  it('takes the flag over CODEX_APPROVAL_MODE over the config', () => {
    const config = defaultConfig();
    expect(effectiveApprovalMode(config, {})).toEqual({ mode: config.approval.mode, source: 'config' });
    expect(effectiveApprovalMode(config, { CODEX_APPROVAL_MODE: '' })).toEqual({
      mode: config.approval.mode,
      source: 'config',
    });
    expect(effectiveApprovalMode(config, { CODEX_APPROVAL_MODE: 'never' })).toEqual({
      mode: 'never',
      source: 'env',
    });
    expect(effectiveApprovalMode(config, { CODEX_APPROVAL_MODE: 'never' }, 'untrusted')).toEqual({
      mode: 'untrusted',
      source: 'flag',
    });
    expect(() => effectiveApprovalMode(config, {}, 'sometimes')).toThrow(UnknownApprovalModeError);
  });
});

describe('resolveSettings', () => {
  it('loads $CODEX_HOME/config.toml (or the given file, with -c overrides) and picks the profile', () => {
    const home = mkdtempSync(join(tmpdir(), 'codex-settings-'));
    try {
      const none = resolveSettings({ CODEX_HOME: home });
      expect(none).toMatchObject({
        codexHome: home,
        configPath: `${home}/config.toml`,
        configExists: false,
        profile: 'offline',
        profileSource: 'default',
        explicitProfile: false,
      });
      writeFileSync(join(home, 'config.toml'), 'profile = "workspace-write"\nmodel = "o3"\n');
      const file = resolveSettings({ CODEX_HOME: home });
      expect(file).toMatchObject({ configExists: true, profile: 'workspace-write', profileSource: 'config' });
      expect(file.explicitProfile).toBe(true);
      expect(file.configIgnored).toEqual(['model']);
      const other = join(home, 'other.toml');
      const given = resolveSettings(
        { CODEX_HOME: home, CODEX_PROFILE: 'net-read-only' },
        { configFile: other, overrides: ['approval.mode="never"'], sandbox: 'read-only' },
      );
      expect(given).toMatchObject({ configPath: other, profile: 'offline', profileSource: 'flag' });
      expect(given.config.approval.mode).toBe('never');
      expect(() => resolveSettings({ CODEX_HOME: home }, { profile: 'root' })).toThrow(/root/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
