import { describe, expect, it } from 'vitest';
import { findObservedDenials } from '../src/denials.js';
import { sanitizeEnv } from '../src/env.js';

describe('sanitizeEnv', () => {
  const env = {
    PATH: '/usr/bin',
    HOME: '/root',
    GITHUB_TOKEN: 'x',
    NPM_TOKEN: 'x',
    AWS_REGION: 'eu',
    GH_HOST: 'x',
    MY_API_KEY: 'x',
    DB_PASSWORD: 'x',
    client_secret: 'x',
    GOOGLE_APPLICATION_CREDENTIALS: '/k.json',
    LANG: 'C',
    UNSET: undefined,
  };
  it('strips secrets by default and reports their names', () => {
    const r = sanitizeEnv(env);
    expect(Object.keys(r.env).sort()).toEqual(['HOME', 'LANG', 'PATH']);
    expect(r.stripped).toContain('GITHUB_TOKEN');
    expect(r.stripped).toContain('client_secret');
    expect(r.stripped).not.toContain('UNSET');
  });
  it('is configurable: allow names and custom rules', () => {
    const r = sanitizeEnv(env, { allowNames: ['AWS_REGION'], denySubstrings: ['LANG'] });
    expect(r.env.AWS_REGION).toBe('eu');
    expect(r.env.LANG).toBeUndefined();
    expect(r.env.MY_API_KEY).toBe('x'); // the default substrings were replaced
  });
});

describe('findObservedDenials', () => {
  it('classifies typical denial messages', () => {
    const d = findObservedDenials(
      'sh: 1: cannot create /etc/x: Read-only file system\ncurl: (7) Failed to connect: Connection refused\nPermissionError: [Errno 1] Operation not permitted\nbash: fork: retry: Resource temporarily unavailable\nfine line',
    );
    expect(d.map((x) => x.kind)).toEqual(['read-only-filesystem', 'network', 'permission', 'process-limit']);
  });
});
