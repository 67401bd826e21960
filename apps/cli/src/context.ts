import type { CodexConfig, SecurityProfile } from '@codex/security-profile';
import type { Output } from './output.js';

/** What `main` resolved before handing over to a subcommand. */
export interface CliContext extends Output {
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly codexHome: string;
  readonly config: CodexConfig;
  readonly configPath: string;
  readonly configExists: boolean;
  /** The original CLI's agent-only keys (model, history…) the config file had; ignored here. */
  readonly configIgnored: readonly string[];
  /** The effective profile: `--profile`, else `CODEX_PROFILE`, else the config, else `offline`. */
  readonly profile: SecurityProfile;
  /** Where the profile came from; only `flag`, `env` and `config` count as explicit. */
  readonly profileSource: 'flag' | 'env' | 'config' | 'default';
  readonly json: boolean;
  readonly debug: boolean;
  /** `-a/--ask-for-approval` given as a global option (before or after the command name). */
  readonly approvalFlag?: string;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(ctx: CliContext, argv: readonly string[]): Promise<number>;
}
