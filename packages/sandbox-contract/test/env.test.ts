import { describe, expect, it } from 'vitest';
import { findObservedDenials } from '../src/denials.js';
import { requestEnv, sanitizeEnv } from '../src/env.js';

describe('sanitizeEnv (allow-list)', () => {
  const env = {
    PATH: '/usr/bin',
    HOME: '/root',
    LANG: 'C',
    LC_ALL: 'C.UTF-8',
    GITHUB_TOKEN: 'x',
    AWS_REGION: 'eu',
    // The red-team findings: names no deny-list covered.
    MYSQL_PWD: 'x',
    SSHPASS: 'x',
    BW_SESSION: 'x',
    OP_SESSION_my: 'x',
    CI_JOB_JWT: 'x',
    SENTRY_DSN: 'https://abc@o1.ingest.sentry.io/1',
    UPSTREAM: 'https://user:hunter2@git.example/repo',
    UNSET: undefined,
  };
  it('passes only the core set and reports every other name', () => {
    const r = sanitizeEnv(env);
    expect(Object.keys(r.env).sort()).toEqual(['HOME', 'LANG', 'LC_ALL', 'PATH']);
    for (const n of [
      'MYSQL_PWD',
      'SSHPASS',
      'BW_SESSION',
      'OP_SESSION_my',
      'CI_JOB_JWT',
      'SENTRY_DSN',
      'UPSTREAM',
    ])
      expect(r.stripped).toContain(n);
    expect(r.stripped).not.toContain('UNSET');
  });
  it('drops a core-set variable that carries a URL with a password', () => {
    const r = sanitizeEnv({ PATH: '/bin', TERM: 'https://u:p@evil.example/' });
    expect(r.env).toEqual({ PATH: '/bin' });
    expect(r.stripped).toEqual(['TERM']);
  });
  it('is extended by config: exact names and PREFIX*', () => {
    const r = sanitizeEnv(env, { allow: ['AWS_REGION', 'OP_*'] });
    expect(r.env.AWS_REGION).toBe('eu');
    expect(r.env.OP_SESSION_my).toBe('x');
    expect(r.env.GITHUB_TOKEN).toBeUndefined();
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

describe('requestEnv (what every backend gives the command)', () => {
  const host = { PATH: '/usr/bin', AWS_SECRET_ACCESS_KEY: 'x', EMPTY: undefined };
  it('scrubs the request env, else the fallback, unless hygiene is off', () => {
    expect(requestEnv({}, host)).toEqual({ env: { PATH: '/usr/bin' }, stripped: ['AWS_SECRET_ACCESS_KEY'] });
    expect(requestEnv({ env: { HOME: '/h', TOKEN: 't' } }, host)).toEqual({
      env: { HOME: '/h' },
      stripped: ['TOKEN'],
    });
    expect(requestEnv({ envHygiene: false }, host)).toEqual({
      env: { PATH: '/usr/bin', AWS_SECRET_ACCESS_KEY: 'x' },
      stripped: [],
    });
    expect(requestEnv({ envHygiene: { allow: ['TOKEN'] }, env: { TOKEN: 't' } }, host).env).toEqual({
      TOKEN: 't',
    });
  });
});
