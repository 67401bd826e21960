import { DEFAULT_ENV_ALLOW } from '@codex/security-profile';
import type { EnvHygieneOptions } from './contract.js';

/**
 * Default environment rules: the documented core set ({@link DEFAULT_ENV_ALLOW}) and nothing
 * else. An allow-list, because a deny-list always misses a secret (`MYSQL_PWD`, `SSHPASS`,
 * `BW_SESSION`, `OP_SESSION_*`, `CI_JOB_JWT`, `SENTRY_DSN`…).
 */
export const DEFAULT_ENV_HYGIENE: Required<EnvHygieneOptions> = {
  core: DEFAULT_ENV_ALLOW,
  allow: [],
};

/** A URL that carries a password (`scheme://user:pass@host`). */
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

function matcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

/**
 * Returns the environment a sandboxed command gets, plus the names removed. A variable passes
 * when its name is in the core set or in `allow` (exact names, or `PREFIX*`); a core-set
 * variable whose value is a URL with a password is removed all the same (an explicitly allowed
 * one is kept: the user asked for it). Undefined values are dropped.
 */
export function sanitizeEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: EnvHygieneOptions = DEFAULT_ENV_HYGIENE,
): { env: Record<string, string>; stripped: string[] } {
  const core = matcher(options.core ?? DEFAULT_ENV_HYGIENE.core);
  const allow = matcher(options.allow ?? []);
  const out: Record<string, string> = {};
  const stripped: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const keep = allow(name) || (core(name) && !URL_WITH_PASSWORD.test(value));
    if (keep) out[name] = value;
    else stripped.push(name);
  }
  return { env: out, stripped: stripped.sort() };
}

/**
 * The environment a backend gives the command of a request: the request's `env` (else
 * `fallback`, the backend's own environment), scrubbed by {@link sanitizeEnv} unless the request
 * turned hygiene off with `envHygiene: false`.
 */
export function requestEnv(
  request: {
    readonly env?: Readonly<Record<string, string | undefined>>;
    readonly envHygiene?: EnvHygieneOptions | false;
  },
  fallback: Readonly<Record<string, string | undefined>>,
): { env: Record<string, string>; stripped: string[] } {
  const source = request.env ?? fallback;
  if (request.envHygiene !== false) return sanitizeEnv(source, request.envHygiene);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined) env[name] = value;
  return { env, stripped: [] };
}
