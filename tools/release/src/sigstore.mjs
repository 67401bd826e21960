// Sigstore bundles with a local key, and their verification, using sigstore-js.
//
// Keyless signing (Fulcio certificate + Rekor entry) needs GitHub's OIDC token and the network;
// it runs in .github/workflows/release.yml. Here the same bundle format is produced with an
// ephemeral key: a "public key hint" bundle with no transparency-log entry, verified with
// @sigstore/verify against exactly that key.
import { createHash, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import {
  CIContextProvider,
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
} from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';

/** An empty trust root: key-signed bundles trust only the key handed to the verifier. */
const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

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

const require = createRequire(import.meta.url);

/**
 * The Sigstore public-good trusted root (Fulcio CAs, Rekor and CT log keys) that ships inside
 * @sigstore/tuf as its TUF seed, so keyless verification works offline.
 */
export function shippedTrustedRoot() {
  const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'));
  const mirror = seeds['https://tuf-repo-cdn.sigstore.dev'] ?? Object.values(seeds)[0];
  const encoded = mirror?.targets?.['trusted_root.json'];
  if (typeof encoded !== 'string') throw new Error('@sigstore/tuf seeds.json has no trusted_root.json');
  return TrustedRoot.fromJSON(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')));
}

/**
 * Verifies a keyless (certificate) bundle: the certificate must chain to a Fulcio CA of the
 * trusted root at the time the transparency log recorded the entry, carry an SCT from a trusted CT
 * log, the Rekor entry must verify against a trusted log key, the signature must cover the
 * artifact, and the certificate must name `identity` (SAN) and `issuer` (OIDC issuer extension).
 * @param {Buffer} artifact
 * @param {object} bundleJson
 * @param {{ identity: string, issuer: string, trustedRoot?: any }} policy
 */
export function verifyKeyless(artifact, bundleJson, policy) {
  const bundle = parseBundle(bundleJson);
  if (bundle.verificationMaterial.content.$case === 'publicKey') {
    throw new BundleVerificationError(
      'BUNDLE_KIND',
      'bundle is key-signed; verify it with --key, not an identity',
    );
  }
  const trust = toTrustMaterial(policy.trustedRoot ?? shippedTrustedRoot());
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  try {
    const signer = verifier.verify(toSignedEntity(bundle, artifact), {
      subjectAlternativeName: policy.identity,
      extensions: { issuer: policy.issuer },
    });
    if (bundle.content.$case === 'dsseEnvelope') checkInTotoSubject(bundle, artifact);
    else checkMessageDigest(bundle, artifact);
    return { identity: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
  } catch (error) {
    if (error instanceof BundleVerificationError) throw error;
    throw new BundleVerificationError(
      /** @type {any} */ (error).code ?? 'VERIFY_FAILED',
      `bundle does not verify: ${errorMessage(error)}`,
    );
  }
}

/** For DSSE bundles (in-toto attestations) the artifact is named by digest in the statement. */
function checkInTotoSubject(bundle, artifact) {
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== 'application/vnd.in-toto+json') {
    throw new BundleVerificationError(
      'DIGEST_MISMATCH',
      `DSSE payload type ${env.payloadType} names no artifact`,
    );
  }
  let statement;
  try {
    statement = JSON.parse(Buffer.from(env.payload).toString('utf8'));
  } catch {
    throw new BundleVerificationError('BUNDLE_INVALID', 'DSSE payload is not JSON');
  }
  const digests = (statement.subject ?? []).flatMap((s) => Object.entries(s.digest ?? {}));
  const match = digests.some(([alg, hex]) => {
    const a = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' }[alg];
    return a !== undefined && createHash(a).update(artifact).digest('hex') === String(hex).toLowerCase();
  });
  if (!match) {
    throw new BundleVerificationError('DIGEST_MISMATCH', 'the artifact is not a subject of the attestation');
  }
}

function parseBundle(bundleJson) {
  try {
    return bundleFromJSON(bundleJson);
  } catch (error) {
    throw new BundleVerificationError('BUNDLE_INVALID', `not a sigstore bundle: ${errorMessage(error)}`);
  }
}

/** A verification failure with a stable code (sigstore's code, or ours). */
export class BundleVerificationError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'BundleVerificationError';
    this.code = code;
  }
}

/**
 * Verifies a key-signed bundle against `artifact` with the given public key (PEM). The hint in
 * the bundle is not trusted: the supplied key is the only key accepted.
 * @param {Buffer} artifact
 * @param {object} bundleJson
 * @param {string} publicKeyPemText
 */
export function verifyWithKey(artifact, bundleJson, publicKeyPemText) {
  const bundle = parseBundle(bundleJson);
  if (bundle.verificationMaterial.content.$case !== 'publicKey') {
    throw new BundleVerificationError(
      'BUNDLE_KIND',
      'bundle is certificate-signed (keyless); verify it with an identity and issuer, not a key',
    );
  }
  const publicKey = createPublicKey(publicKeyPemText);
  const trust = toTrustMaterial(/** @type {any} */ (EMPTY_ROOT), () => ({
    publicKey,
    validFor: () => true,
  }));
  // No transparency log or timestamp authority is involved in a key-signed offline bundle.
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  try {
    verifier.verify(toSignedEntity(bundle, artifact));
  } catch (error) {
    throw new BundleVerificationError(
      /** @type {any} */ (error).code ?? 'VERIFY_FAILED',
      `signature does not verify: ${errorMessage(error)}`,
    );
  }
  // @sigstore/verify checked the signature over the artifact; the digest recorded in the bundle
  // must name the same bytes, or the bundle is inconsistent.
  checkMessageDigest(bundle, artifact);
  return { hint: bundle.verificationMaterial.content.publicKey.hint };
}

/**
 * A message-signature bundle carries the artifact digest; check it too (the signature check
 * alone would already fail, but this gives the clearer message).
 */
function checkMessageDigest(bundle, artifact) {
  if (bundle.content.$case !== 'messageSignature') return;
  const { messageDigest } = bundle.content.messageSignature;
  const alg = { 1: 'sha256', 2: 'sha384', 3: 'sha512' }[messageDigest.algorithm] ?? 'sha256';
  const actual = createHash(alg).update(artifact).digest();
  if (!actual.equals(Buffer.from(messageDigest.digest))) {
    throw new BundleVerificationError(
      'DIGEST_MISMATCH',
      `artifact ${alg} digest ${actual.toString('hex')} does not match the bundle's ${Buffer.from(messageDigest.digest).toString('hex')}`,
    );
  }
}

function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}
