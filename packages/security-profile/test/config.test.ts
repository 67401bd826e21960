import { describe, expect, it } from 'vitest';
import {
  APPROVAL_MODES,
  ConfigError,
  codexConfigSchema,
  configSyntaxError,
  defaultConfig,
  parseApprovalMode,
  parseConfig,
  UnknownApprovalModeError,
} from '../src/index.js';

describe('config schema', () => {
  it('defaults to the offline profile with audit on', () => {
    const c = defaultConfig();
    expect(c.profile).toBe('offline');
    expect(c.audit).toEqual({ enabled: true, path: 'audit/audit.jsonl', durability: 'batch' });
    expect(c.sandbox.extra_writable_roots).toEqual([]);
    expect(c.approval.mode).toBe('on-request');
    expect(parseConfig(undefined)).toEqual(c);
  });

  it('defaultConfig() is exactly what the schema makes of {}, as a fresh object each call', () => {
    expect(defaultConfig()).toStrictEqual(codexConfigSchema.parse({}));
    const a = defaultConfig();
    a.sandbox.deny_read.push('/x');
    a.egress.profiles.offline = { allow: ['evil.test'] };
    expect(defaultConfig()).toStrictEqual(codexConfigSchema.parse({}));
  });

  it('reads approval.mode and names the valid modes for a bad one', () => {
    expect(parseConfig({ approval: { mode: 'never' } }).approval.mode).toBe('never');
    expect(() => parseConfig({ approval: { mode: 'sometimes' } }, 'cfg.toml')).toThrow(
      /^cfg\.toml: approval\.mode: .*untrusted.*on-request.*never/,
    );
    expect(APPROVAL_MODES.map(parseApprovalMode)).toEqual(['untrusted', 'on-request', 'never']);
    expect(parseApprovalMode(' Never ')).toBe('never');
    expect(() => parseApprovalMode('auto')).toThrow(UnknownApprovalModeError);
    expect(() => parseApprovalMode('auto')).toThrow(
      'unknown approval mode "auto"; valid modes: untrusted, on-request, never',
    );
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

describe('configSyntaxError', () => {
  it('one line naming the file, for JSON and for TOML (line and column)', () => {
    let json: unknown;
    try {
      JSON.parse('{');
    } catch (error) {
      json = error;
    }
    const j = configSyntaxError('m.json', 'json', json);
    expect(j).toBeInstanceOf(ConfigError);
    expect(j.message).toMatch(/^m\.json.*JSON syntax error: /);
    const toml = Object.assign(new Error('Invalid value\n  a = \n    ^'), { line: 1, column: 5 });
    expect(configSyntaxError('c.toml', 'toml', toml).message).toMatch(
      /c\.toml.*TOML syntax error at line 1, column 5: Invalid value$/,
    );
  });
});
