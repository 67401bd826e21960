import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';

/** Capabilities a plugin may be granted. Filesystem, sockets and processes do not exist here. */
export type Capability =
  | { readonly kind: 'stdio' }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'clock' }
  | { readonly kind: 'random' };

/** Names that are never grantable; asking for them is an error that says why. */
export const NEVER_GRANTED = ['fs', 'filesystem', 'net', 'network', 'sockets', 'process', 'spawn', 'exec'];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `stdio`, `clock`, `random` or `env:NAME`. */
export const capabilityStringSchema = deferred(() =>
  z.string().superRefine((value, ctx) => {
    const problem = capabilityProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

function capabilityProblem(value: string): string | undefined {
  if (value === 'stdio' || value === 'clock' || value === 'random') return undefined;
  if (value.startsWith('env:')) {
    return ENV_NAME.test(value.slice(4))
      ? undefined
      : `"${value}" is not a valid env capability; use env:NAME with a variable name`;
  }
  if (value === 'env')
    return '"env" needs a variable name: env:NAME (plugins never get the whole environment)';
  if (NEVER_GRANTED.includes(value.split(':')[0]!)) {
    return `"${value}" can never be granted to a WASM plugin (no filesystem, network or processes); use an MCP server for that`;
  }
  return `unknown capability "${value}"; valid: stdio, env:NAME, clock, random`;
}

/** Parses one capability string. Throws a plain `Error` with a one-line message. */
export function parseCapability(value: string): Capability {
  const trimmed = value.trim();
  const problem = capabilityProblem(trimmed);
  if (problem) throw new Error(problem);
  if (trimmed.startsWith('env:')) return { kind: 'env', name: trimmed.slice(4) };
  return { kind: trimmed as 'stdio' | 'clock' | 'random' };
}

export function formatCapability(c: Capability): string {
  return c.kind === 'env' ? `env:${c.name}` : c.kind;
}

/** The set form a worker receives: stdio is always present. */
export interface GrantSet {
  readonly stdio: boolean;
  readonly clock: boolean;
  readonly random: boolean;
  readonly env: readonly string[];
}

export function toGrantSet(caps: readonly Capability[]): GrantSet {
  const env = new Set<string>();
  let clock = false;
  let random = false;
  for (const c of caps) {
    if (c.kind === 'env') env.add(c.name);
    else if (c.kind === 'clock') clock = true;
    else if (c.kind === 'random') random = true;
  }
  return { stdio: true, clock, random, env: [...env].sort() };
}

export function grantSetToStrings(g: GrantSet): string[] {
  return [
    'stdio',
    ...g.env.map((n) => `env:${n}`),
    ...(g.clock ? ['clock'] : []),
    ...(g.random ? ['random'] : []),
  ];
}
