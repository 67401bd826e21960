import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CodexError } from '@codex/security-profile';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line } from '../output.js';

/** The artifact, bundle and policy were all readable, and the bundle does not verify. Exits 1. */
export class VerificationFailedError extends CodexError {
  constructor(reason: string, message: string) {
    super('VERIFICATION_FAILED', `${message} [${reason}]`);
  }
}

const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

const HASHES: Record<number, string> = { 1: 'sha256', 2: 'sha384', 3: 'sha512' };

function readInput(kind: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${kind} "${path}"${code ? ` (${code})` : ''}`);
  }
}

function loadBundle(path: string): Bundle {
  const text = readInput('bundle', path).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`bundle "${path}" is not JSON`);
  }
  try {
    return bundleFromJSON(json);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`bundle "${path}" is not a sigstore bundle: ${why}`);
  }
}

function loadKey(path: string): KeyObject {
  const pem = readInput('key', path);
  // createPublicKey() happily derives a public key from a private one; refuse private key files
  // outright so a signing key never becomes a verification habit.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1'))) {
    throw new UsageError(`key "${path}" is a private key; pass the public key`);
  }
  try {
    const key = createPublicKey(pem);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch {
    throw new UsageError(`key "${path}" is not a PEM public key`);
  }
}

/** The Sigstore public-good trusted root shipped in @sigstore/tuf (its TUF seed): works offline. */
export function shippedTrustedRoot(): TrustedRoot {
  const require = createRequire(import.meta.url);
  const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8')) as Record<
    string,
    { targets?: Record<string, string> }
  >;
  const mirror = seeds['https://tuf-repo-cdn.sigstore.dev'] ?? Object.values(seeds)[0];
  const encoded = mirror?.targets?.['trusted_root.json'];
  if (typeof encoded !== 'string')
    throw new CodexError('NO_TRUSTED_ROOT', '@sigstore/tuf ships no trusted root');
  return TrustedRoot.fromJSON(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')));
}

function loadTrustedRoot(path: string): TrustedRoot {
  try {
    return TrustedRoot.fromJSON(JSON.parse(readInput('trusted root', path).toString('utf8')));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`trusted root "${path}" is not a sigstore trusted_root.json`);
  }
}

/** The bytes the bundle says it signed must be the file's bytes. */
function checkArtifactBinding(bundle: Bundle, artifact: Buffer): void {
  if (bundle.content.$case === 'messageSignature') {
    const { messageDigest } = bundle.content.messageSignature;
    if (!messageDigest) return; // the signature itself covers the artifact
    const alg = HASHES[messageDigest.algorithm] ?? 'sha256';
    const actual = createHash(alg).update(artifact).digest();
    if (!actual.equals(Buffer.from(messageDigest.digest))) {
      throw new VerificationFailedError(
        'DIGEST_MISMATCH',
        `the file's ${alg} digest is not the one in the bundle`,
      );
    }
    return;
  }
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== 'application/vnd.in-toto+json') {
    throw new VerificationFailedError(
      'DIGEST_MISMATCH',
      `DSSE payload type ${env.payloadType} names no file`,
    );
  }
  let subjects: { digest?: Record<string, string> }[] = [];
  try {
    subjects =
      (JSON.parse(Buffer.from(env.payload).toString('utf8')) as { subject?: typeof subjects }).subject ?? [];
  } catch {
    throw new VerificationFailedError('DIGEST_MISMATCH', 'the DSSE payload is not an in-toto statement');
  }
  const match = subjects.some((s) =>
    Object.entries(s.digest ?? {}).some(
      ([alg, hex]) =>
        ['sha256', 'sha384', 'sha512'].includes(alg) &&
        createHash(alg).update(artifact).digest('hex') === hex.toLowerCase(),
    ),
  );
  if (!match)
    throw new VerificationFailedError('DIGEST_MISMATCH', 'the file is not a subject of the attestation');
}

function verificationError(error: unknown): VerificationFailedError {
  const e = error as { code?: string; message?: string };
  return new VerificationFailedError(e.code ?? 'VERIFY_FAILED', e.message ?? String(error));
}

export const command: Command = {
  summary: 'Verify a file against a sigstore bundle (key-signed, or keyless via the shipped trusted root)',
  usage: `Usage: codex verify <file> --bundle <bundle.json> --key <pub.pem>
       codex verify <file> --bundle <bundle.json> --certificate-identity <identity>
                    --certificate-oidc-issuer <issuer> [--trusted-root <trusted_root.json>]

--key checks a key-signed bundle (for example one written by "pnpm release:check") against that
public key only. --certificate-identity/--certificate-oidc-issuer check a keyless bundle: the
certificate must chain to a Fulcio CA in the Sigstore trusted root shipped inside @sigstore/tuf
(offline; --trusted-root replaces it), carry a CT log SCT, have a verified Rekor entry, and name
exactly this identity (certificate SAN) and OIDC issuer. The file must be the signed bytes (or, for
an in-toto attestation, one of its subjects).

Exit codes: 0 verified; 1 the bundle does not verify for this file, key or identity;
2 bad input (flags, unreadable file, bundle or key).`,
  async run(ctx, argv) {
    const { values, positionals } = parse(argv, {
      bundle: { type: 'string' },
      key: { type: 'string' },
      'certificate-identity': { type: 'string' },
      'certificate-oidc-issuer': { type: 'string' },
      'trusted-root': { type: 'string' },
    });
    const [file, extra] = positionals;
    if (file === undefined)
      throw new UsageError('missing <file>; usage: codex verify <file> --bundle <bundle.json> …');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const bundlePath = values.bundle as string | undefined;
    if (bundlePath === undefined) throw new UsageError('missing --bundle <bundle.json>');
    const keyPath = values.key as string | undefined;
    const identity = values['certificate-identity'] as string | undefined;
    const issuer = values['certificate-oidc-issuer'] as string | undefined;
    const rootPath = values['trusted-root'] as string | undefined;
    const keyless = identity !== undefined || issuer !== undefined;
    if (keyPath !== undefined && keyless) {
      throw new UsageError('use either --key or --certificate-identity/--certificate-oidc-issuer, not both');
    }
    if (keyPath === undefined && !keyless) {
      throw new UsageError(
        'say who must have signed: --key <pub.pem>, or --certificate-identity and --certificate-oidc-issuer',
      );
    }
    if (keyless && (identity === undefined || issuer === undefined)) {
      throw new UsageError(
        'keyless verification needs both --certificate-identity and --certificate-oidc-issuer',
      );
    }
    if (keyPath !== undefined && rootPath !== undefined) {
      throw new UsageError('--trusted-root applies to keyless verification only');
    }

    const artifact = readInput('file', file);
    const bundle = loadBundle(bundlePath);
    const keyed = bundle.verificationMaterial.content.$case === 'publicKey';
    let signer: { mode: 'key' | 'keyless'; identity?: string | undefined; issuer?: string | undefined };

    if (keyPath !== undefined) {
      const publicKey = loadKey(keyPath);
      if (!keyed) {
        throw new UsageError(
          'the bundle is keyless (certificate-signed); verify it with --certificate-identity/--certificate-oidc-issuer',
        );
      }
      const trust = toTrustMaterial(EMPTY_ROOT as unknown as TrustedRoot, () => ({
        publicKey,
        validFor: () => true,
      }));
      // A key-signed bundle has no transparency-log entry or timestamp to check: the key is the trust.
      const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
      try {
        verifier.verify(toSignedEntity(bundle, artifact));
      } catch (error) {
        throw verificationError(error);
      }
      signer = { mode: 'key' };
    } else {
      if (keyed) throw new UsageError('the bundle is key-signed; verify it with --key <pub.pem>');
      const root = rootPath === undefined ? shippedTrustedRoot() : loadTrustedRoot(rootPath);
      const verifier = new Verifier(toTrustMaterial(root), {
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: 1,
      });
      try {
        const s = verifier.verify(toSignedEntity(bundle, artifact), {
          subjectAlternativeName: identity as string,
          extensions: { issuer: issuer as string },
        });
        signer = {
          mode: 'keyless',
          identity: s.identity?.subjectAlternativeName,
          issuer: s.identity?.extensions?.issuer,
        };
      } catch (error) {
        throw verificationError(error);
      }
    }
    checkArtifactBinding(bundle, artifact);

    if (ctx.json) {
      line(ctx.stdout, JSON.stringify({ verified: true, file, bundle: bundlePath, ...signer }));
    } else {
      const who = signer.mode === 'key' ? `key ${keyPath}` : `${signer.identity} (issuer ${signer.issuer})`;
      line(ctx.stdout, `verified: ${file} signed by ${who}`);
    }
    return EXIT.OK;
  },
};
