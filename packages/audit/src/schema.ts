import type { AuditDecision, AuditOperation, SecurityProfile } from '@codex/security-profile';
import { z } from 'zod';

/** Version of the line format; written as `v` in every entry. */
export const AUDIT_SCHEMA_VERSION = 1;

/**
 * Runtime copies of `@codex/security-profile`'s lists (this package may import only its types).
 * `satisfies` keeps them inside the shared unions; a type test checks they are exactly equal.
 */
export const OPERATIONS = [
  'file_read',
  'file_write',
  'network_access',
  'process_spawn',
  'command_exec',
  'mcp_tool_call',
  'plugin_run',
  'policy_change',
  'other',
] as const satisfies readonly AuditOperation[];

export const DECISIONS = [
  'allowed',
  'denied',
  'requires_approval',
] as const satisfies readonly AuditDecision[];

export const PROFILES = [
  'offline',
  'net-read-only',
  'workspace-write',
  'workspace-net',
  'trusted',
] as const satisfies readonly SecurityProfile[];

/** Hash algorithms of the chain: plain SHA-256, or HMAC-SHA-256 with a secret key. */
export const CHAIN_ALGORITHMS = ['sha256', 'hmac-sha256'] as const;
export type ChainAlgorithm = (typeof CHAIN_ALGORITHMS)[number];

/** `prev` of the very first entry of a log. */
export const GENESIS_HASH = '0'.repeat(64);

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const detailValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * One line of the log, as written. Field order on disk is fixed (the order below); the hash
 * covers the exact bytes of the line up to `hash`, so the schema never has to canonicalise.
 */
export const auditEntrySchema = z.strictObject({
  v: z.literal(AUDIT_SCHEMA_VERSION),
  seq: z.number().int().min(1),
  timestamp: z.iso.datetime({ offset: true }),
  session_id: z.string().nullable(),
  task_id: z.string().nullable(),
  agent_type: z.string().nullable(),
  profile: z.enum(PROFILES),
  operation: z.enum(OPERATIONS),
  target: z.string(),
  decision: z.enum(DECISIONS),
  reason: z.string(),
  details: z.record(z.string(), detailValue).optional(),
  chain: z.enum(CHAIN_ALGORITHMS),
  prev: hex64,
  hash: hex64,
});

export type AuditEntry = z.output<typeof auditEntrySchema>;
