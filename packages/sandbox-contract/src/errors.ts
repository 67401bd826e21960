import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type SandboxContractErrorCode =
  | 'GIT_CONFIG_SYNTAX'
  | 'SANDBOX_DEGRADED'
  | 'SANDBOX_INVALID_COMMAND'
  | 'SANDBOX_INVALID_RUNG'
  | 'SANDBOX_SETUP_FAILED'
  | 'SANDBOX_UNAVAILABLE'
  | 'SANDBOX_UNSUPPORTED_POLICY';

/**
 * The requested profile cannot be enforced with the mechanisms available here. Fail-closed: the
 * command did not run. `missing` names the guarantees nothing could enforce.
 */
export class SandboxUnavailableError extends CodexError<SandboxContractErrorCode> {
  readonly missing: readonly string[];
  readonly rung: string;

  constructor(message: string, rung: string, missing: readonly string[]) {
    super('SANDBOX_UNAVAILABLE', message);
    this.rung = rung;
    this.missing = missing;
  }
}

/** Full isolation was required but the rung used here is weaker. The command did not run. */
export class SandboxDegradedError extends CodexError<SandboxContractErrorCode> {
  readonly rung: string;
  readonly missingMechanisms: readonly string[];

  constructor(message: string, rung: string, missingMechanisms: readonly string[]) {
    super('SANDBOX_DEGRADED', message);
    this.rung = rung;
    this.missingMechanisms = missingMechanisms;
  }
}

/** The policy asks for something the backend does not understand (e.g. a proxied network). */
export class UnsupportedPolicyError extends CodexError<SandboxContractErrorCode> {
  constructor(message: string) {
    super('SANDBOX_UNSUPPORTED_POLICY', message);
  }
}

/** A forced rung (environment switch or `rung:`) is unknown or cannot run here. */
export class InvalidRungError extends CodexError<SandboxContractErrorCode> {
  constructor(message: string) {
    super('SANDBOX_INVALID_RUNG', message);
  }
}

/** The sandbox could not be set up (the launcher failed before the command started). */
export class SandboxSetupError extends CodexError<SandboxContractErrorCode> {
  readonly stderr: string;

  constructor(message: string, stderr = '') {
    super('SANDBOX_SETUP_FAILED', message);
    this.stderr = stderr;
  }
}

/** The command is empty or not runnable. */
export class InvalidCommandError extends CodexError<SandboxContractErrorCode> {
  constructor(message: string) {
    super('SANDBOX_INVALID_COMMAND', message);
  }
}
