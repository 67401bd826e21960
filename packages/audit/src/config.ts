import { isAbsolute, resolve } from 'node:path';
import { AuditMissingKeyError } from './errors.js';
import { AuditLogger } from './logger.js';
import type { AuditLoggerOptions, Durability } from './logger-options.js';

/** The `[audit]` table of `config.toml` (see `@codex/security-profile`'s `auditConfigSchema`). */
export interface AuditConfig {
  readonly enabled: boolean;
  readonly path: string;
  readonly durability: Durability;
  readonly hmac_key_env?: string | undefined;
}

/**
 * A logger from the `[audit]` config: `path` is resolved against `home` (CODEX_HOME) and the HMAC
 * key is read from the variable `hmac_key_env` names. A named but unset variable is an error
 * (AUDIT_MISSING_KEY), never a silent fallback to an unkeyed chain.
 */
export function createAuditLoggerFromConfig(
  config: AuditConfig,
  options: { home: string; env?: Record<string, string | undefined> } & Omit<
    AuditLoggerOptions,
    'path' | 'enabled' | 'durability' | 'hmacKey'
  >,
): AuditLogger {
  const { home, env = process.env, ...rest } = options;
  const path = isAbsolute(config.path) ? config.path : resolve(home, config.path);
  let hmacKey: string | undefined;
  if (config.enabled && config.hmac_key_env !== undefined) {
    hmacKey = env[config.hmac_key_env];
    if (!hmacKey) throw new AuditMissingKeyError(config.hmac_key_env);
  }
  return new AuditLogger({
    ...rest,
    path,
    enabled: config.enabled,
    durability: config.durability,
    ...(hmacKey === undefined ? {} : { hmacKey }),
  });
}

/** Resolves `[audit].path` against CODEX_HOME, as the logger does. */
export function resolveAuditPath(config: Pick<AuditConfig, 'path'>, home: string): string {
  return isAbsolute(config.path) ? config.path : resolve(home, config.path);
}
