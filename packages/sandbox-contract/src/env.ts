import type { EnvHygieneOptions } from './contract.js';

/** Default secret-stripping rules (case-insensitive). Configurable per run. */
export const DEFAULT_ENV_HYGIENE: Required<EnvHygieneOptions> = {
  denySubstrings: ['TOKEN', 'SECRET', 'KEY', 'PASSWORD', 'PASSWD', 'CREDENTIAL', 'PRIVATE'],
  denyPrefixes: [
    'AWS_',
    'GH_',
    'GITHUB_',
    'AZURE_',
    'GCP_',
    'GOOGLE_',
    'NPM_CONFIG__AUTH',
    'DOCKER_AUTH',
    'OPENAI_',
    'ANTHROPIC_',
  ],
  denyNames: ['NPM_TOKEN', 'SSH_AUTH_SOCK', 'GPG_AGENT_INFO', 'DATABASE_URL'],
  allowNames: [],
};

/**
 * Returns a copy of `env` without secrets, plus the names removed. A name is removed when it
 * contains a deny substring, starts with a deny prefix or equals a deny name, unless it is in
 * `allowNames`. Undefined values are dropped.
 */
export function sanitizeEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: EnvHygieneOptions = DEFAULT_ENV_HYGIENE,
): { env: Record<string, string>; stripped: string[] } {
  const up = (xs: readonly string[] | undefined, d: readonly string[]) =>
    (xs ?? d).map((x) => x.toUpperCase());
  const subs = up(options.denySubstrings, DEFAULT_ENV_HYGIENE.denySubstrings);
  const prefixes = up(options.denyPrefixes, DEFAULT_ENV_HYGIENE.denyPrefixes);
  const names = new Set(up(options.denyNames, DEFAULT_ENV_HYGIENE.denyNames));
  const allow = new Set(up(options.allowNames, DEFAULT_ENV_HYGIENE.allowNames));
  const out: Record<string, string> = {};
  const stripped: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const u = name.toUpperCase();
    const deny =
      !allow.has(u) &&
      (names.has(u) || prefixes.some((p) => u.startsWith(p)) || subs.some((s) => u.includes(s)));
    if (deny) stripped.push(name);
    else out[name] = value;
  }
  return { env: out, stripped: stripped.sort() };
}
