// Verifying files on disk, as `codex verify` does: the artifact, its bundle and the key or trusted
// root are read here, and every input problem is an AttestError naming the file.
import { readFileSync } from 'node:fs';
import { AttestError } from './errors.js';
import {
  type Bundle,
  bundleKind,
  parseBundle,
  parsePublicKey,
  parseTrustedRoot,
  shippedTrustedRoot,
} from './material.js';
import { verifyKeyless, verifyWithKey } from './verify.js';

/** Who must have signed: the public key in a PEM file, or a keyless identity and OIDC issuer. */
export type FileSignerPolicy =
  | { readonly key: string }
  | {
      readonly identity: string;
      readonly issuer: string;
      /** A `trusted_root.json` file instead of the root shipped in @sigstore/tuf. */
      readonly trustedRoot?: string | undefined;
    };

/** Who signed a file {@link verifyFile} accepted. */
export interface FileSignature {
  readonly mode: 'key' | 'keyless';
  readonly identity?: string | undefined;
  readonly issuer?: string | undefined;
}

/** Reads one input; a file that cannot be read is `ATTEST_INPUT_UNREADABLE` (`reason`: the errno code). */
function readInput(kind: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AttestError(
      'ATTEST_INPUT_UNREADABLE',
      `cannot read ${kind} "${path}"${code ? ` (${code})` : ''}`,
      {
        reason: code ?? 'UNREADABLE',
        cause: error,
      },
    );
  }
}

/** The same error with the file it came from in front of its message. */
function naming(error: unknown, prefix: string): never {
  if (!(error instanceof AttestError)) throw error;
  throw new AttestError(error.code, `${prefix} is ${error.message}`, { reason: error.reason, cause: error });
}

function loadBundle(path: string): Bundle {
  let json: unknown;
  try {
    json = JSON.parse(readInput('bundle', path).toString('utf8'));
  } catch (error) {
    if (error instanceof AttestError) throw error;
    throw new AttestError('ATTEST_BUNDLE_INVALID', `bundle "${path}" is not JSON`, { reason: 'NOT_JSON' });
  }
  try {
    return parseBundle(json);
  } catch (error) {
    naming(error, `bundle "${path}"`);
  }
}

function loadTrustedRoot(path: string) {
  const text = readInput('trusted root', path).toString('utf8');
  try {
    return parseTrustedRoot(JSON.parse(text));
  } catch (error) {
    throw new AttestError(
      'ATTEST_TRUSTED_ROOT_INVALID',
      `trusted root "${path}" is not a sigstore trusted_root.json`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Verifies the file at `file` against the sigstore bundle at `bundlePath`: key-signed against the
 * PEM public key, or keyless against the identity and issuer (certificate chain to the shipped or
 * given trusted root, SCT, Rekor entry). Inputs are read in that order; a bundle of the other kind
 * is `ATTEST_BUNDLE_KIND` (`reason` `KEYLESS_BUNDLE` or `KEY_BUNDLE`). A failed check throws as
 * {@link verifyWithKey} and {@link verifyKeyless} do.
 */
export function verifyFile(file: string, bundlePath: string, signer: FileSignerPolicy): FileSignature {
  const artifact = readInput('file', file);
  const bundle = loadBundle(bundlePath);
  const keyed = bundleKind(bundle) === 'key';
  if ('key' in signer) {
    let publicKey: ReturnType<typeof parsePublicKey>;
    try {
      publicKey = parsePublicKey(readInput('key', signer.key));
    } catch (error) {
      if (error instanceof AttestError && error.code === 'ATTEST_INPUT_UNREADABLE') throw error;
      naming(error, `key "${signer.key}"`);
    }
    if (!keyed)
      throw new AttestError(
        'ATTEST_BUNDLE_KIND',
        'the bundle is keyless (certificate-signed), not key-signed',
        {
          reason: 'KEYLESS_BUNDLE',
        },
      );
    // A key-signed bundle has no transparency-log entry or timestamp to check: the key is the trust.
    verifyWithKey(artifact, bundle, publicKey);
    return { mode: 'key' };
  }
  if (keyed)
    throw new AttestError('ATTEST_BUNDLE_KIND', 'the bundle is key-signed, not keyless', {
      reason: 'KEY_BUNDLE',
    });
  const trustedRoot =
    signer.trustedRoot === undefined ? shippedTrustedRoot() : loadTrustedRoot(signer.trustedRoot);
  const s = verifyKeyless(artifact, bundle, {
    identity: signer.identity,
    issuer: signer.issuer,
    trustedRoot,
  });
  return { mode: 'keyless', identity: s.identity, issuer: s.issuer };
}
