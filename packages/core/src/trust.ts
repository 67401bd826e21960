// Trusted project policies (like `direnv allow`): a `.codex/policy.toml` in a repository can be
// written by an agent, so it may only tighten the built-in and user layers until the user pins its
// exact content with `codex policy trust`. Any later edit, by anyone, needs a new pin.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import { withLock } from './approvals.js';
import { ApprovalsError, PolicyUnreadableError } from './errors.js';

/** Pins of trusted project policy files, relative to CODEX_HOME. */
export const TRUSTED_POLICIES_FILE = 'policy/trusted.json';

const pinsSchema = deferred(() =>
  z.strictObject({
    pins: z.array(z.strictObject({ path: z.string(), digest: z.string(), at: z.string() })),
  }),
);
export type PolicyPin = z.infer<typeof pinsSchema>['pins'][number];

function read(file: string): PolicyPin[] {
  if (!existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ApprovalsError(`${file}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = pinsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApprovalsError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data.pins;
}

/** The digests trusted for the project policy at `path` (absolute). */
export function trustedDigests(codexHome: string, path: string): string[] {
  const abs = resolve(path);
  return read(join(codexHome, TRUSTED_POLICIES_FILE))
    .filter((p) => p.path === abs)
    .map((p) => p.digest);
}

/**
 * Pins `digest` (from `policyDigest(text)` of @codex/execpolicy) for the policy file at `path`,
 * replacing an older pin of the same file. Written under a lock, atomically.
 */
export function trustPolicy(codexHome: string, path: string, digest: string, now = new Date()): PolicyPin {
  const file = join(codexHome, TRUSTED_POLICIES_FILE);
  mkdirSync(dirname(file), { recursive: true });
  const pin: PolicyPin = { path: resolve(path), digest, at: now.toISOString() };
  withLock(file, () => {
    const pins = [...read(file).filter((p) => p.path !== pin.path), pin];
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ pins }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  });
  return pin;
}

/**
 * `codex policy trust`: reads the policy file at `path`, checks that it loads (a file that does not
 * is not worth trusting: its parse error is thrown) and pins the digest of its exact content.
 * An unreadable file throws `PolicyUnreadableError`.
 */
export async function trustPolicyFile(codexHome: string, path: string): Promise<PolicyPin> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = String((error as NodeJS.ErrnoException).code ?? error);
    throw new PolicyUnreadableError(path, reason, { cause: error });
  }
  const { policyDigest, parsePolicyText } = await import('@codex/execpolicy');
  parsePolicyText(text, path);
  return trustPolicy(codexHome, path, policyDigest(text));
}
