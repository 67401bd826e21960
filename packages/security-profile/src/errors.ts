/**
 * Base class for every error thrown by a `@codex/*` package. `code` is stable
 * across releases and is what callers should branch on; messages may change.
 */
export class CodexError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An unknown security profile name. The message lists every valid name. */
export class UnknownProfileError extends CodexError {
  readonly input: string;
  readonly validNames: readonly string[];

  constructor(input: string, validNames: readonly string[]) {
    super('UNKNOWN_PROFILE', `unknown security profile "${input}"; valid profiles: ${validNames.join(', ')}`);
    this.input = input;
    this.validNames = validNames;
  }
}

/** An unknown approval mode name. The message lists every valid one. */
export class UnknownApprovalModeError extends CodexError {
  readonly input: string;
  readonly validNames: readonly string[];

  constructor(input: string, validNames: readonly string[]) {
    super('UNKNOWN_APPROVAL_MODE', `unknown approval mode "${input}"; valid modes: ${validNames.join(', ')}`);
    this.input = input;
    this.validNames = validNames;
  }
}

/** A path handed to the policy builder that is not absolute or not well formed. */
export class InvalidPathError extends CodexError {
  readonly path: string;

  constructor(path: string, problem: string) {
    super('INVALID_PATH', `invalid path "${path}": ${problem}`);
    this.path = path;
  }
}

/** A request that contradicts the chosen profile (for example writable roots under a read-only profile). */
export class PolicyConflictError extends CodexError {
  constructor(message: string) {
    super('POLICY_CONFLICT', message);
  }
}

/** A configuration value failed validation. `issues` carries one entry per problem. */
export class ConfigError extends CodexError {
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
