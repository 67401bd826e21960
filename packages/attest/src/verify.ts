import { createHash, type KeyObject } from 'node:crypto';
import * as z from '@codex/security-profile/zod';
import type { Bundle } from '@sigstore/bundle';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { AttestError } from './errors.js';
import { bundleKind, parseBundle, parsePublicKey, shippedTrustedRoot } from './material.js';

/** An empty trust root: key-signed bundles trust only the key handed to the verifier. */
const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
} as unknown as TrustedRoot;

const HASHES: Record<number, string> = { 1: 'sha256', 2: 'sha384', 3: 'sha512' };
const SUBJECT_HASHES = new Set(['sha256', 'sha384', 'sha512']);

/** The in-toto statement a DSSE bundle signs: only the subjects' digests matter here. */
const statementSchema = z.looseObject({
  subject: z.array(z.looseObject({ digest: z.record(z.string(), z.string()).optional() })).optional(),
});

/** Who must have signed a keyless bundle: certificate SAN and OIDC issuer, exactly. */
export const keylessPolicySchema = z.object({
  identity: z.string().min(1),
  issuer: z.string().min(1),
  /** Replaces the trusted root shipped in @sigstore/tuf. */
  trustedRoot: z.custom<TrustedRoot>((v) => typeof v === 'object' && v !== null).optional(),
});
export type KeylessPolicy = z.input<typeof keylessPolicySchema>;

/** A bundle as parsed by {@link parseBundle}, or its JSON. */
export type BundleInput = Bundle | unknown;

const asBundle = (input: BundleInput): Bundle =>
  typeof input === 'object' &&
  input !== null &&
  'verificationMaterial' in input &&
  '$case' in ((input as Bundle).content ?? {})
    ? (input as Bundle)
    : parseBundle(input);

function verifyEntity(verifier: Verifier, bundle: Bundle, artifact: Uint8Array, policy?: object) {
  try {
    return verifier.verify(toSignedEntity(bundle, Buffer.from(artifact)), policy);
  } catch (error) {
    const e = error as { code?: string; message?: string };
    throw new AttestError('ATTEST_SIGNATURE_INVALID', e.message ?? String(error), {
      reason: e.code ?? 'VERIFY_FAILED',
      cause: error,
    });
  }
}

const mismatch = (message: string) =>
  new AttestError('ATTEST_DIGEST_MISMATCH', message, { reason: 'DIGEST_MISMATCH' });

/**
 * The bytes the bundle says it signed must be these bytes: the message digest of a
 * message-signature bundle (when it has one; the signature itself covers the artifact), or one of
 * the subjects of a DSSE in-toto statement. Throws `ATTEST_DIGEST_MISMATCH`.
 */
export function checkArtifactBinding(bundle: Bundle, artifact: Uint8Array): void {
  if (bundle.content.$case === 'messageSignature') {
    const { messageDigest } = bundle.content.messageSignature;
    if (!messageDigest) return;
    const alg = HASHES[messageDigest.algorithm] ?? 'sha256';
    const actual = createHash(alg).update(artifact).digest();
    if (!actual.equals(Buffer.from(messageDigest.digest)))
      throw mismatch(`the file's ${alg} digest is not the one in the bundle`);
    return;
  }
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== 'application/vnd.in-toto+json')
    throw mismatch(`DSSE payload type ${env.payloadType} names no file`);
  let statement: z.output<typeof statementSchema>;
  try {
    statement = statementSchema.parse(JSON.parse(Buffer.from(env.payload).toString('utf8')));
  } catch {
    throw mismatch('the DSSE payload is not an in-toto statement');
  }
  const match = (statement.subject ?? []).some((s) =>
    Object.entries(s.digest ?? {}).some(
      ([alg, hex]) =>
        SUBJECT_HASHES.has(alg) && createHash(alg).update(artifact).digest('hex') === hex.toLowerCase(),
    ),
  );
  if (!match) throw mismatch('the file is not a subject of the attestation');
}

/**
 * Verifies a key-signed bundle against `artifact` with `publicKey` (PEM or KeyObject) only: the
 * hint in the bundle is not trusted, and no transparency log or timestamp is involved. Then checks
 * that the bundle names these bytes. Returns the bundle's key hint.
 */
export function verifyWithKey(
  artifact: Uint8Array,
  bundleInput: BundleInput,
  publicKey: string | Uint8Array | KeyObject,
): { hint: string } {
  const bundle = asBundle(bundleInput);
  if (bundle.verificationMaterial.content.$case !== 'publicKey') {
    throw new AttestError(
      'ATTEST_BUNDLE_KIND',
      'the bundle is certificate-signed (keyless); verify it with an identity and issuer, not a key',
      { reason: 'BUNDLE_KIND' },
    );
  }
  const key =
    typeof publicKey === 'string' || publicKey instanceof Uint8Array ? parsePublicKey(publicKey) : publicKey;
  const trust = toTrustMaterial(EMPTY_ROOT, () => ({ publicKey: key, validFor: () => true }));
  verifyEntity(
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }),
    bundle,
    artifact,
  );
  checkArtifactBinding(bundle, artifact);
  return { hint: bundle.verificationMaterial.content.publicKey.hint };
}

/**
 * Verifies a keyless (certificate) bundle: the certificate must chain to a Fulcio CA of the
 * trusted root (default: the one shipped in @sigstore/tuf, offline) at the time the transparency
 * log recorded the entry, carry an SCT from a trusted CT log, the Rekor entry must verify, the
 * signature must cover the artifact, and the certificate must name `identity` (SAN) and `issuer`
 * (OIDC issuer extension). Then checks that the bundle names these bytes.
 */
export function verifyKeyless(
  artifact: Uint8Array,
  bundleInput: BundleInput,
  policy: KeylessPolicy,
): { identity: string | undefined; issuer: string | undefined } {
  const parsed = keylessPolicySchema.safeParse(policy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AttestError(
      'ATTEST_POLICY_INVALID',
      `keyless policy ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const bundle = asBundle(bundleInput);
  if (bundleKind(bundle) === 'key') {
    throw new AttestError('ATTEST_BUNDLE_KIND', 'the bundle is key-signed; verify it with its public key', {
      reason: 'BUNDLE_KIND',
    });
  }
  const root = parsed.data.trustedRoot ?? shippedTrustedRoot();
  const verifier = new Verifier(toTrustMaterial(root), {
    tlogThreshold: 1,
    ctlogThreshold: 1,
    timestampThreshold: 1,
  });
  const signer = verifyEntity(verifier, bundle, artifact, {
    subjectAlternativeName: parsed.data.identity,
    extensions: { issuer: parsed.data.issuer },
  });
  checkArtifactBinding(bundle, artifact);
  return { identity: signer.identity?.subjectAlternativeName, issuer: signer.identity?.extensions?.issuer };
}
