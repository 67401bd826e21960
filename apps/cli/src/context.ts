import type { Settings } from '@codex/core';
import type { Output } from './output.js';

/**
 * What `main` resolved before handing over to a subcommand: the config and the effective profile
 * (`--profile`, else `CODEX_PROFILE`, else the config, else `offline`; see core's `resolveSettings`).
 */
export interface CliContext extends Output, Settings {
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly json: boolean;
  readonly debug: boolean;
  /** `-a/--ask-for-approval` given as a global option (before or after the command name). */
  readonly approvalFlag?: string;
  /** Aborted once stdout's reader is gone (`| head -1`): stop writing, exit 0. */
  readonly stdoutGone: AbortSignal;
}
