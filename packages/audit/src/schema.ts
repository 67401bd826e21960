import { AUDIT_DECISIONS, AUDIT_OPERATIONS, deferred, SECURITY_PROFILES } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';

/** Version of the line format; written as `v` in every entry. */
export const AUDIT_SCHEMA_VERSION = 1;

/** The shared lists of `@codex/security-profile`, under the names this package has always used. */
export const OPERATIONS = AUDIT_OPERATIONS;
export const DECISIONS = AUDIT_DECISIONS;
export const PROFILES = SECURITY_PROFILES;

/** Hash algorithms of the chain: plain SHA-256, or HMAC-SHA-256 with a secret key. */
export const CHAIN_ALGORITHMS = ['sha256', 'hmac-sha256'] as const;
export type ChainAlgorithm = (typeof CHAIN_ALGORITHMS)[number];

/** `prev` of the very first entry of a log. */
export const GENESIS_HASH = '0'.repeat(64);

const hex64 = deferred(() => z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'));
const detailValue = deferred(() => z.union([z.string(), z.number(), z.boolean(), z.null()]));

/**
 * One line of the log, as written. Field order on disk is fixed (the order below); the hash
 * covers the exact bytes of the line up to `hash`, so the schema never has to canonicalise.
 */
export const auditEntrySchema = deferred(() =>
  z.strictObject({
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
  }),
);

export type AuditEntry = z.output<typeof auditEntrySchema>;
