import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type PolicyLayer, PolicyLoadError } from '@codex/execpolicy';
import type { CliContext } from './context.js';

/** Admin layer read when present; user and project layers cannot loosen what it forbids. */
export const ADMIN_POLICY = '/etc/codex/policy.toml';
/** Where `codex exec`'s "always for this prefix" answers are remembered (a user policy layer). */
export const APPROVALS_FILE = 'policy/approved.toml';

/** Reads `[user:|project:|admin:]FILE` (relative to `cwd`) as a policy layer; unreadable → PolicyLoadError. */
export function readPolicyLayer(spec: string, cwd: string, fallbackKind: PolicyLayer['kind']): PolicyLayer {
  const m = /^(user|project|admin):(.+)$/s.exec(spec);
  const kind = (m?.[1] as PolicyLayer['kind'] | undefined) ?? fallbackKind;
  const path = resolve(cwd, m?.[2] ?? spec);
  let policy: string;
  try {
    policy = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new PolicyLoadError(path, '', `cannot read policy file (${code})`);
  }
  return { kind, source: path, policy };
}

export interface LayerOptions {
  /** Workspace whose `.codex/policy.toml` is the project layer (default: first configured root, else cwd). */
  readonly workspace?: string;
  /** `--policy` specs, added last as user layers unless prefixed. */
  readonly extra?: readonly string[];
  /** Include `$CODEX_HOME/policy/approved.toml` (remembered approvals). */
  readonly approvals?: boolean;
}

/**
 * The exec-policy layers every command uses, in order: config `[policy] files` (user), remembered
 * approvals (user, when asked), `<workspace>/.codex/policy.toml` (project), {@link ADMIN_POLICY}
 * (admin), then `--policy` files.
 */
export function collectPolicyLayers(ctx: CliContext, options: LayerOptions = {}): PolicyLayer[] {
  const layers: PolicyLayer[] = [];
  for (const file of ctx.config.policy.files) {
    layers.push(readPolicyLayer(isAbsolute(file) ? file : resolve(ctx.codexHome, file), ctx.cwd, 'user'));
  }
  if (options.approvals) {
    const approvals = join(ctx.codexHome, APPROVALS_FILE);
    if (existsSync(approvals)) layers.push(readPolicyLayer(approvals, ctx.cwd, 'user'));
  }
  const workspace = options.workspace ?? ctx.config.sandbox.workspace_roots?.[0] ?? ctx.cwd;
  const project = resolve(workspace, '.codex', 'policy.toml');
  if (existsSync(project)) layers.push(readPolicyLayer(project, ctx.cwd, 'project'));
  if (existsSync(ADMIN_POLICY)) layers.push(readPolicyLayer(ADMIN_POLICY, ctx.cwd, 'admin'));
  for (const spec of options.extra ?? []) layers.push(readPolicyLayer(spec, ctx.cwd, 'user'));
  return layers;
}
