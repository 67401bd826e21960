/**
 * Glob patterns for server and tool names: `*` matches any run of characters (including none),
 * `?` exactly one, everything else literally. Matching is case-sensitive and anchored.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Number of literal (non-wildcard) characters: the more, the more specific the pattern. */
export function globSpecificity(pattern: string): number {
  let n = 0;
  for (const ch of pattern) if (ch !== '*' && ch !== '?') n++;
  return n;
}

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
