// The one openssl test CA of the workspace, and the keyless-shaped sigstore bundles built on it,
// made in the test, never by Fulcio or Rekor. Used by @codex/attest's tests, tools/release's tests
// and apps/cli's `codex verify` tests (import it from packages/attest/test/fixtures/).
// makeCertificates(): a throw-away CA and a Fulcio-shaped leaf.
// certificateBundle(): a certificate from a throw-away CA and a transparency-log entry whose only
// real content is its integrated time, so verification reaches the certificate-chain check.
// privateSigstore(): a complete private stack (CA + CT log + transparency log) whose bundles pass
// every check with its own trusted root.
import { execFileSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey as createPublicKeyFrom,
  generateKeyPairSync,
  sign as nodeSign,
  X509Certificate,
} from 'node:crypto';
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

/**
 * A CA and a Fulcio-shaped leaf (SAN URI + OIDC issuer extension 1.3.6.1.4.1.57264.1.8), made with
 * openssl. `commonName` names the CA; `extensions` are extra openssl extension lines for the leaf.
 * @param {{ identity?: string, issuer?: string, commonName?: string, extensions?: string[] }} [opts]
 */
export function makeCertificates({
  identity = IDENTITY,
  issuer = ISSUER,
  commonName = 'not-fulcio',
  extensions = [],
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'codex-ca-'));
  try {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    const subject = `/O=test/CN=${commonName}`;
    openssl(
      ['req', '-x509', '-new', '-key', 'ca.key', '-subj', subject, '-days', '2', '-out', 'ca.pem'],
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
        ...extensions,
        '',
      ].join('\n'),
    );
    const ca = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'];
    const out = ['-days', '1', '-extfile', 'ext.cnf', '-out', 'leaf.pem'];
    openssl(['x509', '-req', '-in', 'leaf.csr', ...ca, ...out], dir);
    return {
      caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      caKey: createPrivateKey(readFileSync(join(dir, 'ca.key'))),
      leafPem: readFileSync(join(dir, 'leaf.pem'), 'utf8'),
      leafKey: createPrivateKey(readFileSync(join(dir, 'leaf.key'))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A transparency-log entry whose only real content is its integrated time (now), so verification
 * gets past the log to the certificate-chain check and fails there or later.
 */
export function fakeTlogEntry() {
  const fake = Buffer.from('not a real log').toString('base64');
  return {
    logIndex: '1',
    logId: { keyId: createHash('sha256').update('not a real log').digest('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
    integratedTime: String(Math.floor(Date.now() / 1000)),
    inclusionPromise: { signedEntryTimestamp: fake },
    inclusionProof: {
      logIndex: '1',
      rootHash: fake,
      treeSize: '2',
      hashes: [],
      checkpoint: { envelope: 'not a checkpoint' },
    },
    canonicalizedBody: Buffer.from('{}').toString('base64'),
  };
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
  bundle.verificationMaterial.tlogEntries = [fakeTlogEntry()];
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

// ---------------------------------------------------------------------------------------------
// A complete private Sigstore stack for positive keyless tests: a CA (Fulcio's role), a CT log
// that issues an SCT embedded in the leaf certificate, and a transparency log (Rekor's role) that
// signs an inclusion promise (SET) over a hashedrekord entry. With its trusted root, a bundle from
// this stack passes every check @sigstore/verify makes for public-good bundles; without it (the
// shipped root), it fails on the chain.

const SCT_OID = '1.3.6.1.4.1.11129.2.4.2';
const SIG_LEN = 71; // ECDSA P-256 DER signatures are 70-72 bytes; the placeholder fixes 71
const LIST_LEN = 2 + 2 + (1 + 32 + 8 + 2 + 1 + 1 + 2 + SIG_LEN);

/** Reads one DER element at `off`: { start, headerLen, len, end }. */
function derAt(buf, off) {
  let len = buf[off + 1];
  let headerLen = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    headerLen = 2 + n;
  }
  return { start: off, headerLen, len, end: off + headerLen + len };
}

function derLen(n) {
  if (n < 0x80) return Buffer.from([n]);
  const bytes = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const der = (tag, body) => Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);

function signFixedLength(data, key, length) {
  for (;;) {
    const sig = nodeSign('sha256', data, key);
    if (sig.length === length) return sig;
  }
}

const spki = (key) =>
  (key.type === 'public' ? key : createPublicKeyFrom(key)).export({ type: 'spki', format: 'der' });

/**
 * @param {Buffer} artifact
 * @param {{ identity?: string, issuer?: string }} [opts]
 */
export async function privateSigstore(artifact, { identity = IDENTITY, issuer = ISSUER } = {}) {
  const { X509Certificate: SigstoreCert, ByteStream, json } = await import('@sigstore/core');
  const certs = makeCertificates({
    identity,
    issuer,
    commonName: 'private-fulcio',
    extensions: [`${SCT_OID}=DER:04${LIST_LEN.toString(16)}${'00'.repeat(LIST_LEN)}`],
  });
  const { caKey, leafKey, caPem } = certs;
  const ca = new X509Certificate(caPem);
  const placeholderDer = new X509Certificate(certs.leafPem).raw;

  // SCT from our CT log over the precertificate (the TBS without the SCT extension)
  const ctKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctLogId = createHash('sha256').update(spki(ctKey.publicKey)).digest();
  const parsed = SigstoreCert.parse(placeholderDer);
  const clone = parsed.clone();
  const i = clone.extensions.findIndex((e) => e.subs[0].toOID() === SCT_OID);
  clone.extensions.splice(i, 1);
  const tbsPre = clone.tbsCertificate.toDER();
  const preCert = new ByteStream();
  preCert.appendView(
    createHash('sha256')
      .update(ca.publicKey.export({ type: 'spki', format: 'der' }))
      .digest(),
  );
  preCert.appendUint24(tbsPre.length);
  preCert.appendView(tbsPre);
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigInt64BE(BigInt(Date.now()));
  const signed = new ByteStream();
  signed.appendChar(0);
  signed.appendChar(0);
  signed.appendView(timestamp);
  signed.appendUint16(1);
  signed.appendView(preCert.buffer);
  signed.appendUint16(0);
  const sctSig = signFixedLength(signed.buffer, ctKey.privateKey, SIG_LEN);
  const sct = Buffer.concat([
    Buffer.from([0]),
    ctLogId,
    timestamp,
    Buffer.from([0, 0, 4, 3]),
    Buffer.from([SIG_LEN >> 8, SIG_LEN & 0xff]),
    sctSig,
  ]);
  const list = Buffer.concat([
    Buffer.from([(sct.length + 2) >> 8, (sct.length + 2) & 0xff]),
    Buffer.from([sct.length >> 8, sct.length & 0xff]),
    sct,
  ]);
  if (list.length !== LIST_LEN) throw new Error(`SCT list is ${list.length} bytes, expected ${LIST_LEN}`);

  // put the real SCT list where the placeholder was, then have the CA sign the new TBS
  const holder = Buffer.concat([Buffer.from([0x04, LIST_LEN]), Buffer.alloc(LIST_LEN)]);
  const at = placeholderDer.indexOf(holder);
  if (at < 0 || placeholderDer.indexOf(holder, at + 1) >= 0) throw new Error('SCT placeholder not unique');
  const withSct = Buffer.from(placeholderDer);
  list.copy(withSct, at + 2);
  const outer = derAt(withSct, 0);
  const tbsEl = derAt(withSct, outer.headerLen);
  const algEl = derAt(withSct, tbsEl.end);
  const tbs = withSct.subarray(tbsEl.start, tbsEl.end);
  const caSig = nodeSign('sha256', tbs, caKey);
  const leafDer = der(
    0x30,
    Buffer.concat([
      tbs,
      withSct.subarray(algEl.start, algEl.end),
      der(0x03, Buffer.concat([Buffer.from([0]), caSig])),
    ]),
  );
  const leaf = new X509Certificate(leafDer);
  if (!leaf.verify(ca.publicKey)) throw new Error('re-signed leaf does not verify against the CA');

  // the artifact signature and its transparency-log entry with an inclusion promise
  const signature = nodeSign('sha256', artifact, leafKey);
  const digest = createHash('sha256').update(artifact).digest();
  const tlogKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tlogId = createHash('sha256').update(spki(tlogKey.publicKey)).digest();
  const body = Buffer.from(
    json.canonicalize({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
        signature: {
          content: signature.toString('base64'),
          publicKey: { content: Buffer.from(leaf.toString()).toString('base64') },
        },
      },
    }),
  );
  const integratedTime = Math.floor(Date.now() / 1000);
  const logIndex = 7;
  const set = nodeSign(
    'sha256',
    Buffer.from(
      json.canonicalize({
        body: body.toString('base64'),
        integratedTime,
        logIndex,
        logID: tlogId.toString('hex'),
      }),
    ),
    tlogKey.privateKey,
  );
  // v0.1: the bundle version whose tlog entries carry an inclusion promise without a Merkle
  // inclusion proof (a signed checkpoint would need a whole log); verification is the same.
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: leafDer.toString('base64') }] },
      tlogEntries: [
        {
          logIndex: String(logIndex),
          logId: { keyId: tlogId.toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          canonicalizedBody: body.toString('base64'),
        },
      ],
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  };
  const start = new Date(Date.now() - 86_400_000).toISOString();
  const logEntry = (key, id, url) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: spki(key).toString('base64'),
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      validFor: { start },
    },
    logId: { keyId: id.toString('base64') },
  });
  const trustedRootJson = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logEntry(tlogKey.publicKey, tlogId, 'https://rekor.invalid')],
    certificateAuthorities: [
      {
        subject: { organization: 'test', commonName: 'private-fulcio' },
        uri: 'https://fulcio.invalid',
        certChain: { certificates: [{ rawBytes: ca.raw.toString('base64') }] },
        validFor: { start },
      },
    ],
    ctlogs: [logEntry(ctKey.publicKey, ctLogId, 'https://ct.invalid')],
    timestampAuthorities: [],
  };
  return { bundle, trustedRootJson, trustedRoot: TrustedRoot.fromJSON(trustedRootJson) };
}
