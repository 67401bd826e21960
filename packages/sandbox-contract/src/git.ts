/**
 * `core.hooksPath` from the text of a git config file, or null. Git runs the hooks in that
 * directory outside any sandbox, so backends protect it like `.git` when it lies inside a
 * writable root. Understands `[core]` sections (any case), `hooksPath = value` with optional
 * quotes; the last assignment wins, as in git.
 */
export function hooksPathFromGitConfig(text: string): string | null {
  let inCore = false;
  let found: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inCore = /^\[core\]$/i.test(line);
      continue;
    }
    if (!inCore) continue;
    const m = /^hookspath\s*=\s*(.*?)\s*(?:[#;].*)?$/i.exec(line);
    if (m?.[1]) found = m[1].replace(/^"(.*)"$/, '$1');
  }
  return found;
}
