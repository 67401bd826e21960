// Signing sigstore bundles, with a local key or keyless, using sigstore-js. Verification lives in
// @codex/attest (the same module `codex verify` uses).
//
// Keyless signing (Fulcio certificate + Rekor entry) needs GitHub's OIDC token and the network;
// it runs in .github/workflows/release.yml. Here the same bundle format is produced with an
// ephemeral key: a "public key hint" bundle with no transparency-log entry, verified with
// @codex/attest's verifyWithKey against exactly that key.
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import {
  CIContextProvider,
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
} from '@sigstore/sign';

/**
 * A fresh P-256 key pair for one release-check run. It never touches the disk unless the caller
 * writes the public key out.
 * @returns {{ privateKey: import('node:crypto').KeyObject, publicKey: import('node:crypto').KeyObject, publicKeyPem: string, hint: string }}
 */
export function ephemeralKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, publicKeyPem: publicKeyPem(publicKey), hint: keyHint(publicKey) };
}

/** @param {import('node:crypto').KeyObject} publicKey */
export function publicKeyPem(publicKey) {
  return String(publicKey.export({ type: 'spki', format: 'pem' }));
}

/** The key hint written into bundles: hex SHA-256 of the DER SubjectPublicKeyInfo. */
export function keyHint(publicKey) {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/**
 * Signs `data` into a sigstore message-signature bundle (v0.3 JSON) with a local key.
 * @param {Buffer} data
 * @param {{ privateKey: import('node:crypto').KeyObject, publicKeyPem: string, hint: string }} key
 * @returns {Promise<object>} the bundle, as JSON
 */
export async function signBlob(data, key) {
  /** @type {import('@sigstore/sign').Signer} */
  const signer = {
    async sign(payload) {
      return {
        signature: nodeSign('sha256', payload, key.privateKey),
        key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.hint },
      };
    },
  };
  const builder = new MessageSignatureBundleBuilder({ signer, witnesses: [] });
  const bundle = await builder.create({ data });
  return bundleToJSON(bundle);
}

/**
 * Keyless signing: a Fulcio certificate for the CI's OIDC identity (GitHub Actions with
 * `id-token: write`) and a Rekor transparency-log entry. Needs the network; used by the release
 * workflow, never by `pnpm release:check`.
 * @param {Buffer} data
 */
export async function signBlobKeyless(data) {
  const signer = new FulcioSigner({
    identityProvider: new CIContextProvider('sigstore'),
    fulcioBaseURL: DEFAULT_FULCIO_URL,
  });
  const witness = new RekorWitness({ rekorBaseURL: DEFAULT_REKOR_URL, fetchOnConflict: true });
  const builder = new MessageSignatureBundleBuilder({ signer, witnesses: [witness] });
  return bundleToJSON(await builder.create({ data }));
}
