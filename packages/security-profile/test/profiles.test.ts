import { describe, expect, it } from 'vitest';
import {
  CAPABILITIES,
  CodexError,
  DEFAULT_PROFILE,
  isSecurityProfile,
  parseProfile,
  profileAliases,
  profileWithin,
  SECURITY_PROFILES,
  UnknownProfileError,
} from '../src/index.js';

describe('profiles', () => {
  it('defaults to offline', () => {
    expect(DEFAULT_PROFILE).toBe('offline');
    expect(CAPABILITIES[DEFAULT_PROFILE]).toMatchObject({ write: 'none', network: 'none' });
  });

  it.each([
    ['offline', 'offline'],
    ['Offline', 'offline'],
    ['read-only', 'offline'],
    ['READ_ONLY', 'offline'],
    ['NetReadOnly', 'net-read-only'],
    ['net_read_only', 'net-read-only'],
    [' net-read-only ', 'net-read-only'],
    ['workspace', 'workspace-write'],
    ['WorkspaceWrite', 'workspace-write'],
    ['workspace-net', 'workspace-net'],
    ['WorkspaceNet', 'workspace-net'],
    ['full-access', 'trusted'],
    ['danger-full-access', 'trusted'],
    ['Trusted', 'trusted'],
  ])('parses %j as %s', (input, expected) => {
    expect(parseProfile(input)).toBe(expected);
  });

  it.each(['', 'yolo', 'offline2', 'trust', 'workspace-read', '__proto__', 'constructor', 'toString'])(
    'rejects %j with an error listing valid names',
    (input) => {
      let caught: unknown;
      try {
        parseProfile(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UnknownProfileError);
      expect(caught).toBeInstanceOf(CodexError);
      const err = caught as UnknownProfileError;
      expect(err.code).toBe('UNKNOWN_PROFILE');
      for (const name of SECURITY_PROFILES) expect(err.message).toContain(name);
    },
  );

  it('lists aliases and recognises canonical names only', () => {
    expect(profileAliases('trusted')).toContain('full-access');
    expect(profileAliases('offline')).not.toContain('offline');
    expect(isSecurityProfile('workspace-net')).toBe(true);
    expect(isSecurityProfile('workspace')).toBe(false);
  });

  it('only trusted needs explicit opt-in and only trusted is unsandboxed', () => {
    for (const p of SECURITY_PROFILES) {
      expect(CAPABILITIES[p].requiresExplicitOptIn).toBe(p === 'trusted');
      expect(CAPABILITIES[p].spawn === 'unrestricted').toBe(p === 'trusted');
    }
  });

  it('profileWithin compares capabilities (proxied network sits between none and full)', () => {
    const yes: [string, string][] = [
      ['offline', 'offline'],
      ['offline', 'net-read-only'],
      ['offline', 'workspace-write'],
      ['net-read-only', 'workspace-net'],
      ['workspace-write', 'workspace-net'],
      ['workspace-net', 'trusted'],
    ];
    const no: [string, string][] = [
      ['workspace-write', 'offline'],
      ['net-read-only', 'offline'],
      ['net-read-only', 'workspace-write'],
      ['workspace-write', 'net-read-only'],
      ['trusted', 'workspace-net'],
    ];
    for (const [p, c] of yes) expect(profileWithin(p as never, c as never), `${p} within ${c}`).toBe(true);
    for (const [p, c] of no) expect(profileWithin(p as never, c as never), `${p} within ${c}`).toBe(false);
    // Reflexive and a total pre-order on this matrix: every profile fits under trusted.
    for (const p of SECURITY_PROFILES) {
      expect(profileWithin(p, p)).toBe(true);
      expect(profileWithin(p, 'trusted')).toBe(true);
    }
  });
});
