import { AttestError, type FileSignature, verifyFile } from '@codex/attest';
import { CodexError } from '@codex/security-profile';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line } from '../output.js';

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

function checkSignature(f: VerifyFlags): FileSignature {
  try {
    const signer =
      f.keyPath !== undefined
        ? { key: f.keyPath }
        : { identity: f.identity as string, issuer: f.issuer as string, trustedRoot: f.rootPath };
    return verifyFile(f.file, f.bundlePath, signer);
  } catch (error) {
    failed(error);
  }
}

export const command: Command = {
  summary: 'Verify a file against a sigstore bundle (key-signed, or keyless via the shipped trusted root)',
  usage: `Usage: codex verify <file> --bundle <bundle.json> --key <pub.pem>
       codex verify <file> --bundle <bundle.json> --certificate-identity <identity>
                    --certificate-oidc-issuer <issuer> [--trusted-root <trusted_root.json>]

--key checks a key-signed bundle (for example one written by "pnpm release:check") against that
public key only. --certificate-identity/--certificate-oidc-issuer check a keyless bundle: the
certificate must chain to a Fulcio CA in the Sigstore trusted root shipped inside @sigstore/tuf
(offline; --trusted-root replaces it), carry a CT log SCT, have a verified Rekor entry, and name
exactly this identity (certificate SAN) and OIDC issuer. The file must be the signed bytes (or, for
an in-toto attestation, one of its subjects).

Exit codes: 0 verified; 1 the bundle does not verify for this file, key or identity;
2 bad input (flags, unreadable file, bundle or key).`,
  async run(ctx, argv) {
    const flags = parseVerifyFlags(argv);
    const signer = checkSignature(flags);
    const { file, bundlePath, keyPath } = flags;
    if (ctx.json) {
      line(ctx.stdout, JSON.stringify({ verified: true, file, bundle: bundlePath, ...signer }));
    } else {
      const who = signer.mode === 'key' ? `key ${keyPath}` : `${signer.identity} (issuer ${signer.issuer})`;
      line(ctx.stdout, `verified: ${file} signed by ${who}`);
    }
    return EXIT.OK;
  },
};

interface VerifyFlags {
  file: string;
  bundlePath: string;
  keyPath: string | undefined;
  identity: string | undefined;
  issuer: string | undefined;
  rootPath: string | undefined;
}

/** The flags, checked for a coherent combination (key-signed or keyless); bad input exits 2. */
function parseVerifyFlags(argv: readonly string[]): VerifyFlags {
  const { values, positionals } = parse(argv, {
    bundle: { type: 'string' },
    key: { type: 'string' },
    'certificate-identity': { type: 'string' },
    'certificate-oidc-issuer': { type: 'string' },
    'trusted-root': { type: 'string' },
  });
  const [file, extra] = positionals;
  if (file === undefined)
    throw new UsageError('missing <file>; usage: codex verify <file> --bundle <bundle.json> …');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const bundlePath = values.bundle as string | undefined;
  if (bundlePath === undefined) throw new UsageError('missing --bundle <bundle.json>');
  const keyPath = values.key as string | undefined;
  const identity = values['certificate-identity'] as string | undefined;
  const issuer = values['certificate-oidc-issuer'] as string | undefined;
  const rootPath = values['trusted-root'] as string | undefined;
  const keyless = identity !== undefined || issuer !== undefined;
  if (keyPath !== undefined && keyless) {
    throw new UsageError('use either --key or --certificate-identity/--certificate-oidc-issuer, not both');
  }
  if (keyPath === undefined && !keyless) {
    throw new UsageError(
      'say who must have signed: --key <pub.pem>, or --certificate-identity and --certificate-oidc-issuer',
    );
  }
  if (keyless && (identity === undefined || issuer === undefined)) {
    throw new UsageError(
      'keyless verification needs both --certificate-identity and --certificate-oidc-issuer',
    );
  }
  if (identity === '' || issuer === '') {
    // @sigstore/verify skips an empty identity or issuer check: that would accept any signer.
    throw new UsageError('--certificate-identity and --certificate-oidc-issuer must not be empty');
  }
  if (keyPath !== undefined && rootPath !== undefined) {
    throw new UsageError('--trusted-root applies to keyless verification only');
  }
  return { file, bundlePath, keyPath, identity, issuer, rootPath };
}
