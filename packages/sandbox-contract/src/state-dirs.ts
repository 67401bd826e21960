import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Codex's per-user cache: `$XDG_CACHE_HOME/codex` (when that is absolute), else `~/.cache/codex`;
 * `%LOCALAPPDATA%\codex` on Windows. It holds the sandbox probe, the helper fallback and the CLI's
 * compiled code (apps/cli/src/bin.ts finds it the same way, without loading this package), so the
 * sandboxes keep it read-only inside a writable workspace.
 */
export function codexCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'codex');
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : undefined;
  return join(xdg ?? join(env.HOME || tmpdir(), '.cache'), 'codex');
}
