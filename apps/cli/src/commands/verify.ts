import { AttestError, type FileSignature, verifyFile } from '@codex/attest';
import { CodexError } from '@codex/security-profile';

import { EXIT, UsageError } from '../errors.js';
import { print } from '../output.js';
import { action, type Command, type Flags, str, type Values } from '../spec.js';

/** The artifact, bundle and policy were all readable, and the bundle does not verify. Exits 1. */
export class VerificationFailedError extends CodexError {
  constructor(reason: string, message: string) {
    super('VERIFICATION_FAILED', `${message} [${reason}]`);
  }
}

/** The flags that fit each kind of bundle given for the other kind. */
const OTHER_KIND: Record<string, string> = {
  KEYLESS_BUNDLE:
    'the bundle is keyless (certificate-signed); verify it with --certificate-identity/--certificate-oidc-issuer',
  KEY_BUNDLE: 'the bundle is key-signed; verify it with --key <pub.pem>',
};

/**
 * A failed check exits 1 with sigstore's (or the binding check's) reason; bad input (unreadable or
 * malformed file, bundle, key or root, a bundle of the other kind) is a usage error.
 */
function failed(error: unknown): never {
  if (!(error instanceof AttestError)) throw error;
  if (error.code === 'ATTEST_SIGNATURE_INVALID' || error.code === 'ATTEST_DIGEST_MISMATCH')
    throw new VerificationFailedError(error.reason, error.message);
  if (error.code === 'ATTEST_NO_TRUSTED_ROOT') throw new CodexError('NO_TRUSTED_ROOT', error.message);
  throw new UsageError(OTHER_KIND[error.reason] ?? error.message);
}

const FLAGS = {
  bundle: str('BUNDLE.json', 'the sigstore bundle (required)'),
  key: str('PUB.pem', 'accept a key-signed bundle by this public key only'),
  'certificate-identity': str('ID', 'keyless: the signer identity (certificate SAN)'),
  'certificate-oidc-issuer': str('URL', "keyless: the identity's OIDC issuer"),
  'trusted-root': str('FILE', 'keyless: a trusted_root.json instead of the shipped one'),
} as const satisfies Flags;

export const command: Command = {
  help: `--key checks a key-signed bundle (for example one written by "pnpm release:check") against that
public key only. --certificate-identity/--certificate-oidc-issuer check a keyless bundle: the
certificate must chain to a Fulcio CA in the Sigstore trusted root shipped inside @sigstore/tuf
(offline; --trusted-root replaces it), carry a CT log SCT, have a verified Rekor entry, and name
exactly this identity (certificate SAN) and OIDC issuer. The file must be the signed bytes (or, for
an in-toto attestation, one of its subjects).

Exit codes: 0 verified; 1 the bundle does not verify for this file, key or identity;
2 bad input (flags, unreadable file, bundle or key).`,
  action: action({
    args: '<file>',
    flags: FLAGS,
    run(ctx, { values, args: [file] }) {
      const signer = checkSignature(file!, values);
      const who =
        signer.mode === 'key' ? `key ${values.key}` : `${signer.identity} (issuer ${signer.issuer})`;
      const doc = { verified: true, file, bundle: values.bundle, ...signer };
      print(ctx, doc, () => `verified: ${file} signed by ${who}`);
      return EXIT.OK;
    },
  }),
};

/** The signer the flags name, checked for a coherent combination (key-signed or keyless), then the check. */
function checkSignature(file: string, v: Values<typeof FLAGS>): FileSignature {
  const { bundle, key, 'certificate-identity': identity, 'certificate-oidc-issuer': issuer } = v;
  const keyless = identity !== undefined || issuer !== undefined;
  if (bundle === undefined) throw new UsageError('missing --bundle <bundle.json>');
  if (key !== undefined && keyless)
    throw new UsageError('use either --key or --certificate-identity/--certificate-oidc-issuer, not both');
  if (key === undefined && !keyless)
    throw new UsageError(
      'say who must have signed: --key <pub.pem>, or --certificate-identity and --certificate-oidc-issuer',
    );
  if (identity === undefined || issuer === undefined) {
    if (keyless)
      throw new UsageError(
        'keyless verification needs both --certificate-identity and --certificate-oidc-issuer',
      );
  } else if (identity === '' || issuer === '') {
    // @sigstore/verify skips an empty identity or issuer check: that would accept any signer.
    throw new UsageError('--certificate-identity and --certificate-oidc-issuer must not be empty');
  }
  if (key !== undefined && v['trusted-root'] !== undefined)
    throw new UsageError('--trusted-root applies to keyless verification only');
  try {
    return verifyFile(
      file,
      bundle,
      key !== undefined ? { key } : { identity: identity!, issuer: issuer!, trustedRoot: v['trusted-root'] },
    );
  } catch (error) {
    failed(error);
  }
}
