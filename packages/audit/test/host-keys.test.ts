import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AuditMissingKeyError,
  CHECKPOINT_PUBLIC_KEY_FILE,
  generateCheckpointKey,
  hmacKeyFromEnv,
  hostCheckpointKey,
  InvalidAuditOptionsError,
  publicKeyPem,
  readKeyFile,
  trustedCheckpointKeys,
} from '../src/index.js';
import { tempDir } from './helpers/tmp.js';

describe('hmacKeyFromEnv', () => {
  it('reads the named variable; none named is no key; named but unset is AUDIT_MISSING_KEY naming the source', () => {
    expect(hmacKeyFromEnv('K', { K: 's3cret' })).toBe('s3cret');
    expect(hmacKeyFromEnv(undefined, { K: 's3cret' })).toBeUndefined();
    expect(() => hmacKeyFromEnv('K', {})).toThrow(AuditMissingKeyError);
    expect(() => hmacKeyFromEnv('K', { K: '' })).toThrow(/audit\.hmac_key_env names K, but K is not set/);
    expect(() => hmacKeyFromEnv('K', {}, '--key-env')).toThrow(/^--key-env names K/);
  });
});

describe('checkpoint keys', () => {
  it('hostCheckpointKey creates the host key once in keyDir, or reads --key relative to cwd', () => {
    const keyDir = tempDir();
    const first = hostCheckpointKey(undefined, { keyDir });
    expect(first.created).toBe(true);
    const again = hostCheckpointKey(undefined, { keyDir });
    expect(again).toMatchObject({ created: false });
    expect(again.key.hint).toBe(first.key.hint);
    const cwd = tempDir();
    const other = generateCheckpointKey();
    writeFileSync(join(cwd, 'k.pem'), other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    expect(hostCheckpointKey('k.pem', { keyDir, cwd }).key.hint).toBe(other.hint);
    expect(() => hostCheckpointKey('missing.pem', { keyDir, cwd })).toThrow(
      /missing\.pem: cannot read the private key \(ENOENT\)/,
    );
  });

  it('trustedCheckpointKeys: the given files, else the host public key when it exists, else none', () => {
    const keyDir = tempDir();
    expect(trustedCheckpointKeys([], { keyDir })).toBeUndefined();
    const { key } = hostCheckpointKey(undefined, { keyDir });
    expect(existsSync(join(keyDir, CHECKPOINT_PUBLIC_KEY_FILE))).toBe(true);
    expect([...trustedCheckpointKeys([], { keyDir })!.keys()]).toEqual([key.hint]);
    const cwd = tempDir();
    const other = generateCheckpointKey();
    writeFileSync(join(cwd, 'other.pub.pem'), publicKeyPem(other.publicKey));
    expect([...trustedCheckpointKeys(['other.pub.pem'], { keyDir, cwd })!.keys()]).toEqual([other.hint]);
    writeFileSync(join(cwd, 'bad.pem'), 'not a key');
    expect(() => trustedCheckpointKeys(['bad.pem'], { keyDir, cwd })).toThrow(InvalidAuditOptionsError);
    expect(() => readKeyFile('nope.pem', 'public key', cwd)).toThrow(/nope\.pem: cannot read the public key/);
  });
});
