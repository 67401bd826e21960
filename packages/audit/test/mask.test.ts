import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMasker, redactSecrets } from '../src/index.js';

const unix = createMasker({ home: '/home/alice', user: 'alice' });
const mac = createMasker({ home: '/Users/alice', user: 'alice' });
const win = createMasker({ home: 'C:\\Users\\Alice', user: 'Alice' });

describe('home directory and user name', () => {
  it.each([
    [unix, '/home/alice/project/a.ts', '[HOME]/project/a.ts'],
    [unix, 'cat /home/alice', 'cat [HOME]'],
    [unix, 'file:///home/alice/x', 'file://[HOME]/x'],
    [unix, '/home/alicex/a', '/home/[USER]/a'], // someone else's home: name masked, not ours
    [unix, '/home/bob/.ssh/id_rsa', '/home/[USER]/.ssh/id_rsa'],
    [unix, '/srv/home/alice/a', '/srv/home/alice/a'.replace('alice', '[USER]')],
    [unix, 'owner alice wrote it', 'owner [USER] wrote it'],
    [unix, 'malice is not a name', 'malice is not a name'],
    [mac, '/Users/alice/Library/x', '[HOME]/Library/x'],
    [mac, '/Users/Shared/x', '/Users/Shared/x'],
    [win, 'C:\\Users\\Alice\\proj\\a.ts', '[HOME]\\proj\\a.ts'],
    [win, 'c:/users/alice/proj', '[HOME]/proj'],
    [win, 'D:\\Users\\Bob\\x', 'D:\\Users\\[USER]\\x'],
    [win, 'C:\\Users\\Public\\x', 'C:\\Users\\Public\\x'],
    [win, 'run by ALICE', 'run by [USER]'],
    [unix, 'C:\\Users\\alice\\x', '[HOME]\\x'], // the current user's Windows home, seen from Unix
  ])('%#: %s → %s', (mask, input, expected) => {
    expect(mask(input as string)).toBe(expected);
  });

  it('does not mask a short or common user name outside paths', () => {
    const root = createMasker({ home: '/root', user: 'root' });
    expect(root('/root/.bashrc and the workspace root')).toBe('[HOME]/.bashrc and the workspace root');
    const me = createMasker({ home: '/home/me', user: 'me' });
    expect(me('/home/me/x tell me')).toBe('[HOME]/x tell me');
  });
});

describe('secrets', () => {
  it.each([
    ['token ghp_0123456789abcdefghijABCDEFGHIJ012345 used', 'token [REDACTED] used'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', '[REDACTED]'],
    ['OPENAI sk-proj-abcdefghijklmnopqrstuvwxyz012345', 'OPENAI [REDACTED]'],
    ['aws AKIAIOSFODNN7EXAMPLE key', 'aws [REDACTED] key'],
    ['xoxb-123456789012-abcdefghijkl', '[REDACTED]'],
    [
      'curl -H "Authorization: Bearer abc.def.ghi" https://x',
      'curl -H "Authorization: [REDACTED]" https://x',
    ],
    ['authorization:basic dXNlcjpwYXNz', 'authorization:[REDACTED]'],
    ['git clone https://alice:hunter2@github.com/r.git', 'git clone https://[REDACTED]@github.com/r.git'],
    ['psql postgres://u:p%40ss@db:5432/x', 'psql postgres://[REDACTED]@db:5432/x'],
    ['ssh://git@github.com/r.git', 'ssh://git@github.com/r.git'],
    ['deploy --password=hunter2 --verbose', 'deploy --password=[REDACTED] --verbose'],
    ['deploy --token abc123 --dry-run', 'deploy --token [REDACTED] --dry-run'],
    ['deploy --api-key "a b c"', 'deploy --api-key [REDACTED]'],
    ['deploy --token --dry-run', 'deploy --token --dry-run'],
    ['mysql -u root -phunter2 shop', 'mysql -u root -p[REDACTED] shop'],
    ['mkdir -p /tmp/x', 'mkdir -p /tmp/x'],
    ['sshpass -p hunter2 ssh host', 'sshpass -p [REDACTED] ssh host'],
    ['GITHUB_TOKEN=abc npm publish', 'GITHUB_TOKEN=[REDACTED] npm publish'],
    ['export AWS_SECRET_ACCESS_KEY="wJalr/XUtnFEMI"', 'export AWS_SECRET_ACCESS_KEY=[REDACTED]'],
    ['db.password=x&user=y', 'db.password=[REDACTED]&user=y'],
    ['PATH=/usr/bin HOME=/x', 'PATH=/usr/bin HOME=/x'],
    ['{"password": "hunter2", "user": "x"}', '{"password": "[REDACTED]", "user": "x"}'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', '[REDACTED]'],
    ['plain text without secrets', 'plain text without secrets'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('masks secrets and paths together', () => {
    expect(unix('cat /home/alice/.env: API_KEY=xyz')).toBe('cat [HOME]/.env: API_KEY=[REDACTED]');
  });
});

/** Strings built from the fragments masking cares about, so collisions and overlaps are likely. */
const fragment = fc.constantFrom(
  '/home/alice',
  '/home/bob',
  'C:\\Users\\Alice',
  'c:/users/alice',
  '/Users/alice',
  'alice',
  'ALICE',
  '[HOME]',
  '[USER]',
  '[REDACTED]',
  'ghp_0123456789abcdefghijABCDEFGHIJ012345',
  'sk-abcdefghijklmnopqrstu',
  'AKIAIOSFODNN7EXAMPLE',
  'Authorization: ',
  'Bearer ',
  'https://',
  'u:p@',
  '@',
  ':',
  '--password',
  '--token',
  '=',
  ' ',
  '"',
  "'",
  '-p',
  'mysql ',
  'sshpass ',
  'TOKEN',
  'key',
  '/',
  '\\',
  '.',
  '-',
  'x',
  '\n',
);
const text = fc.oneof(
  fc.array(fragment, { maxLength: 12 }).map((a) => a.join('')),
  fc.string({ maxLength: 40 }),
);

describe('idempotence regressions found by fast-check', () => {
  it.each([
    ['mac', 'https:///home/alice\\u:p@'],
    ['unix', 'https:///home/alice\\u:p@'],
  ])('%s: %j masks to a fixed point in one call', (name, input) => {
    const mask = { unix, mac, windows: win }[name as 'unix' | 'mac' | 'windows'];
    const once = mask(input);
    expect(mask(once)).toBe(once);
  });
});

describe('properties', () => {
  it.each([
    ['unix', unix],
    ['mac', mac],
    ['windows', win],
  ])('masking is idempotent (%s)', (_name, mask) => {
    fc.assert(
      fc.property(text, (s) => {
        const once = mask(s);
        expect(mask(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });

  it('never leaves the home directory or a known token in the output', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const out = unix(
          `${a} /home/alice/${b.replace(/[\s/\\]/g, '')}x ghp_0123456789abcdefghijABCDEFGHIJ012345`,
        );
        expect(out).not.toContain(' /home/alice/');
        expect(out.endsWith(' [REDACTED]')).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
