// Which profile and approval mode apply: an explicit choice, else the environment, else the config.
import {
  type ApprovalMode,
  type CodexConfig,
  parseApprovalMode,
  parseProfile,
  type SecurityProfile,
} from '@codex/security-profile';
import { codexHome, type LoadedConfig, loadConfig } from './config.js';
import { profileForSandboxMode } from './config-compat.js';

/** Where the effective profile came from; only `flag`, `env` and `config` count as explicit. */
export type ProfileSource = 'flag' | 'env' | 'config' | 'default';

export interface ProfileChoice {
  /** A profile name (`--profile`). */
  readonly profile?: string | undefined;
  /** The original CLI's sandbox mode (`-s/--sandbox`: `read-only`, `workspace-write`…) or a profile name. */
  readonly sandbox?: string | undefined;
}

/**
 * The effective profile: `choice.profile` (or `choice.sandbox`), else `CODEX_PROFILE`, else the
 * config's `profile`, else the default (`offline`). Unknown names throw `INVALID_PROFILE`.
 */
export function effectiveProfile(
  loaded: Pick<LoadedConfig, 'config' | 'setsProfile'>,
  env: Readonly<Record<string, string | undefined>>,
  choice: ProfileChoice = {},
): { readonly profile: SecurityProfile; readonly source: ProfileSource } {
  let profile: SecurityProfile = loaded.config.profile;
  let source: ProfileSource = loaded.setsProfile ? 'config' : 'default';
  if (env.CODEX_PROFILE) {
    profile = parseProfile(env.CODEX_PROFILE);
    source = 'env';
  }
  const flag = choice.profile ?? choice.sandbox;
  if (flag !== undefined) {
    profile = choice.profile !== undefined ? parseProfile(flag) : profileForSandboxMode(flag);
    source = 'flag';
  }
  return { profile, source };
}

export interface SettingsChoice extends ProfileChoice {
  /** The config file (`--config`); default `$CODEX_HOME/config.toml`. */
  readonly configFile?: string | undefined;
  /** `-c key=value` overrides, applied over the file. */
  readonly overrides?: readonly string[] | undefined;
}

/** What a command runs under: `$CODEX_HOME`, the loaded config and the effective profile. */
export interface Settings {
  readonly codexHome: string;
  readonly config: CodexConfig;
  readonly configPath: string;
  /** False when the file does not exist (the defaults apply). */
  readonly configExists: boolean;
  /** The original CLI's agent-only keys (model, history…) the config file had; ignored here. */
  readonly configIgnored: readonly string[];
  /** The effective profile (see {@link effectiveProfile}). */
  readonly profile: SecurityProfile;
  /** Where the profile came from; only `flag`, `env` and `config` count as explicit. */
  readonly profileSource: ProfileSource;
  /** The profile was asked for (flag, `CODEX_PROFILE` or the config): needed for `trusted`. */
  readonly explicitProfile: boolean;
}

/**
 * Loads the config (`choice.configFile`, default `$CODEX_HOME/config.toml`, with `choice.overrides`)
 * and picks the effective profile from `choice`, `CODEX_PROFILE` and the config. Throws
 * `ConfigError` for a bad config and `INVALID_PROFILE` for an unknown profile name.
 */
export function resolveSettings(
  env: Readonly<Record<string, string | undefined>>,
  choice: SettingsChoice = {},
): Settings {
  const home = codexHome(env);
  const loaded = loadConfig(choice.configFile ?? `${home}/config.toml`, {
    overrides: choice.overrides ?? [],
  });
  const { profile, source } = effectiveProfile(loaded, env, choice);
  return {
    ...{ codexHome: home, config: loaded.config, configPath: loaded.path },
    ...{ configExists: loaded.exists, configIgnored: loaded.ignored },
    ...{ profile, profileSource: source, explicitProfile: source !== 'default' },
  };
}

/** The environment variable for the approval mode (between an explicit choice and the config). */
export const APPROVAL_ENV = 'CODEX_APPROVAL_MODE';

/**
 * The approval mode: `flag`, else `CODEX_APPROVAL_MODE`, else the config's `approval.mode`
 * (default `on-request`). An unknown mode throws `UNKNOWN_APPROVAL_MODE`
 * (`UnknownApprovalModeError`).
 */
export function effectiveApprovalMode(
  config: CodexConfig,
  env: Readonly<Record<string, string | undefined>>,
  flag?: string | undefined,
): { readonly mode: ApprovalMode; readonly source: 'flag' | 'env' | 'config' } {
  const [source, raw] =
    flag !== undefined ? (['flag', flag] as const) : (['env', env[APPROVAL_ENV]] as const);
  if (raw === undefined || raw === '') return { mode: config.approval.mode, source: 'config' };
  return { mode: parseApprovalMode(raw), source };
}
