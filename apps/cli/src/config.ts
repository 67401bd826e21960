import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CodexConfig, ConfigError, defaultConfig, parseConfig } from '@codex/security-profile';
import { parse as parseToml, TomlError } from 'smol-toml';

/** `$CODEX_HOME`, defaulting to `~/.codex`. */
export function codexHome(env: NodeJS.ProcessEnv): string {
  return env.CODEX_HOME ? resolve(env.CODEX_HOME) : join(homedir(), '.codex');
}

export interface LoadedConfig {
  readonly config: CodexConfig;
  readonly path: string;
  /** False when the file does not exist (the defaults apply). */
  readonly exists: boolean;
  /** True when the file itself sets `profile`. */
  readonly setsProfile: boolean;
}

/**
 * Reads and validates a config file. A missing file yields the defaults; anything else that goes
 * wrong (unreadable, bad TOML, bad values) throws {@link ConfigError} naming the file and key.
 */
export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { config: defaultConfig(), path, exists: false, setsProfile: false };
    throw new ConfigError(path, [{ path: '', message: `cannot read file (${code ?? String(error)})` }]);
  }
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0] ?? 'syntax error';
      throw new ConfigError(path, [
        { path: '', message: `TOML syntax error at line ${error.line}, column ${error.column}: ${first}` },
      ]);
    }
    throw error;
  }
  const setsProfile = typeof data === 'object' && data !== null && 'profile' in data;
  return { config: parseConfig(data, path), path, exists: true, setsProfile };
}
