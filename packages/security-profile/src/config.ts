import { deferred } from './deferred.js';
import { type EgressLists, egressPatternProblem } from './egress.js';
import { CodexError, ConfigError, type ConfigIssue, UnknownApprovalModeError } from './errors.js';
import { DEFAULT_PROFILE, parseProfile, type SecurityProfile } from './profiles.js';
import * as z from './zod.js';

/** A profile name or alias, normalised to the canonical {@link SecurityProfile}. */
export const profileSchema = deferred(() =>
  z.string().transform((value, ctx): SecurityProfile => {
    try {
      return parseProfile(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof CodexError ? error.message : String(error) });
      return z.NEVER;
    }
  }),
);

const absolutePath = deferred(() =>
  z
    .string()
    .min(1, 'must not be empty')
    .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || /^[\\/]{2}[^\\/]/.test(p), {
      message: 'must be an absolute path',
    }),
);

const homeOrAbsolutePath = deferred(() =>
  z
    .string()
    .min(1, 'must not be empty')
    .refine((p) => p === '~' || p.startsWith('~/') || p.startsWith('/'), {
      message: 'must be an absolute path or start with ~/',
    }),
);

export const sandboxConfigSchema = deferred(() =>
  z.strictObject({
    /** Workspace roots; the CLI defaults to the current directory. */
    workspace_roots: z.array(absolutePath).optional(),
    /** More writable roots under the workspace-* profiles. */
    extra_writable_roots: z.array(absolutePath).default([]),
    /** Refuse to run when the strongest sandbox for this OS is unavailable, instead of degrading. */
    require_full_isolation: z.boolean().default(false),
    // -- secrets and environment (issue 16) --
    /** More paths a sandboxed command may not read (absolute or `~/…`), added to the built-in list. */
    deny_read: z.array(homeOrAbsolutePath).default([]),
    /** Entries of the built-in deny-read list to lift (absolute or `~/…`, compared as written). */
    allow_read: z.array(homeOrAbsolutePath).default([]),
    /** More environment variables passed into the sandbox (exact names or `PREFIX*`). */
    env_allow: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\*?$/, 'must be a variable name or PREFIX*'))
      .default([]),
  }),
);

export const auditConfigSchema = deferred(() =>
  z.strictObject({
    enabled: z.boolean().default(true),
    /** JSON-lines file; relative paths are resolved against CODEX_HOME. */
    path: z.string().min(1).default('audit/audit.jsonl'),
    durability: z.enum(['none', 'batch', 'every']).default('batch'),
    /** Name of an environment variable holding an HMAC key for a keyed hash chain. */
    hmac_key_env: z.string().min(1).optional(),
  }),
);

export const policyConfigSchema = deferred(() =>
  z.strictObject({
    /** Extra exec-policy layers (user layer), applied after the built-in defaults. */
    files: z.array(z.string().min(1)).default([]),
  }),
);

// --- approval (how `prompt` decisions of the exec policy are handled; see docs/core.md) ---
/**
 * `untrusted`: every command the policy does not `allow` is asked about. `on-request` (default):
 * a command that is `prompt` only because no rule lists it runs without asking when the sandbox
 * fully enforces the profile (audited); the rest is asked. `never`: nobody is asked; contained
 * commands run as under `on-request`, the rest is refused.
 */
export const APPROVAL_MODES = ['untrusted', 'on-request', 'never'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];
export const DEFAULT_APPROVAL_MODE: ApprovalMode = 'on-request';

/** An approval mode by name; anything else throws {@link UnknownApprovalModeError}. */
export function parseApprovalMode(input: string): ApprovalMode {
  const mode = APPROVAL_MODES.find((m) => m === input.trim().toLowerCase());
  if (mode === undefined) throw new UnknownApprovalModeError(input, APPROVAL_MODES);
  return mode;
}

export const approvalConfigSchema = deferred(() =>
  z.strictObject({
    /** `untrusted`, `on-request` (default) or `never`. */
    mode: z.enum(APPROVAL_MODES).default(DEFAULT_APPROVAL_MODE),
  }),
);
// --- end approval ---

// --- egress (network allow/deny lists for the proxied profiles; see docs/egress.md) ---
const egressPattern = deferred(() =>
  z.string().superRefine((value, ctx) => {
    const problem = egressPatternProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);
const cidr = deferred(() =>
  z
    .string()
    .regex(
      /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:.]+)\/\d{1,3}$/,
      'must be a CIDR range such as 10.0.0.0/8',
    ),
);
const egressListsSchema = deferred(() =>
  z.strictObject({
    allow: z.array(egressPattern).optional(),
    deny: z.array(egressPattern).optional(),
  }),
);
export const egressConfigSchema = deferred(() =>
  z.strictObject({
    /** Hosts every proxied profile may reach (`*`, `host`, `*.domain`, IP literal, `preset:npm`…). */
    allow: z.array(egressPattern).default([]),
    /** Hosts every proxied profile is refused; deny wins over allow. */
    deny: z.array(egressPattern).default([]),
    /** CIDR ranges exempt from the private/loopback/link-local refusal (an internal mirror). */
    allow_addresses: z.array(cidr).default([]),
    /** Per-profile lists, added to the shared ones: `[egress.profiles.workspace-net]`. */
    profiles: z
      .strictObject({
        'net-read-only': egressListsSchema.optional(),
        'workspace-net': egressListsSchema.optional(),
      })
      .default({}),
  }),
);

/** The allow/deny lists `profile` gets from a parsed config (shared lists + the profile's own). */
export function egressListsFor(config: Pick<CodexConfig, 'egress'>, profile: SecurityProfile): EgressLists {
  const own = (config.egress.profiles as Partial<Record<string, { allow?: string[]; deny?: string[] }>>)[
    profile
  ];
  return {
    allow: [...config.egress.allow, ...(own?.allow ?? [])],
    deny: [...config.egress.deny, ...(own?.deny ?? [])],
    allowAddresses: [...config.egress.allow_addresses],
  };
}
// --- end egress ---

/** Schema of `$CODEX_HOME/config.toml`. Unknown keys are errors, so typos do not silently weaken anything. */
export const codexConfigSchema = deferred(() =>
  z.strictObject({
    profile: profileSchema.default(DEFAULT_PROFILE),
    sandbox: sandboxConfigSchema.prefault({}),
    audit: auditConfigSchema.prefault({}),
    policy: policyConfigSchema.prefault({}),
    egress: egressConfigSchema.prefault({}),
    approval: approvalConfigSchema.prefault({}),
  }),
);

export type CodexConfig = z.output<typeof codexConfigSchema>;
export type CodexConfigInput = z.input<typeof codexConfigSchema>;

/** Converts zod issues into dotted-path {@link ConfigIssue}s. */
export function toConfigIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return {
        path: keys[0] ?? path,
        message: `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`,
      };
    }
    return { path, message: issue.message };
  });
}

/**
 * The one-line {@link ConfigError} for a syntax error in a JSON or TOML config file (`error` from
 * `JSON.parse`, or a TOML parser error carrying `line` and `column`, as smol-toml's `TomlError`).
 * Every config loader (config.toml, the MCP proxy config) reports syntax errors through it.
 */
export function configSyntaxError(source: string, format: 'json' | 'toml', error: unknown): ConfigError {
  const e = error as { message?: unknown; line?: unknown; column?: unknown };
  const message = String(e?.message ?? error);
  if (format === 'json')
    return new ConfigError(source, [{ path: '', message: `JSON syntax error: ${message}` }]);
  const first = message.split('\n')[0] || 'syntax error';
  return new ConfigError(source, [
    { path: '', message: `TOML syntax error at line ${e?.line}, column ${e?.column}: ${first}` },
  ]);
}

/**
 * Validates a parsed config object (from TOML, JSON…). `source` names the file in errors.
 * Throws {@link ConfigError} naming the file, the key and the problem.
 */
export function parseConfig(value: unknown, source = 'config'): CodexConfig {
  const result = codexConfigSchema.safeParse(value ?? {});
  if (!result.success) throw new ConfigError(source, toConfigIssues(result.error));
  return result.data;
}

/**
 * The configuration used when there is no config file: what {@link codexConfigSchema} makes of
 * `{}` (test/config.test.ts holds the two equal), written out so that a run without a config
 * file does not execute the schema. A fresh object on every call.
 */
export function defaultConfig(): CodexConfig {
  return {
    profile: DEFAULT_PROFILE,
    sandbox: {
      extra_writable_roots: [],
      require_full_isolation: false,
      deny_read: [],
      allow_read: [],
      env_allow: [],
    },
    audit: { enabled: true, path: 'audit/audit.jsonl', durability: 'batch' },
    policy: { files: [] },
    egress: { allow: [], deny: [], allow_addresses: [], profiles: {} },
    approval: { mode: DEFAULT_APPROVAL_MODE },
  };
}
