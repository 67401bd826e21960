/** Every `code` an error of this package carries (stable across releases). */
export type SecurityProfileErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_PATH'
  | 'OPTIONAL_DEPENDENCY_MISSING'
  | 'POLICY_CONFLICT'
  | 'UNKNOWN_APPROVAL_MODE'
  | 'UNKNOWN_PROFILE';
/**
 * Base class for every error thrown by a `@codex/*` package. `code` is stable
 * across releases and is what callers should branch on; messages may change.
 * Each package narrows `C` to the union of its own codes (sigstore-js style), so
 * `error.code` is checked by the compiler where the package is known.
 */
export class CodexError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An unknown security profile name. The message lists every valid name. */
export class UnknownProfileError extends CodexError<SecurityProfileErrorCode> {
  readonly input: string;
  readonly validNames: readonly string[];

  constructor(input: string, validNames: readonly string[]) {
    super('UNKNOWN_PROFILE', `unknown security profile "${input}"; valid profiles: ${validNames.join(', ')}`);
    this.input = input;
    this.validNames = validNames;
  }
}

/** An unknown approval mode name. The message lists every valid one. */
export class UnknownApprovalModeError extends CodexError<SecurityProfileErrorCode> {
  readonly input: string;
  readonly validNames: readonly string[];

  constructor(input: string, validNames: readonly string[]) {
    super('UNKNOWN_APPROVAL_MODE', `unknown approval mode "${input}"; valid modes: ${validNames.join(', ')}`);
    this.input = input;
    this.validNames = validNames;
  }
}

/** A path handed to the policy builder that is not absolute or not well formed. */
export class InvalidPathError extends CodexError<SecurityProfileErrorCode> {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('INVALID_PATH', `invalid path "${path}": ${problem}`);
    this.path = path;
  }
}

/** A request that contradicts the chosen profile (for example writable roots under a read-only profile). */
export class PolicyConflictError extends CodexError<SecurityProfileErrorCode> {
  constructor(message: string) {
    super('POLICY_CONFLICT', message);
  }
}

/** A configuration value failed validation. `issues` carries one entry per problem. */
export class ConfigError extends CodexError<SecurityProfileErrorCode> {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    const first = issues[0];
    const where = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid configuration';
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super('INVALID_CONFIG', `${source}: ${where}${more}`);
    this.source = source;
    this.issues = issues;
  }
}

export interface ConfigIssue {
  /** Dotted key path, e.g. `sandbox.extra_writable_roots.0`. Empty for the root. */
  readonly path: string;
  readonly message: string;
}
