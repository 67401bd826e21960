import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, isAbsolute, join, resolve } from 'node:path';
import {
  CAPABILITIES,
  type CodexConfig,
  ConfigError,
  configSyntaxError,
  defaultConfig,
  type EgressLists,
  egressListsFor,
  parseConfig,
  type SecurityProfile,
} from '@codex/security-profile';
import { parse as parseToml, TomlError } from '@codex/security-profile/toml';
import { applyOverrides, mergeTables, translateOriginalConfig } from './config-compat.js';

/** `$CODEX_HOME`, defaulting to `~/.codex`. */
export function codexHome(env: Readonly<Record<string, string | undefined>>): string {
  return env.CODEX_HOME ? resolve(env.CODEX_HOME) : join(homedir(), '.codex');
}

export interface LoadedConfig {
  readonly config: CodexConfig;
  readonly path: string;
  /** False when the file does not exist (the defaults apply). */
  readonly exists: boolean;
  /** True when the file (or a `-c` override) sets `profile` (or the original's `sandbox_mode`). */
  readonly setsProfile: boolean;
  /** The original CLI's agent-only keys (model, history…) found and ignored. */
  readonly ignored: readonly string[];
}

export interface LoadConfigOptions {
  /** `-c key=value` overrides, applied over the file before validation. */
  readonly overrides?: readonly string[];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(path, [{ path: '', message: `cannot read file (${code ?? String(error)})` }]);
  }
}

/** TOML or JSON; a syntax error is a one-line ConfigError. */
function parseText(path: string, text: string, format: 'toml' | 'json'): unknown {
  try {
    return format === 'json' ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    if (format === 'toml' && !(error instanceof TomlError)) throw error;
    throw configSyntaxError(path, format, error);
  }
}

/**
 * Reads and validates `config.toml`. A missing file yields the defaults; anything else that goes
 * wrong (unreadable, bad TOML, bad values) throws {@link ConfigError} naming the file and key.
 */
export function loadConfig(path: string, options: LoadConfigOptions = {}): LoadedConfig {
  const text = readText(path);
  const overrides = options.overrides ?? [];
  if (text === undefined && overrides.length === 0)
    return { config: defaultConfig(), path, exists: false, setsProfile: false, ignored: [] };
  const raw =
    text === undefined
      ? {}
      : parseText(path, text, extname(path).toLowerCase() === '.json' ? 'json' : 'toml');
  const source = overrides.length > 0 ? `${path} with -c overrides` : path;
  // The file and the overrides are each translated from the original's keys, then the overrides
  // win key by key (so `-c sandbox_mode=read-only` beats the file's `profile`).
  const translated = translateOriginalConfig(raw, path);
  const data = mergeTables(
    translated.data,
    translateOriginalConfig(applyOverrides({}, overrides), '-c').data,
  );
  const setsProfile = typeof data === 'object' && data !== null && 'profile' in data;
  return {
    config: parseConfig(data, source),
    path,
    exists: text !== undefined,
    setsProfile,
    ignored: translated.ignored,
  };
}

/** Where a command may write, worked out in one place for every caller. */
export interface Workspace {
  /** Absolute workspace roots: given, else config `sandbox.workspace_roots`, else `cwd`. */
  readonly workspaceRoots: readonly string[];
  /** Extra writable roots (config plus given), only for profiles that write the workspace. */
  readonly extraWritableRoots: readonly string[];
  /** Config `sandbox.deny_read` / `sandbox.allow_read`: secrets masked beyond (or kept from) the built-in list. */
  readonly denyRead?: readonly string[];
  readonly allowRead?: readonly string[];
  /** Config `sandbox.env_allow`: variables passed to the command besides the core set. */
  readonly envAllow?: readonly string[];
  /** Config `[egress]` host lists for a profile whose network goes through the egress proxy. */
  readonly egress?: EgressLists;
}

/** The workspace for `profile`: explicit roots win over the config, which wins over `cwd`. */
export function resolveWorkspace(
  config: CodexConfig,
  profile: SecurityProfile,
  cwd: string,
  given: { workspaceRoots?: readonly string[]; writable?: readonly string[] } = {},
): Workspace {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const roots = given.workspaceRoots?.length
    ? given.workspaceRoots
    : (config.sandbox.workspace_roots ?? [cwd]);
  const writes = CAPABILITIES[profile].write !== 'none';
  return {
    workspaceRoots: roots.map(abs),
    extraWritableRoots: writes
      ? [...config.sandbox.extra_writable_roots, ...(given.writable ?? [])].map(abs)
      : [],
    ...(config.sandbox.deny_read?.length ? { denyRead: config.sandbox.deny_read } : {}),
    ...(config.sandbox.allow_read?.length ? { allowRead: config.sandbox.allow_read } : {}),
    ...(config.sandbox.env_allow?.length ? { envAllow: config.sandbox.env_allow } : {}),
    ...(CAPABILITIES[profile].network === 'proxied' ? { egress: egressListsFor(config, profile) } : {}),
  };
}
