import * as crypto from 'node:crypto';
import { createHash, createHmac } from 'node:crypto';
import type { ChainAlgorithm } from './schema.js';

/**
 * Line format. Every line is
 *
 *   {"v":1,"seq":N,<fields>,"chain":"sha256","prev":"<64 hex>","hash":"<64 hex>"}\n
 *
 * and `hash` = SHA-256 (or HMAC-SHA-256 with the key) of the line's exact UTF-8 bytes up to,
 * not including, `,"hash":` (the "prefix"). `prev` is the `hash` of the previous entry, so the
 * prefix of entry N covers entry N-1's hash: editing, removing, inserting or reordering any line
 * breaks a link. Nothing is canonicalised: verification rehashes the bytes as they are.
 */
export const HASH_SUFFIX_LENGTH = ',"hash":"'.length + 64 + '"}'.length;

/** Hashes a line prefix (a string, or its UTF-8 bytes). */
export type Hasher = (prefix: string | Uint8Array) => string;

export function createHasher(key: Uint8Array | undefined): { algorithm: ChainAlgorithm; hash: Hasher } {
  if (key === undefined) {
    // crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object per call.
    const oneShot = (crypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string })
      .hash;
    return {
      algorithm: 'sha256',
      hash: oneShot
        ? (prefix) => oneShot('sha256', prefix, 'hex')
        : (prefix) => createHash('sha256').update(prefix).digest('hex'),
    };
  }
  const k = Buffer.from(key);
  return {
    algorithm: 'hmac-sha256',
    hash: (prefix) => createHmac('sha256', k).update(prefix).digest('hex'),
  };
}

/** Splits a line (without its newline) into the hashed prefix and the stored hash. */
export function splitLine(line: string): { prefix: string; hash: string } | undefined {
  const n = line.length;
  if (n < HASH_SUFFIX_LENGTH + 2 || !line.endsWith('"}')) return undefined;
  const cut = n - HASH_SUFFIX_LENGTH;
  if (!line.startsWith(',"hash":"', cut)) return undefined;
  return { prefix: line.slice(0, cut), hash: line.slice(cut + 9, n - 2) };
}

export function keyBytes(key: string | Uint8Array | undefined): Uint8Array | undefined {
  if (key === undefined) return undefined;
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return bytes.length === 0 ? undefined : bytes;
}
