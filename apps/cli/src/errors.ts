import { CodexError } from '@codex/security-profile';

/** Exit codes shared by every subcommand. Subcommands document any codes of their own. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  INTERRUPTED: 130,
} as const;

/** A bad flag, argument or subcommand, or bad input a library found in one (its own code). Exits 2. */
export class UsageError extends CodexError {
  constructor(message: string, code = 'USAGE') {
    super(code, message);
  }
}

/**
 * Runs `fn`; an error of one of `kinds` (bad input a library found in a flag's value) becomes a
 * usage error (exit 2) with the same message, after `prefix`, and the library's code (USAGE when
 * it has none). A promise `fn` returns rejects so too.
 */
export function usageOn<T>(
  kinds: readonly (abstract new (...args: never[]) => Error)[],
  fn: () => T,
  prefix = '',
): T {
  const toUsage = (error: unknown): never => {
    if (kinds.some((k) => error instanceof k))
      throw new UsageError(
        `${prefix}${(error as Error).message}`,
        error instanceof CodexError ? error.code : 'USAGE',
      );
    throw error;
  };
  try {
    const result = fn();
    return (result instanceof Promise ? result.catch(toUsage) : result) as T;
  } catch (error) {
    return toUsage(error);
  }
}
