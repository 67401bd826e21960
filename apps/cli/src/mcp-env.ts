import { ServerEnvError, serverEnvironment } from '@codex/mcp-permission';
import { UsageError } from './errors.js';

/** The server's environment from `--env` items; a malformed item is a usage error (exit 2). */
export function serverEnvFromFlags(
  env: Readonly<Record<string, string | undefined>>,
  pass: readonly string[],
  flag: string,
): Record<string, string> {
  try {
    return serverEnvironment(env, pass, flag);
  } catch (error) {
    if (error instanceof ServerEnvError) throw new UsageError(error.message);
    throw error;
  }
}
