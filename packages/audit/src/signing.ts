import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SerializedBundle } from '@sigstore/bundle';
import { AuditIoError, InvalidAuditOptionsError } from './errors.js';

/**
 * Checkpoint signatures are sigstore message-signature bundles made with a local P-256 key:
 * the same "public key hint" bundles `tools/release` writes for release artifacts (built with
 * @sigstore/bundle's toMessageSignatureBundle, which its MessageSignatureBundleBuilder uses), and
 * verified the same way, with @sigstore/verify against exactly the keys the verifier trusts.
 */
// sigstore-js is loaded on first use (it costs ~40-160 ms to import): a process that logs but never
// signs or verifies a checkpoint (every `codex` command) does not pay for it, nor for resolving it.
const load = (id: string): unknown => createRequire(import.meta.url)(id);
let bundleLib: typeof import('@sigstore/bundle') | undefined;
let verifyLib: typeof import('@sigstore/verify') | undefined;
const sigstoreBundle = () => (bundleLib ??= load('@sigstore/bundle') as typeof import('@sigstore/bundle'));
const sigstoreVerify = () => (verifyLib ??= load('@sigstore/verify') as typeof import('@sigstore/verify'));

export interface CheckpointKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo: the bundle's key hint. */
  readonly hint: string;
}

export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A key from a PKCS#8 PEM (or a KeyObject). Only P-256 is accepted. */
export function checkpointKey(privateKey: string | KeyObject): CheckpointKey {
  let key: KeyObject;
  try {
    key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  } catch (error) {
    throw new InvalidAuditOptionsError(`checkpoint key: not a private key PEM (${String(error)})`);
  }
  if (
    key.type !== 'private' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new InvalidAuditOptionsError('checkpoint key: expected a P-256 (prime256v1) private key');
  }
  const publicKey = createPublicKey(key);
  return { privateKey: key, publicKey, hint: keyHint(publicKey) };
}

export function generateCheckpointKey(): CheckpointKey {
  return checkpointKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
}

export const CHECKPOINT_KEY_FILE = 'checkpoint-key.pem';
export const CHECKPOINT_PUBLIC_KEY_FILE = 'checkpoint-key.pub.pem';

/**
 * The host's checkpoint key in `dir` (`checkpoint-key.pem`, mode 0600, and
 * `checkpoint-key.pub.pem`), created on first use.
 */
export function loadOrCreateCheckpointKey(dir: string): {
  key: CheckpointKey;
  created: boolean;
  privateKeyPath: string;
  publicKeyPath: string;
} {
  const privateKeyPath = join(dir, CHECKPOINT_KEY_FILE);
  const publicKeyPath = join(dir, CHECKPOINT_PUBLIC_KEY_FILE);
  let pem: string | undefined;
  try {
    pem = readFileSync(privateKeyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AuditIoError(privateKeyPath, 'read', error);
  }
  if (pem !== undefined) return { key: checkpointKey(pem), created: false, privateKeyPath, publicKeyPath };
  const key = generateCheckpointKey();
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(privateKeyPath, String(key.privateKey.export({ type: 'pkcs8', format: 'pem' })), {
      mode: 0o600,
      flag: 'wx',
    });
    chmodSync(privateKeyPath, 0o600);
    writeFileSync(publicKeyPath, publicKeyPem(key.publicKey), { mode: 0o644 });
  } catch (error) {
    throw new AuditIoError(privateKeyPath, 'create the checkpoint key', error);
  }
  return { key, created: true, privateKeyPath, publicKeyPath };
}

export function publicKeyPem(publicKey: KeyObject): string {
  return String(publicKey.export({ type: 'spki', format: 'pem' }));
}

/** Signs `data` into a sigstore message-signature bundle (v0.3 JSON). Synchronous. */
export function signBundle(data: Uint8Array, key: CheckpointKey): SerializedBundle {
  const bytes = Buffer.from(data);
  const { toMessageSignatureBundle, bundleToJSON } = sigstoreBundle();
  const bundle = toMessageSignatureBundle({
    digest: createHash('sha256').update(bytes).digest(),
    signature: sign('sha256', bytes, key.privateKey),
    keyHint: key.hint,
  });
  return bundleToJSON(bundle);
}

const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

export type BundleCheck =
  | { readonly ok: true; readonly hint: string }
  | {
      readonly ok: false;
      readonly reason: 'bad-bundle' | 'unknown-key' | 'bad-signature';
      readonly message: string;
    };

/**
 * Verifies a key-signed bundle over `data` against trusted public keys. The hint in the bundle
 * only selects among the trusted keys; a bundle naming any other key is `unknown-key`.
 */
export function verifyBundle(
  data: Uint8Array,
  bundleJson: unknown,
  trusted: ReadonlyMap<string, KeyObject>,
): BundleCheck {
  const { bundleFromJSON } = sigstoreBundle();
  const { toSignedEntity, toTrustMaterial, Verifier } = sigstoreVerify();
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(bundleJson);
  } catch (error) {
    return { ok: false, reason: 'bad-bundle', message: `not a sigstore bundle: ${message(error)}` };
  }
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey' || bundle.content.$case !== 'messageSignature') {
    return { ok: false, reason: 'bad-bundle', message: 'not a key-signed message-signature bundle' };
  }
  const hint = material.publicKey.hint;
  const publicKey = trusted.get(hint);
  if (publicKey === undefined) {
    return {
      ok: false,
      reason: 'unknown-key',
      message: `signed by an unknown key (hint ${hint.slice(0, 16)}…)`,
    };
  }
  const trust = toTrustMaterial(EMPTY_ROOT as never, () => ({ publicKey, validFor: () => true }));
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const bytes = Buffer.from(data);
  try {
    verifier.verify(toSignedEntity(bundle, bytes));
  } catch (error) {
    return { ok: false, reason: 'bad-signature', message: `signature does not verify: ${message(error)}` };
  }
  const { messageDigest } = bundle.content.messageSignature;
  if (!createHash('sha256').update(bytes).digest().equals(Buffer.from(messageDigest.digest))) {
    return {
      ok: false,
      reason: 'bad-signature',
      message: 'the digest in the bundle does not match the checkpoint',
    };
  }
  return { ok: true, hint };
}

/** Trusted keys by hint, from PEM texts (public or private keys). */
export function trustedKeys(pems: readonly (string | KeyObject)[]): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const pem of pems) {
    let key: KeyObject;
    try {
      key =
        typeof pem === 'string' ? createPublicKey(pem) : pem.type === 'private' ? createPublicKey(pem) : pem;
    } catch (error) {
      throw new InvalidAuditOptionsError(`checkpoint public key: not a PEM public key (${message(error)})`);
    }
    out.set(keyHint(key), key);
  }
  return out;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
