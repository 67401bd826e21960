import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, parseConfig } from '../src/index.js';

describe('config schema', () => {
  it('defaults to the offline profile with audit on', () => {
    const c = defaultConfig();
    expect(c.profile).toBe('offline');
    expect(c.audit).toEqual({ enabled: true, path: 'audit/audit.jsonl', durability: 'batch' });
    expect(c.sandbox.extra_writable_roots).toEqual([]);
    expect(parseConfig(undefined)).toEqual(c);
  });

  it('normalises profile aliases', () => {
    expect(parseConfig({ profile: 'workspace' }).profile).toBe('workspace-write');
  });

  it('names the file, the key and the problem', () => {
    const cases: [unknown, RegExp][] = [
      [{ profile: 'yolo' }, /^cfg\.toml: profile: unknown security profile "yolo"; valid profiles: offline/],
      [{ profil: 'offline' }, /^cfg\.toml: profil: unknown key profil/],
      [
        { sandbox: { extra_writable_roots: ['rel'] } },
        /^cfg\.toml: sandbox\.extra_writable_roots\.0: must be an absolute path/,
      ],
      [{ audit: { durability: 'sometimes' } }, /^cfg\.toml: audit\.durability: /],
      [{ sandbox: { bogus: 1 } }, /^cfg\.toml: sandbox\.bogus: unknown key/],
      [{ profile: 3 }, /^cfg\.toml: profile: /],
    ];
    for (const [value, pattern] of cases) {
      let caught: unknown;
      try {
        parseConfig(value, 'cfg.toml');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).code).toBe('INVALID_CONFIG');
      expect((caught as ConfigError).message).toMatch(pattern);
    }
  });

  it('reports how many further problems exist', () => {
    expect(() => parseConfig({ a: 1, profile: 'x', audit: { enabled: 'yes' } }, 'f')).toThrow(
      /and \d more problem/,
    );
  });
});
