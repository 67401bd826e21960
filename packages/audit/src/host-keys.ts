// The keys a verification or a checkpoint needs, found the way `codex audit` finds them: the HMAC
// key from an environment variable, the host's checkpoint key pair in one directory (under
// CODEX_HOME/audit by default), trusted public keys from PEM files.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditMissingKeyError, InvalidAuditOptionsError } from './errors.js';
import {
  CHECKPOINT_PUBLIC_KEY_FILE,
  type CheckpointKey,
  checkpointKey,
  loadOrCreateCheckpointKey,
  trustedKeys,
} from './signing.js';

/**
 * The HMAC key held by the variable `keyEnv` names (`--key-env`, else `[audit].hmac_key_env`);
 * `undefined` when no variable is named. A named variable that is unset or empty is
 * `AUDIT_MISSING_KEY` (its message names `source`), never a silent fallback to an unkeyed chain.
 */
export function hmacKeyFromEnv(
  keyEnv: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  source = 'audit.hmac_key_env',
): string | undefined {
  if (keyEnv === undefined) return undefined;
  const key = env[keyEnv];
  if (!key) throw new AuditMissingKeyError(keyEnv, source);
  return key;
}

/** Reads a PEM file (`file` relative to `cwd`); an unreadable file is `AUDIT_INVALID_OPTIONS`. */
export function readKeyFile(file: string, what: string, cwd: string = process.cwd()): string {
  try {
    return readFileSync(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InvalidAuditOptionsError(`${file}: cannot read the ${what} (${code})`);
  }
}

export interface HostKeyOptions {
  /** The directory of the host's checkpoint key pair (`codex`: `$CODEX_HOME/audit`). */
  readonly keyDir: string;
  /** Files are read relative to this (default: the process's working directory). */
  readonly cwd?: string;
}

/**
 * The trusted checkpoint public keys: the given PEM files, else this host's own public key in
 * `keyDir` when it exists; `undefined` when there is neither (nothing can be checked).
 */
export function trustedCheckpointKeys(
  pubkeyFiles: readonly string[],
  options: HostKeyOptions,
): ReturnType<typeof trustedKeys> | undefined {
  const files = pubkeyFiles.length > 0 ? pubkeyFiles : [join(options.keyDir, CHECKPOINT_PUBLIC_KEY_FILE)];
  if (pubkeyFiles.length === 0 && !existsSync(files[0]!)) return undefined;
  return trustedKeys(files.map((f) => readKeyFile(f, 'public key', options.cwd)));
}

/**
 * The key that signs checkpoints: the private key PEM `keyFile`, else the host key in `keyDir`
 * (created on first use; `created` says so).
 */
export function hostCheckpointKey(
  keyFile: string | undefined,
  options: HostKeyOptions,
): { key: CheckpointKey; created: boolean } {
  if (keyFile !== undefined)
    return { key: checkpointKey(readKeyFile(keyFile, 'private key', options.cwd)), created: false };
  const { key, created } = loadOrCreateCheckpointKey(options.keyDir);
  return { key, created };
}
