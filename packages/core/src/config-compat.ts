// The original Codex CLI's configuration surface, translated onto this project's: its config keys
// (`sandbox_mode`, `approval_policy`, `sandbox_workspace_write`), its `-s/--sandbox` modes and its
// `-c key=value` overrides. Keys that only configure the agent (models, history, UI) are ignored
// and reported, so a ~/.codex/config.toml written for the original loads here as it is.
import { ConfigError, parseProfile, type SecurityProfile } from '@codex/security-profile';
import { parse as parseToml } from '@codex/security-profile/toml';

/** The original's `sandbox_mode` / `-s` values and the profile each one means here. */
export const SANDBOX_MODES: Readonly<Record<string, SecurityProfile>> = {
  'read-only': 'offline',
  'workspace-write': 'workspace-write',
  'danger-full-access': 'trusted',
};

/** Keys of the original's config.toml that configure the agent, not the sandbox: ignored here. */
export const AGENT_ONLY_KEYS = [
  'model',
  'model_provider',
  'model_providers',
  'model_reasoning_effort',
  'model_reasoning_summary',
  'model_verbosity',
  'model_context_window',
  'model_max_output_tokens',
  'review_model',
  'profiles',
  'history',
  'notify',
  'file_opener',
  'tui',
  'hide_agent_reasoning',
  'show_raw_agent_reasoning',
  'disable_response_storage',
  'project_doc_max_bytes',
  'preferred_auth_method',
  'chatgpt_base_url',
  'mcp_servers',
  'shell_environment_policy',
  'tools',
  'projects',
] as const;

/** A profile for `-s/--sandbox`: one of the original's sandbox modes or a profile name here. */
export function profileForSandboxMode(value: string): SecurityProfile {
  return SANDBOX_MODES[value.trim().toLowerCase()] ?? parseProfile(value);
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(source: string, path: string, message: string): never {
  throw new ConfigError(source, [{ path, message }]);
}

function translateSandboxWrite(out: Table, source: string): boolean {
  const sww = out.sandbox_workspace_write;
  if (sww === undefined) return false;
  delete out.sandbox_workspace_write;
  if (!isTable(sww)) fail(source, 'sandbox_workspace_write', 'must be a table');
  const { writable_roots, network_access, exclude_tmpdir_env_var, exclude_slash_tmp, ...rest } = sww;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) fail(source, `sandbox_workspace_write.${unknown}`, 'unknown key');
  for (const key of ['exclude_tmpdir_env_var', 'exclude_slash_tmp'] as const) {
    if ((key === 'exclude_slash_tmp' ? exclude_slash_tmp : exclude_tmpdir_env_var) === true)
      fail(
        source,
        `sandbox_workspace_write.${key}`,
        'not supported: every sandboxed command gets a private /tmp here; remove the key (or set it to false)',
      );
  }
  if (writable_roots !== undefined) {
    const sandbox = isTable(out.sandbox) ? { ...out.sandbox } : {};
    const extra = Array.isArray(sandbox.extra_writable_roots) ? sandbox.extra_writable_roots : [];
    if (!Array.isArray(writable_roots))
      fail(source, 'sandbox_workspace_write.writable_roots', 'must be an array');
    sandbox.extra_writable_roots = [...extra, ...writable_roots];
    out.sandbox = sandbox;
  }
  return network_access === true;
}

function translateApproval(out: Table, source: string): void {
  const policy = out.approval_policy;
  if (policy === undefined) return;
  delete out.approval_policy;
  if (policy === 'on-failure')
    fail(
      source,
      'approval_policy',
      '"on-failure" is replaced by approval.mode = "on-request" (contained commands run in the sandbox without asking)',
    );
  if (isTable(out.approval) && 'mode' in out.approval)
    fail(source, 'approval_policy', 'set either approval_policy or approval.mode, not both');
  out.approval = { ...(isTable(out.approval) ? out.approval : {}), mode: policy };
}

function translateSandboxMode(out: Table, source: string, networkAccess: boolean): void {
  const mode = out.sandbox_mode;
  if (mode === undefined) {
    if (networkAccess)
      fail(
        source,
        'sandbox_workspace_write.network_access',
        'needs sandbox_mode = "workspace-write" (or profile = "workspace-net")',
      );
    return;
  }
  delete out.sandbox_mode;
  if ('profile' in out) fail(source, 'sandbox_mode', 'set either sandbox_mode or profile, not both');
  const profile = typeof mode === 'string' ? SANDBOX_MODES[mode] : undefined;
  if (profile === undefined)
    fail(
      source,
      'sandbox_mode',
      `must be one of ${Object.keys(SANDBOX_MODES).join(', ')} (or use profile = "…")`,
    );
  if (networkAccess && profile !== 'workspace-write')
    fail(
      source,
      'sandbox_workspace_write.network_access',
      'only applies with sandbox_mode = "workspace-write"',
    );
  out.profile = networkAccess ? 'workspace-net' : profile;
}

/**
 * Rewrites the original CLI's keys onto this project's schema (before validation). Returns the
 * rewritten object and the agent-only keys it dropped. Throws {@link ConfigError} for a key with
 * no equivalent, naming the replacement.
 */
export function translateOriginalConfig(data: unknown, source: string): { data: unknown; ignored: string[] } {
  if (!isTable(data)) return { data, ignored: [] };
  const out: Table = { ...data };
  const ignored = AGENT_ONLY_KEYS.filter((k) => k in out);
  for (const key of ignored) delete out[key];
  const networkAccess = translateSandboxWrite(out, source);
  translateApproval(out, source);
  translateSandboxMode(out, source, networkAccess);
  return { data: out, ignored: [...ignored] };
}

/** The value of a `-c key=value` override: a TOML value (`true`, `3`, `["a"]`, `"s"`), else the text. */
function overrideValue(text: string): unknown {
  try {
    return (parseToml(`v = ${text}`) as { v: unknown }).v;
  } catch {
    return text;
  }
}

/** Applies `-c key=value` overrides (dotted keys) to a parsed config object. */
export function applyOverrides(data: unknown, overrides: readonly string[]): unknown {
  const root: Table = isTable(data) ? structuredClone(data) : {};
  for (const override of overrides) {
    const eq = override.indexOf('=');
    const key = eq === -1 ? '' : override.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key))
      throw new ConfigError('-c', [
        {
          path: key || override,
          message: 'expected key=value with a dotted key, e.g. -c sandbox.require_full_isolation=true',
        },
      ]);
    const parts = key.split('.');
    let table = root;
    for (const part of parts.slice(0, -1)) {
      if (!isTable(table[part])) table[part] = {};
      table = table[part] as Table;
    }
    table[parts[parts.length - 1]!] = overrideValue(override.slice(eq + 1).trim());
  }
  return root;
}

/** `over` merged onto `base`: tables merge key by key, anything else in `over` replaces. */
export function mergeTables(base: unknown, over: unknown): unknown {
  if (isTable(over) && Object.keys(over).length === 0) return base;
  if (!isTable(base) || !isTable(over)) return over;
  const out: Table = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = key in out ? mergeTables(out[key], value) : value;
  }
  return out;
}
