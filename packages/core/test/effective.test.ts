import { defaultConfig, UnknownApprovalModeError } from '@codex/security-profile';
import { describe, expect, it } from 'vitest';
import { effectiveApprovalMode, effectiveProfile } from '../src/index.js';

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
