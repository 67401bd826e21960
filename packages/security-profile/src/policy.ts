import {
  type EgressLists,
  type EgressMethods,
  egressPatternProblem,
  expandEgressPatterns,
} from './egress.js';
import { PolicyConflictError } from './errors.js';
import { isWithin, joinPath, normalizeAbsolutePath } from './paths.js';
import { CAPABILITIES, type SecurityProfile } from './profiles.js';
import { resolveDenyRead } from './secrets.js';

/**
 * Names that stay read-only inside every writable root, so a sandboxed command cannot rewrite
 * history, git hooks, or the agent's own configuration. Backends also resolve a `.git` file's
 * `gitdir:` target and protect it the same way.
 */
export const PROTECTED_SUBPATHS = ['.git', '.codex', '.agents'] as const;

/**
 * How the network is treated. Backends must refuse modes they do not understand.
 * - `none`: no network.
 * - `full`: the whole network.
 * - `proxied`: nothing but the egress proxy, which enforces the (preset-expanded) `allow` and
 *   `deny` host lists (deny wins), refuses private addresses outside `allowAddresses`, and
 *   limits plain-HTTP methods to GET/HEAD/OPTIONS when `methods` is `read-only`.
 */
export type NetworkPolicy =
  | { readonly mode: 'none' | 'full' }
  | {
      readonly mode: 'proxied';
      readonly allow: readonly string[];
      readonly deny: readonly string[];
      readonly allowAddresses: readonly string[];
      readonly methods: EgressMethods;
    };

export interface WritableRoot {
  /** Normalised absolute path that may be written. */
  readonly root: string;
  /** Absolute paths beneath `root` that must stay read-only ({@link PROTECTED_SUBPATHS}, codex's own state). */
  readonly readOnlySubpaths: readonly string[];
}

/** A plain, serialisable description of what a sandbox must enforce. */
export interface SandboxPolicy {
  readonly profile: SecurityProfile;
  /** Absolute roots that may be read. `['/']` (or every drive on Windows) means the whole disk. */
  readonly readableRoots: readonly string[];
  /** True when the whole disk is readable; sandboxes may then skip enumerating `readableRoots`. */
  readonly fullDiskRead: boolean;
  readonly writableRoots: readonly WritableRoot[];
  /** True when writes are allowed everywhere (only `trusted`). */
  readonly fullDiskWrite: boolean;
  readonly network: NetworkPolicy;
  /**
   * Give the command an empty, private `/tmp` that is discarded on exit. Backends that cannot do
   * this must leave `/tmp` read-only (never shared and writable) and report the difference.
   */
  readonly privateTmp: boolean;
  /** The sandbox may be skipped entirely. Only `trusted`, and only when asked for explicitly. */
  readonly skipSandbox: boolean;
  /**
   * Paths that must not be read (secrets; `~/` = the home of the user running codex). Absent
   * means the built-in {@link DEFAULT_DENY_READ} list; empty only for `trusted`.
   */
  readonly denyRead?: readonly string[];
}

export interface SandboxPolicyOptions {
  /** Absolute paths of the workspace(s); writable under `workspace-*` profiles. */
  readonly workspaceRoots?: readonly string[];
  /** More absolute paths to make writable. Rejected under profiles that write nothing. */
  readonly extraWritableRoots?: readonly string[];
  /**
   * Set when a person chose the profile by name (CLI flag, config file). Without it, `trusted`
   * still yields a full sandbox policy with `skipSandbox: false`.
   */
  readonly explicit?: boolean;
  /** Root(s) used for `readableRoots`/`trusted` writes. Defaults to `/`. */
  readonly filesystemRoots?: readonly string[];
  /** Config `sandbox.deny_read`: added to the built-in deny-read list. */
  readonly denyRead?: readonly string[];
  /** Config `sandbox.allow_read`: removed from the deny-read list. */
  readonly allowRead?: readonly string[];
  /** Home directory used to expand `~/`; without it entries keep `~/` for the backend to expand. */
  readonly homeDir?: string;
  /** Host lists for the `proxied` profiles (see {@link egressListsFor}); default: nothing allowed. */
  readonly egress?: Partial<EgressLists>;
  /**
   * Absolute paths codex itself trusts (its home with config, approvals and audit keys; its cache
   * with compiled code and the sandbox probe): read-only wherever they fall inside a writable root,
   * so a sandboxed command cannot change what the next `codex` run executes or believes.
   */
  readonly protectedPaths?: readonly string[];
}

function proxiedNetwork(profile: SecurityProfile, lists: Partial<EgressLists> = {}): NetworkPolicy {
  for (const [key, patterns] of [
    ['allow', lists.allow ?? []],
    ['deny', lists.deny ?? []],
  ] as const) {
    for (const p of patterns) {
      const problem = egressPatternProblem(p);
      if (problem) throw new PolicyConflictError(`egress ${key} entry "${p}": ${problem}`);
    }
  }
  return {
    mode: 'proxied',
    allow: expandEgressPatterns(lists.allow ?? []),
    deny: expandEgressPatterns(lists.deny ?? []),
    allowAddresses: [...(lists.allowAddresses ?? [])],
    methods: CAPABILITIES[profile].write === 'none' ? 'read-only' : 'any',
  };
}

function dedupeRoots(paths: readonly string[]): string[] {
  const normalised = [...new Set(paths.map(normalizeAbsolutePath))].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const p of normalised) if (!kept.some((k) => isWithin(p, k))) kept.push(p);
  return kept.sort();
}

/**
 * Turns a profile into the concrete policy a sandbox enforces.
 *
 * - Read-only profiles (`offline`, `net-read-only`) have no writable roots; asking for
 *   `extraWritableRoots` under them is a {@link PolicyConflictError}, never silently ignored.
 * - Nested writable roots are merged into their outermost ancestor.
 * - Every writable root carries its protected subpaths (`.git`, `.codex`, `.agents`) and the
 *   `protectedPaths` inside it.
 */
export function toSandboxPolicy(profile: SecurityProfile, options: SandboxPolicyOptions = {}): SandboxPolicy {
  const caps = CAPABILITIES[profile];
  const fsRoots = dedupeRoots(options.filesystemRoots ?? ['/']);
  const workspace = options.workspaceRoots ?? [];
  const extra = options.extraWritableRoots ?? [];

  if (caps.write === 'none' && extra.length > 0) {
    throw new PolicyConflictError(
      `profile "${profile}" writes nothing, so extra writable roots (${extra.join(', ')}) cannot be granted; ` +
        'choose workspace-write or workspace-net',
    );
  }

  let writableRoots: WritableRoot[] = [];
  if (caps.write === 'workspace') {
    const own = (options.protectedPaths ?? []).map(normalizeAbsolutePath);
    writableRoots = dedupeRoots([...workspace, ...extra]).map((root) => ({
      root,
      readOnlySubpaths: [
        ...new Set([
          ...PROTECTED_SUBPATHS.map((name) => joinPath(root, name)),
          ...own.filter((p) => p !== root && isWithin(p, root)),
        ]),
      ],
    }));
  } else if (caps.write === 'everywhere') {
    writableRoots = fsRoots.map((root) => ({ root, readOnlySubpaths: [] }));
  } else {
    // Validate the workspace paths even when nothing is writable, so a typo is caught early.
    dedupeRoots(workspace);
  }

  return {
    profile,
    readableRoots: fsRoots,
    fullDiskRead: caps.read === 'everywhere',
    writableRoots,
    fullDiskWrite: caps.write === 'everywhere',
    network: caps.network === 'proxied' ? proxiedNetwork(profile, options.egress) : { mode: caps.network },
    privateTmp: caps.spawn === 'sandboxed',
    skipSandbox: caps.requiresExplicitOptIn && options.explicit === true,
    denyRead: resolveDenyRead({
      trusted: profile === 'trusted',
      ...(options.denyRead ? { deny: options.denyRead } : {}),
      ...(options.allowRead ? { allow: options.allowRead } : {}),
      ...(options.homeDir ? { home: options.homeDir } : {}),
    }),
  };
}

/** True when the policy lets `path` (absolute) be written: inside a writable root and not protected. */
export function isWritable(policy: SandboxPolicy, path: string): boolean {
  const p = normalizeAbsolutePath(path);
  return policy.writableRoots.some(
    (w) => isWithin(p, w.root) && !w.readOnlySubpaths.some((ro) => isWithin(p, ro)),
  );
}
