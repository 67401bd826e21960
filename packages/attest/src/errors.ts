import { CodexError } from '@codex/security-profile';

/** The stable codes of {@link AttestError}. */
export type AttestErrorCode =
  /** The JSON is not a sigstore bundle. */
  | 'ATTEST_BUNDLE_INVALID'
  /** A key-signed bundle given for keyless verification, or the other way round. */
  | 'ATTEST_BUNDLE_KIND'
  /** The key is not a PEM public key (a private key is refused outright). */
  | 'ATTEST_KEY_INVALID'
  /** The JSON is not a sigstore `trusted_root.json`. */
  | 'ATTEST_TRUSTED_ROOT_INVALID'
  /** @sigstore/tuf ships no trusted root. */
  | 'ATTEST_NO_TRUSTED_ROOT'
  /** The keyless policy (identity, issuer) is malformed. */
  | 'ATTEST_POLICY_INVALID'
  /** The signature, certificate chain, SCT, transparency-log entry or signer identity does not verify. */
  | 'ATTEST_SIGNATURE_INVALID'
  /** The signature is valid but does not name these bytes (message digest or in-toto subject). */
  | 'ATTEST_DIGEST_MISMATCH'
  /** A file to verify, or its bundle, key or trusted root, cannot be read. */
  | 'ATTEST_INPUT_UNREADABLE';

/**
 * Every failure of @codex/attest. `code` says what kind; `reason` is the finer cause: sigstore's
 * own code for a failed check (`SIGNATURE_ERROR`, `CERTIFICATE_ERROR`, `UNTRUSTED_SIGNER_ERROR`,
 * `TLOG_INCLUSION_PROMISE_ERROR`…), `DIGEST_MISMATCH`, `PRIVATE_KEY`, `NOT_PUBLIC_KEY`, or the code itself.
 */
export class AttestError extends CodexError<AttestErrorCode> {
  readonly reason: string;

  constructor(code: AttestErrorCode, message: string, options: { reason?: string; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason ?? code;
  }
}
