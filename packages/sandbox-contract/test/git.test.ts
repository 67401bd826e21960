import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GitConfigSyntaxError,
  gitConfigValue,
  hooksPathFromGitConfig,
  parseGitConfig,
  readGitConfig,
} from '../src/index.js';

describe('hooksPathFromGitConfig', () => {
  it('reads core.hooksPath (case-insensitive keys, quotes, comments, last wins)', () => {
    expect(hooksPathFromGitConfig('[core]\n\tbare = false\n\thooksPath = .husky\n')).toBe('.husky');
    expect(hooksPathFromGitConfig('[CORE]\nHOOKSPATH="/abs/hooks" # set by tool\n')).toBe('/abs/hooks');
    expect(hooksPathFromGitConfig('[core]\nhooksPath = a\n[core]\nhooksPath = b\n')).toBe('b');
  });
  it('ignores other sections and configs without it', () => {
    expect(hooksPathFromGitConfig('[alias]\nhooksPath = nope\n[core]\nbare = false\n')).toBeNull();
    expect(hooksPathFromGitConfig('')).toBeNull();
  });
});

describe('parseGitConfig: git semantics (issue 16 findings)', () => {
  it('a hooksPath value with a trailing comment, quotes, escapes and continuation', () => {
    expect(hooksPathFromGitConfig('[core]\n\thooksPath = evil/hooks ; set by attacker\n')).toBe('evil/hooks');
    expect(hooksPathFromGitConfig('[core]\n\thooksPath = "a;b" # c\n')).toBe('a;b');
    expect(hooksPathFromGitConfig('[core]\n\thooksPath = ev\\\nil\n')).toBe('evil');
    expect(hooksPathFromGitConfig('[core] hooksPath = on-header-line\n')).toBe('on-header-line');
    expect(hooksPathFromGitConfig('[core]\n\thooksPath = "with \\"q\\"" \n')).toBe('with "q"');
  });
  it('subsections, the deprecated dotted form, bare booleans, last one wins across sections', () => {
    const e = parseGitConfig(
      '[filter "lfs"]\n\tclean = git-lfs clean -- %f\n[Remote.Origin]\n\tURL = x\n[core]\n\tbare\n',
    );
    expect(gitConfigValue(e, 'filter.lfs.clean')).toBe('git-lfs clean -- %f');
    expect(gitConfigValue(e, 'remote.origin.url')).toBe('x');
    expect(gitConfigValue(e, 'core.bare')).toBeNull();
    expect(gitConfigValue(e, 'core.fsmonitor')).toBeUndefined();
  });
  it('refuses what git refuses', () => {
    expect(() => parseGitConfig('[core\nx=1\n')).toThrow(GitConfigSyntaxError);
    expect(() => parseGitConfig('[core]\nx = "open\n')).toThrow(GitConfigSyntaxError);
    expect(() => parseGitConfig('x = 1\n')).toThrow(GitConfigSyntaxError);
  });
  it('agrees with git itself on a tricky file', () => {
    const text =
      '[core]\n\thooksPath = h1 # c\n[core "x"]\n\thooksPath = no\n[CoRe]\n\tHooksPath = "h 2"\\\n3 ;x\n[include]\n\tpath = other.cfg\n';
    const dir = mkdtempSync(join(tmpdir(), 'gitcfg-'));
    try {
      writeFileSync(join(dir, 'c'), text);
      const git = execFileSync('git', ['config', '--file', join(dir, 'c'), '--get', 'core.hookspath'], {
        encoding: 'utf8',
      }).trimEnd();
      expect(hooksPathFromGitConfig(text)).toBe(git);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('readGitConfig follows include.path and includeIf paths, relative to the including file', () => {
    const files: Record<string, string> = {
      '/r/.git/config':
        '[include]\n\tpath = extra.cfg\n[includeIf "gitdir:/r/"]\n\tpath = /abs/if.cfg\n[include]\n\tpath = ../ws.cfg\n',
      '/r/ws.cfg': '',
      '/r/.git/extra.cfg': '[core]\n\tfsmonitor = ./run-me\n',
      '/abs/if.cfg': '[include]\n\tpath = ~/deep.cfg\n',
      '/home/u/deep.cfg': '[core]\n\thooksPath = /x\n',
    };
    const got = readGitConfig('/r/.git/config', { read: (p) => files[p] ?? null, home: '/home/u' });
    expect(got.map((f) => f.path)).toEqual([
      '/r/.git/config',
      '/r/.git/extra.cfg',
      '/abs/if.cfg',
      '/home/u/deep.cfg',
      '/r/ws.cfg',
    ]);
    expect(gitConfigValue(got[1]!.entries, 'core.fsmonitor')).toBe('./run-me');
  });
});
