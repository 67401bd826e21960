import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type SandboxWindowsErrorCode = 'WINDOWS_COMMAND_NOT_FOUND' | 'WINDOWS_QUOTING';

/** An argument cannot be passed safely on a Windows command line (e.g. cmd.exe metacharacters to a batch file). */
export class WindowsQuotingError extends CodexError<SandboxWindowsErrorCode> {
  readonly argument: string;

  constructor(message: string, argument: string) {
    super('WINDOWS_QUOTING', message);
    this.argument = argument;
  }
}

/** The command was not found on PATH (the current directory is never searched). */
export class WindowsCommandNotFoundError extends CodexError<SandboxWindowsErrorCode> {
  readonly command: string;

  constructor(command: string) {
    super(
      'WINDOWS_COMMAND_NOT_FOUND',
      `command "${command}" not found on PATH (the current directory is not searched)`,
    );
    this.command = command;
  }
}
