import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type ExecpolicyErrorCode =
  | 'PARSER_INIT'
  | 'PARSER_NOT_LOADED'
  | 'POLICY_CONTEXT'
  | 'POLICY_EXAMPLE_FAILED'
  | 'POLICY_LOAD';

/**
 * A policy file (or in-memory policy object) could not be loaded: bad TOML/JSON syntax, a value
 * that fails the schema, or a rule that cannot be compiled. The message is one line naming the
 * source, the key and the problem. `code: 'POLICY_LOAD'`.
 */
export class PolicyLoadError extends CodexError<ExecpolicyErrorCode> {
  readonly source: string;
  readonly key: string;

  constructor(source: string, key: string, problem: string, options?: { cause?: unknown }) {
    super('POLICY_LOAD', `${source}: ${key || '(root)'}: ${problem}`, options);
    this.source = source;
    this.key = key;
  }
}

/**
 * A rule's own `match` / `not_match` example does not behave as declared, so the policy refuses
 * to load. The message names the source, the rule id and the example.
 * `code: 'POLICY_EXAMPLE_FAILED'`.
 */
export class PolicyExampleError extends CodexError<ExecpolicyErrorCode> {
  readonly source: string;
  readonly ruleId: string;
  readonly example: string;

  constructor(source: string, ruleId: string, example: string, problem: string) {
    super(
      'POLICY_EXAMPLE_FAILED',
      `${source}: rule "${ruleId}": example ${JSON.stringify(example)} ${problem}`,
    );
    this.source = source;
    this.ruleId = ruleId;
    this.example = example;
  }
}

/** The evaluation context is invalid (relative cwd, bad workspace root, unknown profile). `code: 'POLICY_CONTEXT'`. */
export class PolicyContextError extends CodexError<ExecpolicyErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('POLICY_CONTEXT', message, options);
  }
}

/** The embedded bash parser (web-tree-sitter + tree-sitter-bash wasm) failed to initialise. `code: 'PARSER_INIT'`. */
export class ParserInitError extends CodexError<ExecpolicyErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PARSER_INIT', message, options);
  }
}

/**
 * The synchronous `evaluate` of an engine created with `parser: 'on-demand'` got a script that
 * needs the bash parser before it was loaded. Use `evaluateAsync`. `code: 'PARSER_NOT_LOADED'`.
 */
export class ParserNotLoadedError extends CodexError<ExecpolicyErrorCode> {
  constructor(message: string) {
    super('PARSER_NOT_LOADED', message);
  }
}
