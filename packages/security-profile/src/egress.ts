/**
 * Egress vocabulary shared by the config schema, the sandbox policy and `@codex/egress`:
 * domain patterns, the named presets, and the per-profile allow/deny lists. Pure data and
 * string checks only (no `node:` imports), so editors and browsers can validate a config.
 */

/** Hosts each preset names. `preset:<name>` in an allow or deny list expands to these. */
export const EGRESS_PRESETS = {
  npm: ['registry.npmjs.org', 'registry.yarnpkg.com'],
  pypi: ['pypi.org', 'files.pythonhosted.org'],
  crates: ['crates.io', 'index.crates.io', 'static.crates.io'],
  github: ['github.com', 'api.github.com', 'codeload.github.com', '*.githubusercontent.com'],
  go: ['proxy.golang.org', 'sum.golang.org', 'index.golang.org'],
} as const satisfies Record<string, readonly string[]>;

export type EgressPreset = keyof typeof EGRESS_PRESETS;
export const EGRESS_PRESET_NAMES = Object.keys(EGRESS_PRESETS) as EgressPreset[];

/** Which HTTP methods plain-HTTP requests may use: `read-only` is GET, HEAD and OPTIONS. */
export type EgressMethods = 'read-only' | 'any';
export const READ_ONLY_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const DOMAIN_RE = new RegExp(`^(?:\\*|(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*)$`);
const IPV4_RE = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^\[?[0-9a-f:.]+\]?$/;

/**
 * Returns a problem description for an allow/deny entry, or `null` when it is valid.
 * Valid entries: `*` (any host), `example.com` (exactly), `*.example.com` (any subdomain, not
 * the apex), an IPv4 or bracketed IPv6 literal, or `preset:<name>`.
 */
export function egressPatternProblem(pattern: string): string | null {
  if (pattern.startsWith('preset:')) {
    const name = pattern.slice('preset:'.length);
    return (EGRESS_PRESET_NAMES as string[]).includes(name)
      ? null
      : `unknown preset "${name}"; presets: ${EGRESS_PRESET_NAMES.join(', ')}`;
  }
  if (pattern !== pattern.toLowerCase()) return 'must be lower case';
  if (IPV4_RE.test(pattern)) return null;
  if (pattern.startsWith('[') && pattern.endsWith(']') && IPV6_RE.test(pattern)) return null;
  if (pattern.length > 253 || !DOMAIN_RE.test(pattern)) {
    return 'must be "*", a host name, "*.<domain>", an IP literal or "preset:<name>"';
  }
  return null;
}

/** Expands `preset:<name>` entries; other entries are returned unchanged, duplicates removed. */
export function expandEgressPatterns(patterns: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of patterns) {
    if (p.startsWith('preset:')) {
      const hosts = (EGRESS_PRESETS as Record<string, readonly string[]>)[p.slice('preset:'.length)];
      for (const h of hosts ?? []) out.add(h);
    } else out.add(p);
  }
  return [...out];
}

/** The allow/deny lists a proxied profile starts from. */
export interface EgressLists {
  /** Host patterns that may be reached. Empty means nothing (every host must be granted). */
  readonly allow: readonly string[];
  /** Host patterns that are always refused; deny wins over allow. */
  readonly deny: readonly string[];
  /** CIDR ranges exempt from the private/loopback/link-local refusal (an internal mirror, tests). */
  readonly allowAddresses: readonly string[];
}
