import { UnknownProfileError } from './errors.js';

/** Every security profile, from most to least restrictive. */
export const SECURITY_PROFILES = [
  'offline',
  'net-read-only',
  'workspace-write',
  'workspace-net',
  'trusted',
] as const;

export type SecurityProfile = (typeof SECURITY_PROFILES)[number];

/** The profile used when nothing else is chosen. Fail-safe: no network, nothing writable. */
export const DEFAULT_PROFILE: SecurityProfile = 'offline';

/**
 * Common names for the profiles, as other tools and the original plan spell them.
 * Keys are normalised (lower case, `_`/space/camelCase folded to `-`).
 */
const ALIASES: ReadonlyMap<string, SecurityProfile> = new Map(
  Object.entries({
    offline: 'offline',
    'read-only': 'offline',
    readonly: 'offline',
    ro: 'offline',
    'no-network': 'offline',
    'net-read-only': 'net-read-only',
    'net-readonly': 'net-read-only',
    'network-read-only': 'net-read-only',
    'read-only-net': 'net-read-only',
    'workspace-write': 'workspace-write',
    workspace: 'workspace-write',
    'workspace-net': 'workspace-net',
    'workspace-network': 'workspace-net',
    'workspace-write-net': 'workspace-net',
    trusted: 'trusted',
    'full-access': 'trusted',
    'danger-full-access': 'trusted',
    'no-sandbox': 'trusted',
  } satisfies Record<string, SecurityProfile>),
);

/** Folds `NetReadOnly`, `net_read_only`, ` Net Read Only ` to `net-read-only`. */
function normaliseName(input: string): string {
  return input
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
}

/** True when `value` is exactly one of the canonical profile names. */
export function isSecurityProfile(value: unknown): value is SecurityProfile {
  return typeof value === 'string' && (SECURITY_PROFILES as readonly string[]).includes(value);
}

/**
 * Parses a profile name or alias (`read-only`, `workspace`, `full-access`, `NetReadOnly`…).
 * Throws {@link UnknownProfileError}, whose message lists the valid names, for anything else.
 */
export function parseProfile(input: string): SecurityProfile {
  const profile = ALIASES.get(normaliseName(input));
  if (profile === undefined) throw new UnknownProfileError(input, SECURITY_PROFILES);
  return profile;
}

/** The aliases accepted for each profile, for help texts and docs. */
export function profileAliases(profile: SecurityProfile): string[] {
  return [...ALIASES]
    .filter(([alias, target]) => target === profile && alias !== profile)
    .map(([alias]) => alias);
}

/**
 * `none`: no network at all. `proxied`: only through the egress proxy (domain allow/deny lists,
 * private addresses refused; see docs/egress.md). `full`: the whole network.
 */
export type NetworkAccess = 'none' | 'proxied' | 'full';
export type WriteScope = 'none' | 'workspace' | 'everywhere';
export type SpawnScope = 'sandboxed' | 'unrestricted';

/** What a profile lets a command do. `read` is always the whole disk: profiles restrict writes, not reads. */
export interface ProfileCapabilities {
  readonly read: 'everywhere';
  readonly write: WriteScope;
  readonly network: NetworkAccess;
  readonly spawn: SpawnScope;
  /** The profile is only honoured when a person asked for it by name, never as a fallback. */
  readonly requiresExplicitOptIn: boolean;
  /** One sentence for humans: why the profile exists. */
  readonly summary: string;
}

/** The capability matrix. `docs/security-profiles.md` is tested against this table. */
export const CAPABILITIES: Readonly<Record<SecurityProfile, ProfileCapabilities>> = {
  offline: {
    read: 'everywhere',
    write: 'none',
    network: 'none',
    spawn: 'sandboxed',
    requiresExplicitOptIn: false,
    summary: 'The default: inspect and build nothing persistent; no network, no disk writes.',
  },
  'net-read-only': {
    read: 'everywhere',
    write: 'none',
    network: 'proxied',
    spawn: 'sandboxed',
    requiresExplicitOptIn: false,
    summary: 'Research tasks that must fetch but must not change the disk.',
  },
  'workspace-write': {
    read: 'everywhere',
    write: 'workspace',
    network: 'none',
    spawn: 'sandboxed',
    requiresExplicitOptIn: false,
    summary: 'Editing and building inside the workspace without any network.',
  },
  'workspace-net': {
    read: 'everywhere',
    write: 'workspace',
    network: 'proxied',
    spawn: 'sandboxed',
    requiresExplicitOptIn: false,
    summary: 'Installing dependencies and running networked tests in the workspace.',
  },
  trusted: {
    read: 'everywhere',
    write: 'everywhere',
    network: 'full',
    spawn: 'unrestricted',
    requiresExplicitOptIn: true,
    summary: 'No sandbox at all; only when a person asks for it by name.',
  },
};

/** Capabilities of one profile. */
export function capabilitiesOf(profile: SecurityProfile): ProfileCapabilities {
  return CAPABILITIES[profile];
}

const WRITE_ORDER: readonly WriteScope[] = ['none', 'workspace', 'everywhere'];
const NETWORK_ORDER: readonly NetworkAccess[] = ['none', 'proxied', 'full'];
const SPAWN_ORDER: readonly SpawnScope[] = ['sandboxed', 'unrestricted'];

/**
 * True when every capability of `profile` is at most `ceiling`'s (writes, network, spawn): the
 * comparison is by capability, never by name, so `offline` fits under `net-read-only` but
 * `workspace-write` does not (it writes), and nothing but `trusted` fits under `trusted`'s spawn.
 */
export function profileWithin(profile: SecurityProfile, ceiling: SecurityProfile): boolean {
  const p = CAPABILITIES[profile];
  const c = CAPABILITIES[ceiling];
  return (
    WRITE_ORDER.indexOf(p.write) <= WRITE_ORDER.indexOf(c.write) &&
    NETWORK_ORDER.indexOf(p.network) <= NETWORK_ORDER.indexOf(c.network) &&
    SPAWN_ORDER.indexOf(p.spawn) <= SPAWN_ORDER.indexOf(c.spawn)
  );
}
