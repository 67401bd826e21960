import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as z from '@codex/security-profile/zod';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { AttestError } from './errors.js';

export type { Bundle } from '@sigstore/bundle';
export { TrustedRoot } from '@sigstore/protobuf-specs';

const firstLine = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0] : String(error));

/** Parses a sigstore bundle (v0.1-v0.3 JSON); throws `ATTEST_BUNDLE_INVALID`. */
export function parseBundle(json: unknown): Bundle {
  try {
    return bundleFromJSON(json);
  } catch (error) {
    throw new AttestError('ATTEST_BUNDLE_INVALID', `not a sigstore bundle: ${firstLine(error)}`, {
      reason: 'BUNDLE_INVALID',
      cause: error,
    });
  }
}

/** `key` for a bundle signed with a public key (hint), `keyless` for a certificate-signed one. */
export function bundleKind(bundle: Bundle): 'key' | 'keyless' {
  return bundle.verificationMaterial.content.$case === 'publicKey' ? 'key' : 'keyless';
}

/**
 * A PEM public key. A private key file is refused outright (`reason` `PRIVATE_KEY`), so a signing
 * key never becomes a verification habit; anything else that is not a public key is
 * `NOT_PUBLIC_KEY`. Both throw `ATTEST_KEY_INVALID`.
 */
export function parsePublicKey(pem: string | Uint8Array): KeyObject {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('latin1');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new AttestError('ATTEST_KEY_INVALID', 'a private key; pass the public key', {
      reason: 'PRIVATE_KEY',
    });
  }
  try {
    const key = createPublicKey(text);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch (error) {
    throw new AttestError('ATTEST_KEY_INVALID', 'not a PEM public key', {
      reason: 'NOT_PUBLIC_KEY',
      cause: error,
    });
  }
}

/** The shape checked before protobuf's (lenient) decoding: a trusted-root media type and lists. */
const trustedRootSchema = z.looseObject({
  mediaType: z.string().regex(/^application\/vnd\.dev\.sigstore\.trustedroot\+json/),
  tlogs: z.array(z.unknown()).optional(),
  certificateAuthorities: z.array(z.unknown()).optional(),
  ctlogs: z.array(z.unknown()).optional(),
  timestampAuthorities: z.array(z.unknown()).optional(),
});

/** Parses a sigstore `trusted_root.json`; throws `ATTEST_TRUSTED_ROOT_INVALID`. */
export function parseTrustedRoot(json: unknown): TrustedRoot {
  try {
    return TrustedRoot.fromJSON(trustedRootSchema.parse(json));
  } catch (error) {
    throw new AttestError('ATTEST_TRUSTED_ROOT_INVALID', 'not a sigstore trusted_root.json', {
      cause: error,
    });
  }
}

/**
 * The Sigstore public-good trusted root (Fulcio CAs, Rekor and CT log keys) that ships inside
 * @sigstore/tuf as its TUF seed, so keyless verification works offline.
 */
export function shippedTrustedRoot(): TrustedRoot {
  const require = createRequire(import.meta.url);
  const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8')) as Record<
    string,
    { targets?: Record<string, string> }
  >;
  const mirror = seeds['https://tuf-repo-cdn.sigstore.dev'] ?? Object.values(seeds)[0];
  const encoded = mirror?.targets?.['trusted_root.json'];
  if (typeof encoded !== 'string')
    throw new AttestError('ATTEST_NO_TRUSTED_ROOT', '@sigstore/tuf ships no trusted root');
  return TrustedRoot.fromJSON(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')));
}
