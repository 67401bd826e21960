import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { PolicyLayer } from '@codex/execpolicy';
import type { CodexConfig } from '@codex/security-profile';
import { trustedDigests } from './trust.js';

/** Admin layer read when present; user and project layers cannot loosen what it forbids. */
export const ADMIN_POLICY = '/etc/codex/policy.toml';
/** Saved "always" approvals, relative to CODEX_HOME (a user policy layer). */
export const APPROVALS_FILE = 'policy/approved.toml';

/** Reads `[user:|project:|admin:]FILE` (relative to `cwd`) as a policy layer; unreadable → PolicyLoadError. */
export async function readPolicyLayer(
  spec: string,
  cwd: string,
  fallbackKind: PolicyLayer['kind'],
): Promise<PolicyLayer> {
  const m = /^(user|project|admin):(.+)$/s.exec(spec);
  const kind = (m?.[1] as PolicyLayer['kind'] | undefined) ?? fallbackKind;
  const path = resolve(cwd, m?.[2] ?? spec);
  let policy: string;
  try {
    policy = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const { PolicyLoadError } = await import('@codex/execpolicy');
    throw new PolicyLoadError(path, '', `cannot read policy file (${code})`);
  }
  return { kind, source: path, policy };
}

export interface LayerSources {
  readonly config: CodexConfig;
  readonly codexHome: string;
  readonly cwd: string;
  /** Workspace whose `.codex/policy.toml` is the project layer (default: first configured root, else cwd). */
  readonly workspace?: string;
  /** `--policy` specs, added last as user layers unless prefixed. */
  readonly extra?: readonly string[];
  /** Saved approvals; on by default, so `policy check` decides as `exec` does. */
  readonly approvals?: boolean;
}

/**
 * The exec-policy layers every entry point uses, in order: config `[policy] files` (user), saved
 * approvals `$CODEX_HOME/policy/approved.toml` (user), `<workspace>/.codex/policy.toml`
 * (project), {@link ADMIN_POLICY} (admin), then the extra `--policy` files.
 */
export async function collectPolicyLayers(s: LayerSources): Promise<PolicyLayer[]> {
  const layers: PolicyLayer[] = [];
  for (const file of s.config.policy.files) {
    layers.push(await readPolicyLayer(isAbsolute(file) ? file : resolve(s.codexHome, file), s.cwd, 'user'));
  }
  const approvals = join(s.codexHome, APPROVALS_FILE);
  if (s.approvals !== false && existsSync(approvals))
    layers.push(await readPolicyLayer(approvals, s.cwd, 'user'));
  const project = projectPolicyPath(s);
  if (existsSync(project)) {
    // A repository's own policy only tightens unless the user pinned this exact content.
    const layer = await readPolicyLayer(project, s.cwd, 'project');
    const { isPolicyTrusted } = await import('@codex/execpolicy');
    const trusted = isPolicyTrusted(layer.policy as string, trustedDigests(s.codexHome, project));
    layers.push({ ...layer, trusted });
  }
  if (existsSync(ADMIN_POLICY)) layers.push(await readPolicyLayer(ADMIN_POLICY, s.cwd, 'admin'));
  // A project layer named on the command line (--policy project:FILE) was chosen by the user.
  for (const spec of s.extra ?? [])
    layers.push({ ...(await readPolicyLayer(spec, s.cwd, 'user')), trusted: true });
  return layers;
}

/** `<workspace>/.codex/policy.toml`: the workspace is the first configured root, else cwd. */
export function projectPolicyPath(s: Pick<LayerSources, 'config' | 'cwd' | 'workspace'>): string {
  const workspace = s.workspace ?? s.config.sandbox.workspace_roots?.[0] ?? s.cwd;
  return resolve(workspace, '.codex', 'policy.toml');
}
