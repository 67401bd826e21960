// verifyFile: the artifact, its bundle and the key or trusted root read from disk, each input
// problem an AttestError naming the file.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustedRoot, verifyFile } from '../src/index.js';
import { failure } from './failure.js';
import {
  certificateBundle,
  IDENTITY,
  ISSUER,
  makeCertificates,
  trustedRootWith,
} from './keyless-fixture.mjs';

const dir = mkdtempSync(join(tmpdir(), 'codex-attest-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (name: string) => join(dir, name);

const data = Buffer.from('codex-cli-0.1.0.tgz, more or less\n');
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(p('artifact.tgz'), data);
writeFileSync(p('tampered.tgz'), Buffer.concat([data, Buffer.from(' ')]));
writeFileSync(p('pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
writeFileSync(p('private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(p('not-json.json'), '{ nope');
writeFileSync(p('not-bundle.json'), JSON.stringify({ hello: 'world' }));
writeFileSync(
  p('bundle.json'),
  JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'h' }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(data).digest('base64') },
      signature: sign('sha256', data, privateKey).toString('base64'),
    },
  }),
);

describe('verifyFile with a key', () => {
  it('verifies a key-signed bundle; a tampered file fails with sigstore’s reason', () => {
    expect(verifyFile(p('artifact.tgz'), p('bundle.json'), { key: p('pub.pem') })).toEqual({ mode: 'key' });
    const e = failure(() => verifyFile(p('tampered.tgz'), p('bundle.json'), { key: p('pub.pem') }));
    expect(e).toMatchObject({ code: 'ATTEST_SIGNATURE_INVALID', reason: 'SIGNATURE_ERROR' });
  });

  it('names the input that cannot be read or parsed', () => {
    const key = { key: p('pub.pem') };
    expect(failure(() => verifyFile(p('missing.tgz'), p('bundle.json'), key))).toMatchObject({
      code: 'ATTEST_INPUT_UNREADABLE',
      reason: 'ENOENT',
      message: `cannot read file "${p('missing.tgz')}" (ENOENT)`,
    });
    expect(failure(() => verifyFile(p('artifact.tgz'), p('not-json.json'), key)).message).toBe(
      `bundle "${p('not-json.json')}" is not JSON`,
    );
    expect(failure(() => verifyFile(p('artifact.tgz'), p('not-bundle.json'), key))).toMatchObject({
      code: 'ATTEST_BUNDLE_INVALID',
      message: expect.stringMatching(/^bundle ".*not-bundle\.json" is not a sigstore bundle/),
    });
    expect(
      failure(() => verifyFile(p('artifact.tgz'), p('bundle.json'), { key: p('private.pem') })),
    ).toMatchObject({
      code: 'ATTEST_KEY_INVALID',
      reason: 'PRIVATE_KEY',
      message: `key "${p('private.pem')}" is a private key; pass the public key`,
    });
    expect(failure(() => verifyFile(p('artifact.tgz'), p('bundle.json'), { key: p('nope.pem') })).code).toBe(
      'ATTEST_INPUT_UNREADABLE',
    );
  });
});

describe('verifyFile keyless', () => {
  // A Fulcio-shaped certificate from a throw-away CA, with one (fake) tlog entry and no SCT.
  beforeAll(async () => {
    const certs = makeCertificates();
    writeFileSync(p('keyless.json'), JSON.stringify(await certificateBundle(data, certs)));
    writeFileSync(p('root.json'), JSON.stringify(TrustedRoot.toJSON(trustedRootWith(certs.caPem))));
  });
  const who = { identity: IDENTITY, issuer: ISSUER };

  it('a bundle of the other kind is ATTEST_BUNDLE_KIND with a reason saying which', () => {
    expect(
      failure(() => verifyFile(p('artifact.tgz'), p('keyless.json'), { key: p('pub.pem') })),
    ).toMatchObject({
      code: 'ATTEST_BUNDLE_KIND',
      reason: 'KEYLESS_BUNDLE',
    });
    expect(failure(() => verifyFile(p('artifact.tgz'), p('bundle.json'), who))).toMatchObject({
      code: 'ATTEST_BUNDLE_KIND',
      reason: 'KEY_BUNDLE',
    });
  });

  it('checks against the shipped root, or the given trusted_root.json file', () => {
    const shipped = failure(() => verifyFile(p('artifact.tgz'), p('keyless.json'), who));
    expect(shipped).toMatchObject({ code: 'ATTEST_SIGNATURE_INVALID', reason: 'CERTIFICATE_ERROR' });
    const given = failure(() =>
      verifyFile(p('artifact.tgz'), p('keyless.json'), { ...who, trustedRoot: p('root.json') }),
    );
    expect(given.message).toMatch(/expected 1 SCTs, got 0/);
    const bad = failure(() =>
      verifyFile(p('artifact.tgz'), p('keyless.json'), { ...who, trustedRoot: p('not-json.json') }),
    );
    expect(bad).toMatchObject({
      code: 'ATTEST_TRUSTED_ROOT_INVALID',
      message: `trusted root "${p('not-json.json')}" is not a sigstore trusted_root.json`,
    });
  });
});
