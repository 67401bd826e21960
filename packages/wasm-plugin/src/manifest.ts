import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import {
  type Capability,
  capabilityStringSchema,
  formatCapability,
  type GrantSet,
  parseCapability,
} from './capabilities.js';
import { CapabilityDeniedError, InvalidManifestError, LimitDeniedError } from './errors.js';
import { type PluginLimits, WASM_PAGE } from './limits.js';

/** What a plugin declares about itself: who it is, what it needs, how much it may use. */
export const pluginManifestSchema = deferred(() =>
  z
    .object({
      name: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 lower-case letters, digits, ".", "_" or "-"'),
      version: z
        .string()
        .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version like 1.2.3'),
      description: z.string().max(500).optional(),
      capabilities: z.array(capabilityStringSchema).max(64).default(['stdio']),
      limits: z
        .object({
          fuel: z.number().int().positive().optional(),
          timeoutMs: z.number().int().positive().optional(),
          memoryMb: z.number().positive().max(4096).optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
);

export type PluginManifestInput = z.input<typeof pluginManifestSchema>;

export interface PluginManifest {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly capabilities: readonly Capability[];
  readonly limits: { readonly fuel?: number; readonly timeoutMs?: number; readonly memoryBytes?: number };
}

/**
 * Validates a manifest (already parsed from JSON). `source` names the file in error messages,
 * which read `source: key: problem` on one line.
 */
export function parseManifest(value: unknown, source = 'plugin manifest'): PluginManifest {
  const result = pluginManifestSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.map(String).join('.') || '(root)';
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
    throw new InvalidManifestError(source, `${key}: ${issue.message}${more}`);
  }
  const m = result.data;
  const limits: { fuel?: number; timeoutMs?: number; memoryBytes?: number } = {};
  if (m.limits?.fuel !== undefined) limits.fuel = m.limits.fuel;
  if (m.limits?.timeoutMs !== undefined) limits.timeoutMs = m.limits.timeoutMs;
  if (m.limits?.memoryMb !== undefined)
    limits.memoryBytes = Math.floor((m.limits.memoryMb * 1024 * 1024) / WASM_PAGE) * WASM_PAGE;
  return {
    name: m.name,
    version: m.version,
    ...(m.description !== undefined ? { description: m.description } : {}),
    capabilities: m.capabilities.map(parseCapability),
    limits,
  };
}

/** Parses manifest JSON text; JSON syntax errors become {@link InvalidManifestError}. */
export function parseManifestJson(text: string, source = 'plugin manifest'): PluginManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidManifestError(source, `(root): not valid JSON: ${(error as Error).message}`);
  }
  return parseManifest(value, source);
}

/**
 * Refuses a manifest that asks for more than `granted` or for larger limits than `allowed`.
 * Returns the capabilities and limits the run gets: what the manifest asked for, no more.
 */
export function applyManifest(
  manifest: PluginManifest,
  granted: GrantSet,
  allowed: PluginLimits,
): { grant: GrantSet; limits: PluginLimits } {
  const label = `${manifest.name}@${manifest.version}`;
  const env: string[] = [];
  let clock = false;
  let random = false;
  for (const c of manifest.capabilities) {
    const ok =
      c.kind === 'stdio' ||
      (c.kind === 'clock' && granted.clock) ||
      (c.kind === 'random' && granted.random) ||
      (c.kind === 'env' && granted.env.includes(c.name));
    if (!ok) {
      throw new CapabilityDeniedError(
        label,
        formatCapability(c),
        `the manifest requests it but it was not granted (grant it with --allow ${formatCapability(c)})`,
      );
    }
    if (c.kind === 'env') env.push(c.name);
    if (c.kind === 'clock') clock = true;
    if (c.kind === 'random') random = true;
  }
  const limits = { ...allowed };
  const pairs = [
    ['fuel', manifest.limits.fuel, allowed.fuel],
    ['timeoutMs', manifest.limits.timeoutMs, allowed.timeoutMs],
    ['memoryBytes', manifest.limits.memoryBytes, allowed.memoryBytes],
  ] as const;
  for (const [key, asked, max] of pairs) {
    if (asked === undefined) continue;
    if (asked > max) {
      throw new LimitDeniedError(label, `manifest asks for ${key} ${asked} but at most ${max} is allowed`);
    }
    limits[key] = asked;
  }
  return { grant: { stdio: true, clock, random, env: [...new Set(env)].sort() }, limits };
}
