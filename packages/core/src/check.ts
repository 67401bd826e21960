// `codex policy check` without the terminal: the decision for a command under the effective
// profile, from every policy layer `codex exec` uses, against the workspace it would run in.
import { homedir } from 'node:os';
import type { CommandInput, Evaluation, EvaluationContext } from '@codex/execpolicy';
import type { SecurityProfile } from '@codex/security-profile';
import { resolveWorkspace } from './config.js';
import { createEngine } from './engine.js';
import type { LayerSources } from './layers.js';

export interface CheckCommandOptions extends LayerSources {
  readonly profile: SecurityProfile;
  /** For `~` (`HOME`; default: the user's home directory). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Called before the policy engine loads its bash parser (see `PolicyEngineOptions`). */
  readonly beforeParserLoad?: () => void;
}

/**
 * Evaluates argv or a shell script (`{ script }`, parsed with tree-sitter-bash) as `codex exec`
 * would before running it: the same layers (saved approvals included), the configured workspace.
 */
export async function checkCommand(command: CommandInput, options: CheckCommandOptions): Promise<Evaluation> {
  const engine = await createEngine(
    options,
    options.beforeParserLoad ? { beforeParserLoad: options.beforeParserLoad } : {},
  );
  const { profile, cwd } = options;
  const context: EvaluationContext = {
    ...{ profile, cwd, ...resolveWorkspace(options.config, profile, cwd) },
    ...{ platform: process.platform, home: options.env?.HOME || homedir() },
  };
  return engine.evaluateAsync(command, context);
}
