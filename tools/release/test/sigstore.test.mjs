import { createHash } from 'node:crypto';
import { AttestError, shippedTrustedRoot, verifyKeyless, verifyWithKey } from '@codex/attest';
import { describe, expect, it } from 'vitest';
import {
  certificateBundle,
  IDENTITY,
  ISSUER,
  makeCertificates,
  trustedRootWith,
} from '../../../packages/attest/test/keyless-fixture.mjs';
import { ephemeralKey, keyHint, signBlob } from '../src/index.mjs';

function rejection(fn) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AttestError);
    return /** @type {AttestError} */ (error);
  }
  throw new Error('expected verification to fail, but it passed');
}

describe('key-signed bundles (ephemeral key)', () => {
  const data = Buffer.from('a release tarball, more or less');

  it('signs into a sigstore bundle with a public-key hint and verifies with that key', async () => {
    const key = ephemeralKey();
    const bundle = await signBlob(data, key);
    expect(bundle.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.bundle/);
    expect(bundle.verificationMaterial.publicKey.hint).toBe(key.hint);
    expect(key.hint).toBe(keyHint(key.publicKey));
    expect(Buffer.from(bundle.messageSignature.messageDigest.digest, 'base64').toString('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    expect(verifyWithKey(data, bundle, key.publicKeyPem)).toEqual({ hint: key.hint });
    // a fresh key every time
    expect(ephemeralKey().hint).not.toBe(key.hint);
  });

  it('rejects a tampered artifact (one flipped bit) in the signature check', async () => {
    const key = ephemeralKey();
    const bundle = await signBlob(data, key);
    const tampered = Buffer.from(data);
    tampered[3] ^= 0x01;
    expect(rejection(() => verifyWithKey(tampered, bundle, key.publicKeyPem)).reason).toBe('SIGNATURE_ERROR');
  });

  it('rejects a bundle whose digest was rewritten to match tampered bytes', async () => {
    const key = ephemeralKey();
    const bundle = await signBlob(data, key);
    const tampered = Buffer.concat([data, Buffer.from('!')]);
    bundle.messageSignature.messageDigest.digest = createHash('sha256').update(tampered).digest('base64');
    expect(rejection(() => verifyWithKey(tampered, bundle, key.publicKeyPem)).reason).toBe('SIGNATURE_ERROR');
  });

  it('rejects a consistent bundle whose digest does not match its signature target', async () => {
    const key = ephemeralKey();
    const bundle = await signBlob(data, key);
    bundle.messageSignature.messageDigest.digest = createHash('sha256').update('other').digest('base64');
    expect(rejection(() => verifyWithKey(data, bundle, key.publicKeyPem)).reason).toBe('DIGEST_MISMATCH');
  });

  it('rejects another key, even when the bundle hint is rewritten to it', async () => {
    const key = ephemeralKey();
    const other = ephemeralKey();
    const bundle = await signBlob(data, key);
    expect(rejection(() => verifyWithKey(data, bundle, other.publicKeyPem)).reason).toBe('SIGNATURE_ERROR');
    bundle.verificationMaterial.publicKey.hint = other.hint;
    expect(rejection(() => verifyWithKey(data, bundle, other.publicKeyPem)).reason).toBe('SIGNATURE_ERROR');
  });

  it('rejects something that is not a bundle', () => {
    const key = ephemeralKey();
    expect(rejection(() => verifyWithKey(data, { hello: 'world' }, key.publicKeyPem)).reason).toBe(
      'BUNDLE_INVALID',
    );
  });

  it('refuses to verify a key-signed bundle as keyless, and the reverse', async () => {
    const key = ephemeralKey();
    const bundle = await signBlob(data, key);
    expect(rejection(() => verifyKeyless(data, bundle, { identity: IDENTITY, issuer: ISSUER })).reason).toBe(
      'BUNDLE_KIND',
    );
    const certs = makeCertificates();
    const certBundle = await certificateBundle(data, certs);
    expect(rejection(() => verifyWithKey(data, certBundle, key.publicKeyPem)).reason).toBe('BUNDLE_KIND');
  });
});

describe('keyless bundles against the trusted root shipped in @sigstore/tuf', () => {
  const data = Buffer.from('artifact');

  it('the shipped root has the public-good Fulcio CAs, Rekor logs and CT logs', () => {
    const root = shippedTrustedRoot();
    expect(root.certificateAuthorities.length).toBeGreaterThanOrEqual(1);
    expect(root.tlogs.map((t) => t.baseUrl)).toContain('https://rekor.sigstore.dev');
    expect(root.ctlogs.length).toBeGreaterThanOrEqual(1);
    const subjects = root.certificateAuthorities.map((c) => c.subject?.commonName);
    expect(subjects).toContain('sigstore');
  });

  it('a certificate that does not chain to Fulcio fails the chain check', async () => {
    const certs = makeCertificates();
    const bundle = await certificateBundle(data, certs);
    const e = rejection(() => verifyKeyless(data, bundle, { identity: IDENTITY, issuer: ISSUER }));
    expect(e.reason).toBe('CERTIFICATE_ERROR');
    expect(e.message).toMatch(/certificate chain/);
  });

  it('the same bundle passes the chain check when its CA is trusted, then needs an SCT', async () => {
    // Shows the failure above is the chain, not something earlier: with the test CA as the
    // trusted root, verification moves on and stops at the certificate-transparency requirement.
    const certs = makeCertificates();
    const bundle = await certificateBundle(data, certs);
    const e = rejection(() =>
      verifyKeyless(data, bundle, {
        identity: IDENTITY,
        issuer: ISSUER,
        trustedRoot: trustedRootWith(certs.caPem),
      }),
    );
    expect(e.reason).toBe('CERTIFICATE_ERROR');
    expect(e.message).toMatch(/expected 1 SCTs, got 0/);
  });
});
