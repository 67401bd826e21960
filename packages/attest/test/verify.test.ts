// @codex/attest against bundles built here: key-signed ones by hand (node:crypto), keyless ones
// on the openssl test CA and the private Sigstore stack of ./keyless-fixture.mjs.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bundleKind,
  parseBundle,
  parsePublicKey,
  parseTrustedRoot,
  shippedTrustedRoot,
  type TrustedRoot,
  verifyKeyless,
  verifyWithKey,
} from '../src/index.js';
import { failure } from './failure.js';
import {
  certificateBundle,
  IDENTITY,
  ISSUER,
  makeCertificates,
  privateSigstore,
  trustedRootWith,
} from './keyless-fixture.mjs';

const data = Buffer.from('codex-cli-0.1.0.tgz, more or less\n');
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b);

function keyBundle(content: Record<string, unknown>) {
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'h' }, tlogEntries: [] },
    ...content,
  };
}
const messageBundle = (digestOf: Buffer = data) =>
  keyBundle({
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: sha256(digestOf).digest('base64') },
      signature: sign('sha256', data, privateKey).toString('base64'),
    },
  });

/** A DSSE bundle over an in-toto statement (PAE signed with the key). */
function dsseBundle(statement: unknown, payloadType = 'application/vnd.in-toto+json') {
  const payload = Buffer.from(JSON.stringify(statement));
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `),
    payload,
  ]);
  return keyBundle({
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType,
      signatures: [{ sig: sign('sha256', pae, privateKey).toString('base64'), keyid: '' }],
    },
  });
}

describe('verifyWithKey', () => {
  it('verifies a message-signature bundle with exactly that key; parsed or JSON', () => {
    expect(verifyWithKey(data, messageBundle(), pem)).toEqual({ hint: 'h' });
    const parsed = parseBundle(messageBundle());
    expect(bundleKind(parsed)).toBe('key');
    expect(verifyWithKey(data, parsed, parsePublicKey(pem))).toEqual({ hint: 'h' });
  });

  it('a tampered file or another key: ATTEST_SIGNATURE_INVALID with sigstore’s reason', () => {
    const e = failure(() => verifyWithKey(Buffer.from('x'), messageBundle(), pem));
    expect([e.code, e.reason, e.message]).toEqual([
      'ATTEST_SIGNATURE_INVALID',
      'SIGNATURE_ERROR',
      'signature verification failed',
    ]);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(failure(() => verifyWithKey(data, messageBundle(), other)).reason).toBe('SIGNATURE_ERROR');
  });

  it('a digest that names other bytes: ATTEST_DIGEST_MISMATCH', () => {
    const e = failure(() => verifyWithKey(data, messageBundle(Buffer.from('other')), pem));
    expect([e.code, e.reason]).toEqual(['ATTEST_DIGEST_MISMATCH', 'DIGEST_MISMATCH']);
    expect(e.message).toBe("the file's sha256 digest is not the one in the bundle");
  });

  it('DSSE: the file must be a subject of the in-toto statement', () => {
    const subject = (hex: string) => ({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: hex } }],
    });
    expect(verifyWithKey(data, dsseBundle(subject(sha256(data).digest('hex'))), pem)).toEqual({ hint: 'h' });
    const other = failure(() => verifyWithKey(data, dsseBundle(subject(sha256('x').digest('hex'))), pem));
    expect([other.code, other.message]).toEqual([
      'ATTEST_DIGEST_MISMATCH',
      'the file is not a subject of the attestation',
    ]);
    expect(failure(() => verifyWithKey(data, dsseBundle({ subject: 'nope' }), pem)).message).toBe(
      'the DSSE payload is not an in-toto statement',
    );
    expect(failure(() => verifyWithKey(data, dsseBundle({}, 'text/plain'), pem)).message).toBe(
      'DSSE payload type text/plain names no file',
    );
  });

  it('bad inputs have their own codes', () => {
    const notBundle = failure(() => verifyWithKey(data, { hello: 'world' }, pem));
    expect([notBundle.code, notBundle.reason]).toEqual(['ATTEST_BUNDLE_INVALID', 'BUNDLE_INVALID']);
    expect(notBundle.message).toMatch(/^not a sigstore bundle: /);
    const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(failure(() => parsePublicKey(priv))).toMatchObject({
      code: 'ATTEST_KEY_INVALID',
      reason: 'PRIVATE_KEY',
    });
    expect(failure(() => parsePublicKey('hello'))).toMatchObject({
      code: 'ATTEST_KEY_INVALID',
      reason: 'NOT_PUBLIC_KEY',
    });
    expect(failure(() => parseTrustedRoot({ nope: 1 })).code).toBe('ATTEST_TRUSTED_ROOT_INVALID');
  });
});

describe('verifyKeyless', () => {
  let certs: ReturnType<typeof makeCertificates>;
  let bundle: unknown;
  beforeAll(async () => {
    certs = makeCertificates();
    bundle = await certificateBundle(data, certs);
  });

  it('a certificate that does not chain to the shipped Fulcio root fails on the chain', () => {
    expect(shippedTrustedRoot().certificateAuthorities.length).toBeGreaterThan(0);
    const e = failure(() => verifyKeyless(data, bundle, { identity: IDENTITY, issuer: ISSUER }));
    expect([e.code, e.reason]).toEqual(['ATTEST_SIGNATURE_INVALID', 'CERTIFICATE_ERROR']);
    expect(e.message).toMatch(/certificate chain/);
  });

  it('with the test CA trusted, the chain passes and the missing SCT fails', () => {
    const trustedRoot = trustedRootWith(certs.caPem);
    const e = failure(() => verifyKeyless(data, bundle, { identity: IDENTITY, issuer: ISSUER, trustedRoot }));
    expect(e.message).toMatch(/expected 1 SCTs, got 0/);
  });

  it('kind and policy are checked first; an empty identity is refused, not skipped', () => {
    expect(
      failure(() => verifyKeyless(data, messageBundle(), { identity: IDENTITY, issuer: ISSUER })),
    ).toMatchObject({
      code: 'ATTEST_BUNDLE_KIND',
      reason: 'BUNDLE_KIND',
    });
    expect(failure(() => verifyWithKey(data, bundle, pem)).code).toBe('ATTEST_BUNDLE_KIND');
    expect(failure(() => verifyKeyless(data, bundle, { identity: '', issuer: ISSUER })).code).toBe(
      'ATTEST_POLICY_INVALID',
    );
  });

  it('a bundle of the private stack verifies against its root and reports identity and issuer', async () => {
    const stack = await privateSigstore(data);
    const policy = { identity: IDENTITY, issuer: ISSUER, trustedRoot: stack.trustedRoot as TrustedRoot };
    expect(verifyKeyless(data, stack.bundle, policy)).toEqual({ identity: IDENTITY, issuer: ISSUER });
    expect(
      failure(() => verifyKeyless(data, stack.bundle, { ...policy, identity: 'https://evil' })).reason,
    ).toBe('UNTRUSTED_SIGNER_ERROR');
  });
});
