import { describe, expect, it } from 'vitest';
import { hooksPathFromGitConfig } from '../src/index.js';

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
