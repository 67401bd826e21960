import { ServerEnvError, serverEnvironment } from '@codex/mcp-permission';
import { usageOn } from './errors.js';

/** The server's environment from `--env` items; a malformed item is a usage error (exit 2). */
export function serverEnvFromFlags(
  env: Readonly<Record<string, string | undefined>>,
  pass: readonly string[],
  flag: string,
): Record<string, string> {
  return usageOn([ServerEnvError], () => serverEnvironment(env, pass, flag));
}
