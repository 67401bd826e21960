import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DENY_READ,
  InvalidPathError,
  isWithin,
  isWritable,
  normalizeAbsolutePath,
  PolicyConflictError,
  SECURITY_PROFILES,
  toSandboxPolicy,
} from '../src/index.js';

describe('toSandboxPolicy', () => {
  it('offline: nothing writable, no network, full read, private tmp', () => {
    const p = toSandboxPolicy('offline', { workspaceRoots: ['/w'] });
    expect(p).toEqual({
      profile: 'offline',
      readableRoots: ['/'],
      fullDiskRead: true,
      writableRoots: [],
      fullDiskWrite: false,
      network: { mode: 'none' },
      privateTmp: true,
      skipSandbox: false,
      denyRead: [...DEFAULT_DENY_READ],
    });
    expect(isWritable(p, '/w/file')).toBe(false);
  });

  it('deny-read: built-in secrets in every profile but trusted, extendable and reducible', () => {
    expect(toSandboxPolicy('workspace-net').denyRead).toContain('~/.ssh');
    expect(toSandboxPolicy('trusted').denyRead).toEqual([]);
    const p = toSandboxPolicy('offline', {
      homeDir: '/home/me',
      denyRead: ['~/.config/secret-tool', '/srv/keys'],
      allowRead: ['~/.npmrc'],
    });
    expect(p.denyRead).toContain('/home/me/.ssh');
    expect(p.denyRead).toContain('/home/me/.config/secret-tool');
    expect(p.denyRead).toContain('/srv/keys');
    expect(p.denyRead).not.toContain('/home/me/.npmrc');
    expect(p.denyRead?.some((x) => x.startsWith('~'))).toBe(false);
  });

  it("protectedPaths: codex's own state stays read-only where it falls inside a writable root", () => {
    const p = toSandboxPolicy('workspace-write', {
      workspaceRoots: ['/home/me'],
      extraWritableRoots: ['/srv/data'],
      protectedPaths: ['/home/me/.cache/codex/', '/home/me/.codex', '/opt/codex-home', '/srv/data'],
    });
    const home = p.writableRoots.find((w) => w.root === '/home/me')!;
    expect(home.readOnlySubpaths).toEqual([
      '/home/me/.git',
      '/home/me/.codex',
      '/home/me/.agents',
      '/home/me/.cache/codex',
    ]);
    expect(isWritable(p, '/home/me/.cache/codex/v8-cache/x/exec.bin')).toBe(false);
    expect(isWritable(p, '/home/me/.cache/other')).toBe(true);
    // A root that is itself a protected path was chosen explicitly: it stays writable.
    expect(p.writableRoots.find((w) => w.root === '/srv/data')!.readOnlySubpaths).not.toContain('/srv/data');
    expect(toSandboxPolicy('offline', { protectedPaths: ['/home/me/.codex'] }).writableRoots).toEqual([]);
  });

  it('workspace-write: workspace writable except protected subpaths', () => {
    const p = toSandboxPolicy('workspace-write', { workspaceRoots: ['/home/me/proj/'] });
    expect(p.network.mode).toBe('none');
    expect(p.writableRoots).toEqual([
      {
        root: '/home/me/proj',
        readOnlySubpaths: ['/home/me/proj/.git', '/home/me/proj/.codex', '/home/me/proj/.agents'],
      },
    ]);
    expect(isWritable(p, '/home/me/proj/src/a.ts')).toBe(true);
    expect(isWritable(p, '/home/me/proj/.git/hooks/pre-commit')).toBe(false);
    expect(isWritable(p, '/home/me/proj/.gitignore')).toBe(true);
    expect(isWritable(p, '/home/me/proj/../other/x')).toBe(false);
    expect(isWritable(p, '/home/me/project2/x')).toBe(false);
    expect(isWritable(p, '/etc/passwd')).toBe(false);
  });

  it('workspace-net: same writes, network only through the egress proxy, any method', () => {
    const p = toSandboxPolicy('workspace-net', { workspaceRoots: ['/w'], extraWritableRoots: ['/cache'] });
    expect(p.network).toEqual({ mode: 'proxied', allow: [], deny: [], allowAddresses: [], methods: 'any' });
    expect(p.writableRoots.map((w) => w.root)).toEqual(['/cache', '/w']);
  });

  it('merges nested and duplicate writable roots', () => {
    const p = toSandboxPolicy('workspace-write', {
      workspaceRoots: ['/w', '/w/sub', '/w/'],
      extraWritableRoots: ['/w/./sub/deeper', '/x'],
    });
    expect(p.writableRoots.map((w) => w.root)).toEqual(['/w', '/x']);
  });

  it.each(['offline', 'net-read-only'] as const)('%s refuses extra writable roots', (profile) => {
    expect(() => toSandboxPolicy(profile, { extraWritableRoots: ['/tmp/x'] })).toThrow(PolicyConflictError);
  });

  it('net-read-only: network only through the egress proxy, read-only methods, disk read-only', () => {
    const p = toSandboxPolicy('net-read-only', {
      workspaceRoots: ['/w'],
      egress: { allow: ['preset:npm', 'example.com'], deny: ['*.evil.test'] },
    });
    expect(p.network).toEqual({
      mode: 'proxied',
      allow: ['registry.npmjs.org', 'registry.yarnpkg.com', 'example.com'],
      deny: ['*.evil.test'],
      allowAddresses: [],
      methods: 'read-only',
    });
    expect(p.writableRoots).toEqual([]);
  });

  it('trusted skips the sandbox only when explicit', () => {
    expect(toSandboxPolicy('trusted').skipSandbox).toBe(false);
    const p = toSandboxPolicy('trusted', { explicit: true });
    expect(p.skipSandbox).toBe(true);
    expect(p.fullDiskWrite).toBe(true);
    expect(isWritable(p, '/etc/hosts')).toBe(true);
    for (const other of SECURITY_PROFILES.filter((x) => x !== 'trusted')) {
      expect(toSandboxPolicy(other, { explicit: true }).skipSandbox).toBe(false);
    }
  });

  it('rejects relative and malformed paths', () => {
    expect(() => toSandboxPolicy('workspace-write', { workspaceRoots: ['proj'] })).toThrow(InvalidPathError);
    expect(() => toSandboxPolicy('offline', { workspaceRoots: ['./x'] })).toThrow(/must be absolute/);
    expect(() => toSandboxPolicy('workspace-write', { workspaceRoots: ['/a\0b'] })).toThrow(/NUL/);
    expect(() => toSandboxPolicy('workspace-write', { workspaceRoots: ['/..'] })).toThrow(/above the root/);
  });

  it('is a plain JSON-serialisable value', () => {
    const p = toSandboxPolicy('workspace-net', { workspaceRoots: ['/w'] });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe('paths', () => {
  it.each([
    ['/a/b/../c/./d//', '/a/c/d'],
    ['/', '/'],
    ['C:\\Users\\me\\..\\you', 'C:\\Users\\you'],
    ['c:/Users/me/proj/', 'C:\\Users\\me\\proj'],
    ['\\\\server\\share\\dir\\..\\x', '\\\\server\\share\\x'],
  ])('normalises %j', (input, expected) => {
    expect(normalizeAbsolutePath(input)).toBe(expected);
  });

  it('isWithin respects component boundaries and Windows case', () => {
    expect(isWithin('/a/bc', '/a/b')).toBe(false);
    expect(isWithin('/a/b/c', '/a/b')).toBe(true);
    expect(isWithin('/anything', '/')).toBe(true);
    expect(isWithin('C:\\USERS\\me', 'C:\\Users')).toBe(true);
  });

  it('Windows workspace roots protect .git too', () => {
    const p = toSandboxPolicy('workspace-write', { workspaceRoots: ['C:\\src\\proj'] });
    expect(p.writableRoots[0]!.readOnlySubpaths).toContain('C:\\src\\proj\\.git');
    expect(isWritable(p, 'c:\\src\\proj\\.GIT\\config')).toBe(false);
    expect(isWritable(p, 'C:\\src\\proj\\main.c')).toBe(true);
  });
});
