import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type SandboxMacosErrorCode = 'SBPL_INVALID_PATH' | 'SBPL_PARSE_ERROR' | 'SEATBELT_PROFILE_REJECTED';

/** SBPL text that does not parse (unbalanced parentheses, bad string, unknown token). */
export class SbplParseError extends CodexError<SandboxMacosErrorCode> {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super('SBPL_PARSE_ERROR', `SBPL parse error at offset ${offset}: ${message}`);
    this.offset = offset;
  }
}

/**
 * A generated Seatbelt profile failed the structural check (a broad allow, unrestricted
 * mach-lookup, network under an offline profile, a write outside the writable roots…). The
 * command did not run. `violations` lists every finding.
 */
export class SeatbeltProfileRejectedError extends CodexError<SandboxMacosErrorCode> {
  readonly violations: readonly string[];

  constructor(violations: readonly string[]) {
    super(
      'SEATBELT_PROFILE_REJECTED',
      `generated Seatbelt profile rejected: ${violations[0] ?? 'unknown'}${
        violations.length > 1 ? ` (and ${violations.length - 1} more)` : ''
      }`,
    );
    this.violations = violations;
  }
}

/** A path cannot be written into an SBPL string (control characters). */
export class SbplPathError extends CodexError<SandboxMacosErrorCode> {
  readonly path: string;

  constructor(path: string) {
    super('SBPL_INVALID_PATH', `path ${JSON.stringify(path)} cannot be expressed in a Seatbelt profile`);
    this.path = path;
  }
}
