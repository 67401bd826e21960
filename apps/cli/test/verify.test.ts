// `codex verify`: bundles are written by hand here (node:crypto + the openssl test CA of
// @codex/attest's test fixture), not by sigstore-js, so the command is checked against the bundle
// format itself rather than against its own library.
import { createHash, generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedRoot } from '@codex/attest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fakeTlogEntry,
  IDENTITY,
  ISSUER,
  makeCertificates,
  trustedRootWith,
} from '../../../packages/attest/test/keyless-fixture.mjs';
import { codex, type RunResult } from './helpers.js';

// Created at load time: the it.each table below names files in it.
const dir = mkdtempSync(join(tmpdir(), 'codex-verify-'));
const p = (name: string) => join(dir, name);

function keyBundle(data: Buffer, privateKey: KeyObject, publicKey: KeyObject) {
  const hint = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(data).digest('base64') },
      signature: sign('sha256', data, privateKey).toString('base64'),
    },
  };
}

/** A Fulcio-shaped certificate from a throw-away CA, and a bundle with one (fake) tlog entry. */
function certificateBundle(data: Buffer) {
  const certs = makeCertificates();
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: new X509Certificate(certs.leafPem).raw.toString('base64') },
      tlogEntries: [fakeTlogEntry()],
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(data).digest('base64') },
      signature: sign('sha256', data, certs.leafKey).toString('base64'),
    },
  };
  const root = TrustedRoot.toJSON(trustedRootWith(certs.caPem));
  return { bundle, root };
}

function expectOneLine(r: RunResult, status: number, pattern: RegExp) {
  expect(r.status).toBe(status);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^codex: error: /);
  expect(lines[0]).toMatch(pattern);
}

const data = Buffer.from('codex-cli-0.1.0.tgz, more or less\n');

beforeAll(() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(p('artifact.tgz'), data);
  writeFileSync(p('tampered.tgz'), Buffer.concat([data, Buffer.from(' ')]));
  writeFileSync(p('pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(p('other.pem'), other.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(p('private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(p('bundle.json'), JSON.stringify(keyBundle(data, privateKey, publicKey)));
  const { bundle, root } = certificateBundle(data);
  writeFileSync(p('keyless.json'), JSON.stringify(bundle));
  writeFileSync(p('test-root.json'), JSON.stringify(root));
  writeFileSync(p('not-json.json'), '{ nope');
  writeFileSync(p('not-bundle.json'), JSON.stringify({ hello: 'world' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('codex verify --key', () => {
  it('verifies a key-signed bundle: exit 0', () => {
    const r = codex(['verify', p('artifact.tgz'), '--bundle', p('bundle.json'), '--key', p('pub.pem')]);
    expect(r).toEqual({
      status: 0,
      stdout: `verified: ${p('artifact.tgz')} signed by key ${p('pub.pem')}\n`,
      stderr: '',
    });
  });

  it('--json reports the result as one JSON object', () => {
    const r = codex([
      'verify',
      p('artifact.tgz'),
      '--bundle',
      p('bundle.json'),
      '--key',
      p('pub.pem'),
      '--json',
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      verified: true,
      file: p('artifact.tgz'),
      bundle: p('bundle.json'),
      mode: 'key',
    });
  });

  it('a tampered file: exit 1, one line naming the signature failure', () => {
    const r = codex(['verify', p('tampered.tgz'), '--bundle', p('bundle.json'), '--key', p('pub.pem')]);
    expectOneLine(r, 1, /signature verification failed \[SIGNATURE_ERROR\]/);
  });

  it('another key: exit 1', () => {
    const r = codex(['verify', p('artifact.tgz'), '--bundle', p('bundle.json'), '--key', p('other.pem')]);
    expectOneLine(r, 1, /SIGNATURE_ERROR/);
  });

  it('--json failures are JSON on stderr', () => {
    const r = codex([
      'verify',
      p('tampered.tgz'),
      '--bundle',
      p('bundle.json'),
      '--key',
      p('pub.pem'),
      '--json',
    ]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe('VERIFICATION_FAILED');
  });
});

describe('codex verify --certificate-identity --certificate-oidc-issuer (keyless)', () => {
  const keyless = (extra: string[] = []) =>
    codex([
      'verify',
      p('artifact.tgz'),
      '--bundle',
      p('keyless.json'),
      '--certificate-identity',
      IDENTITY,
      '--certificate-oidc-issuer',
      ISSUER,
      ...extra,
    ]);

  it('a certificate that does not chain to the shipped Fulcio root: exit 1', () => {
    expectOneLine(keyless(), 1, /Failed to verify certificate chain \[CERTIFICATE_ERROR\]/);
  });

  it('--trusted-root replaces the shipped root: the chain passes, the missing SCT fails', () => {
    expectOneLine(keyless(['--trusted-root', p('test-root.json')]), 1, /expected 1 SCTs, got 0/);
  });
});

describe('bad input: exit 2, one line', () => {
  const base = [p('artifact.tgz'), '--bundle', p('bundle.json')];
  it.each([
    [['verify'], /missing <file>/],
    [['verify', p('artifact.tgz'), '--key', p('pub.pem')], /missing --bundle/],
    [['verify', ...base], /say who must have signed/],
    [
      ['verify', p('missing.tgz'), '--bundle', p('bundle.json'), '--key', p('pub.pem')],
      /cannot read file .*ENOENT/,
    ],
    [['verify', p('artifact.tgz'), '--bundle', p('not-json.json'), '--key', p('pub.pem')], /is not JSON/],
    [
      ['verify', p('artifact.tgz'), '--bundle', p('not-bundle.json'), '--key', p('pub.pem')],
      /is not a sigstore bundle/,
    ],
    [['verify', ...base, '--key', p('artifact.tgz')], /is not a PEM public key/],
    [['verify', ...base, '--key', p('private.pem')], /is a private key; pass the public key/],
    [['verify', ...base, '--key', p('pub.pem'), '--certificate-identity', IDENTITY], /either --key or/],
    [['verify', ...base, '--certificate-identity', IDENTITY], /needs both/],
    [
      ['verify', ...base, '--certificate-identity', '', '--certificate-oidc-issuer', ISSUER],
      /must not be empty/,
    ],
    [
      ['verify', ...base, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER],
      /key-signed/,
    ],
    [['verify', p('artifact.tgz'), '--bundle', p('keyless.json'), '--key', p('pub.pem')], /is keyless/],
    [['verify', ...base, '--key', p('pub.pem'), '--bogus'], /unknown option '--bogus'/],
    [
      [
        'verify',
        p('artifact.tgz'),
        '--bundle',
        p('keyless.json'),
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        ISSUER,
        '--trusted-root',
        p('not-json.json'),
      ],
      /is not a sigstore trusted_root\.json/,
    ],
    [
      ['verify', ...base, '--key', p('pub.pem'), '--trusted-root', p('test-root.json')],
      /keyless verification only/,
    ],
  ])('%j', (args, pattern) => {
    expectOneLine(codex(args as string[]), 2, pattern as RegExp);
  });
});
