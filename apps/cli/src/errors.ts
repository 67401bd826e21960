import { CodexError } from '@codex/security-profile';

/** Exit codes shared by every subcommand. Subcommands document any codes of their own. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  INTERRUPTED: 130,
} as const;

/** A bad flag, argument or subcommand. Exits 2. */
export class UsageError extends CodexError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
