import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type CoreErrorCode =
  | 'APPROVALS_IO'
  | 'COMMAND_FAILED'
  | 'CWD_OUTSIDE_WORKSPACE'
  | 'PLUGIN_FAILED'
  | 'POLICY_UNREADABLE'
  | 'TOOL_FAILED';

/** A saved-approvals file could not be locked, read or written. `code: 'APPROVALS_IO'`. */
export class ApprovalsError extends CodexError<CoreErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('APPROVALS_IO', message, options);
  }
}

/** A policy file to trust could not be read. `code: 'POLICY_UNREADABLE'`. */
export class PolicyUnreadableError extends CodexError<CoreErrorCode> {
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('POLICY_UNREADABLE', `cannot read ${path} (${reason})`, options);
    this.path = path;
  }
}

/** A working directory outside every workspace root (MCP `run_command`). `code: 'CWD_OUTSIDE_WORKSPACE'`. */
export class CwdOutsideWorkspaceError extends CodexError<CoreErrorCode> {
  constructor(cwd: string, roots: readonly string[]) {
    super('CWD_OUTSIDE_WORKSPACE', `cwd ${cwd} is outside the workspace (${roots.join(', ')})`);
  }
}

/** A command, plugin or tool ran and reported failure (non-zero exit, tool error). */
export class AgentRunError extends CodexError<CoreErrorCode> {
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(
    code: 'COMMAND_FAILED' | 'PLUGIN_FAILED' | 'TOOL_FAILED',
    message: string,
    exitCode: number | null,
    stderr: string,
  ) {
    super(code, message);
    this.exitCode = exitCode;
    this.stderrTail = stderr.trimEnd().split('\n').slice(-20).join('\n');
  }
}
