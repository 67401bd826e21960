// Builds a certificate-signed ("keyless"-shaped) sigstore bundle whose certificate comes from a
// throw-away CA made with openssl in the test, not from Fulcio. It carries a transparency-log
// entry whose only real content is its integrated time, so verification gets past the timestamp
// step and reaches the certificate-chain check, which is what the tests exercise.
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign as nodeSign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { MessageSignatureBundleBuilder } from '@sigstore/sign';

export const IDENTITY = 'https://github.com/codex/codex/.github/workflows/release.yml@refs/heads/main';
export const ISSUER = 'https://token.actions.githubusercontent.com';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a Fulcio-shaped leaf (SAN URI + OIDC issuer extension 1.3.6.1.4.1.57264.1.8). */
export function makeCertificates({ identity = IDENTITY, issuer = ISSUER } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'codex-ca-'));
  try {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-subj',
        '/O=test/CN=not-fulcio',
        '-days',
        '2',
        '-out',
        'ca.pem',
      ],
      dir,
    );
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.key'], dir);
    openssl(['req', '-new', '-key', 'leaf.key', '-subj', '/O=test', '-out', 'leaf.csr'], dir);
    writeFileSync(
      join(dir, 'ext.cnf'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=codeSigning',
        `subjectAltName=critical,URI:${identity}`,
        `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${issuer}`,
        '',
      ].join('\n'),
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        'ext.cnf',
        '-out',
        'leaf.pem',
      ],
      dir,
    );
    return {
      caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      leafPem: readFileSync(join(dir, 'leaf.pem'), 'utf8'),
      leafKey: createPrivateKey(readFileSync(join(dir, 'leaf.key'))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Signs `data` with the leaf key into a v0.3 certificate bundle with one (unverifiable) tlog entry. */
export async function certificateBundle(data, certs) {
  const signer = {
    async sign(payload) {
      return {
        signature: nodeSign('sha256', payload, certs.leafKey),
        key: { $case: 'x509Certificate', certificate: certs.leafPem },
      };
    },
  };
  const bundle = bundleToJSON(
    await new MessageSignatureBundleBuilder({ signer, witnesses: [] }).create({ data }),
  );
  const now = Math.floor(Date.now() / 1000);
  const fake = Buffer.from('not a real log').toString('base64');
  bundle.verificationMaterial.tlogEntries = [
    {
      logIndex: '1',
      logId: { keyId: createHash('sha256').update('not a real log').digest('base64') },
      kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
      integratedTime: String(now),
      inclusionPromise: { signedEntryTimestamp: fake },
      inclusionProof: {
        logIndex: '1',
        rootHash: fake,
        treeSize: '2',
        hashes: [],
        checkpoint: { envelope: 'not a checkpoint' },
      },
      canonicalizedBody: Buffer.from('{}').toString('base64'),
    },
  ];
  return bundle;
}

/** A trusted root whose only certificate authority is the test CA. */
export function trustedRootWith(caPem) {
  const der = new X509Certificate(caPem).raw;
  return TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [
      {
        subject: { organization: 'test', commonName: 'not-fulcio' },
        uri: 'https://ca.invalid',
        certChain: { certificates: [{ rawBytes: der.toString('base64') }] },
        validFor: { start: new Date(Date.now() - 86_400_000).toISOString() },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  });
}
