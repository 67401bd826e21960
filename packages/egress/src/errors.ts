import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type EgressErrorCode =
  | 'EGRESS_CONFIG_INVALID'
  | 'EGRESS_START_FAILED'
  | 'EGRESS_UNRESOLVABLE'
  | 'EGRESS_MALFORMED_RESPONSE';

/** Options handed to the proxy are invalid (bad pattern, bad CIDR, bad hosts map). */
export class EgressConfigError extends CodexError<EgressErrorCode> {
  constructor(message: string) {
    super('EGRESS_CONFIG_INVALID', message);
  }
}

/** The proxy could not start listening (the run must not start without it). */
export class EgressStartError extends CodexError<EgressErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EGRESS_START_FAILED', message, options);
  }
}

/** A name could not be resolved by the proxy's resolver. */
export class EgressResolveError extends CodexError<EgressErrorCode> {
  readonly host: string;
  constructor(host: string, problem: string) {
    super('EGRESS_UNRESOLVABLE', `cannot resolve "${host}": ${problem}`);
    this.host = host;
  }
}

/**
 * An upstream response the plain-HTTP proxy refuses to forward (the client gets a 502 naming
 * the fault); it does not leave the package.
 */
export class MalformedResponseError extends CodexError<EgressErrorCode> {
  constructor(message: string) {
    super('EGRESS_MALFORMED_RESPONSE', message);
  }
}
