import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  EGRESS_PRESETS,
  egressListsFor,
  egressPatternProblem,
  expandEgressPatterns,
  PolicyConflictError,
  parseConfig,
  toSandboxPolicy,
} from '../src/index.js';

describe('egress patterns', () => {
  it.each(['*', 'example.com', '*.example.com', 'registry.test', '127.0.0.1', '[::1]', 'preset:npm'])(
    'accepts %s',
    (p) => expect(egressPatternProblem(p)).toBeNull(),
  );
  it.each([
    ['', 'must be'],
    ['Example.com', 'lower case'],
    ['ex*mple.com', 'must be'],
    ['*.', 'must be'],
    ['a..b', 'must be'],
    ['http://example.com', 'must be'],
    ['example.com:443', 'must be'],
    ['preset:nope', 'unknown preset "nope"'],
    ['**.example.com', 'must be'],
  ])('rejects %j', (p, problem) => expect(egressPatternProblem(p)).toContain(problem));

  it('expands presets and removes duplicates', () => {
    expect(expandEgressPatterns(['preset:pypi', 'pypi.org', 'x.test'])).toEqual([
      ...EGRESS_PRESETS.pypi,
      'x.test',
    ]);
  });
});

describe('[egress] config', () => {
  it('defaults to nothing allowed', () => {
    const c = parseConfig({});
    expect(egressListsFor(c, 'workspace-net')).toEqual({ allow: [], deny: [], allowAddresses: [] });
  });

  it('merges the shared lists with the profile block', () => {
    const c = parseConfig({
      egress: {
        allow: ['preset:github'],
        deny: ['gist.github.com'],
        allow_addresses: ['10.1.0.0/16'],
        profiles: { 'workspace-net': { allow: ['preset:npm'] }, 'net-read-only': { deny: ['*'] } },
      },
    });
    expect(egressListsFor(c, 'workspace-net')).toEqual({
      allow: ['preset:github', 'preset:npm'],
      deny: ['gist.github.com'],
      allowAddresses: ['10.1.0.0/16'],
    });
    expect(egressListsFor(c, 'net-read-only').deny).toEqual(['gist.github.com', '*']);
    const p = toSandboxPolicy('workspace-net', { egress: egressListsFor(c, 'workspace-net') });
    expect(p.network.mode === 'proxied' && p.network.allow).toContain('registry.npmjs.org');
  });

  it('names the file, key and problem on one line', () => {
    expect(() => parseConfig({ egress: { allow: ['ok.test', 'preset:nmp'] } }, 'config.toml')).toThrow(
      'config.toml: egress.allow.1: unknown preset "nmp"; presets: npm, pypi, crates, github, go',
    );
    expect(() => parseConfig({ egress: { profiles: { offline: { allow: ['*'] } } } }, 'c.toml')).toThrow(
      ConfigError,
    );
    expect(() => parseConfig({ egress: { allow_addresses: ['10.0.0.1'] } }, 'c.toml')).toThrow(
      'c.toml: egress.allow_addresses.0: must be a CIDR range',
    );
  });

  it('refuses a malformed entry handed straight to the policy builder', () => {
    expect(() => toSandboxPolicy('workspace-net', { egress: { allow: ['HTTP://x'] } })).toThrow(
      PolicyConflictError,
    );
  });

  it('offline and workspace-write stay without network whatever the lists say', () => {
    expect(toSandboxPolicy('offline', { egress: { allow: ['*'] } }).network).toEqual({ mode: 'none' });
    expect(toSandboxPolicy('workspace-write', { egress: { allow: ['*'] } }).network).toEqual({
      mode: 'none',
    });
  });
});
