import { createHmac, timingSafeEqual } from 'node:crypto';
import { deferred, SECURITY_PROFILES } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';

/** Largest signed payload (job, result or cancel message) accepted, in bytes. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** What a signature covers; a signature for one kind never verifies as another. */
export type SignedKind = 'job' | 'result' | 'cancel';

/** HMAC-SHA256 (hex) over `codex-queue/v1`, the kind and the exact payload text. */
export function sign(key: Uint8Array, kind: SignedKind, payload: string): string {
  return createHmac('sha256', key).update(`codex-queue/v1\n${kind}\n`).update(payload).digest('hex');
}

/** Constant-time check of {@link sign}. */
export function verify(key: Uint8Array, kind: SignedKind, payload: string, sig: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(sig)) return false;
  return timingSafeEqual(Buffer.from(sign(key, kind, payload), 'hex'), Buffer.from(sig, 'hex'));
}

/** What travels through Redis: the payload as exact JSON text, and its signature. */
export const envelopeSchema = deferred(() =>
  z.strictObject({
    payload: z.string().max(MAX_PAYLOAD_BYTES, `payload larger than ${MAX_PAYLOAD_BYTES} bytes`),
    sig: z.string().regex(/^[0-9a-f]{64}$/, 'not an HMAC-SHA256 hex signature'),
  }),
);
export type Envelope = z.output<typeof envelopeSchema>;

const id = deferred(() => z.string().min(1).max(256));
const statuses = ['succeeded', 'failed', 'denied', 'timed-out', 'cancelled', 'skipped', 'dropped'] as const;

/** A dependency's result as a remote handler sees it in `ctx.deps`. */
const depSchema = deferred(() =>
  z.strictObject({
    status: z.enum(statuses),
    output: z.unknown().optional(),
    score: z.number().optional(),
  }),
);

export const jobPayloadSchema = deferred(() =>
  z.strictObject({
    v: z.literal(1),
    /** Queue the job was signed for; a job copied into another queue is refused. */
    queue: id,
    /** BullMQ job id the job was signed for; a job re-added under another id is refused. */
    jobId: id,
    runId: id,
    taskId: id,
    agentName: id,
    /** Agent type. */
    type: id,
    profile: z.enum(SECURITY_PROFILES),
    input: z.unknown(),
    timeoutMs: z.number().int().positive().max(86_400_000).optional(),
    deps: z.record(z.string(), depSchema),
    issuedAt: z.number().int().nonnegative(),
    expiresAt: z.number().int().nonnegative(),
    /** host/pid of the coordinator, for logs. */
    coordinator: z.string().max(512),
    /** Pub/sub channel where the worker also announces the signed result (the fast path). */
    replyTo: z.string().max(512).optional(),
  }),
);
export type JobPayload = z.output<typeof jobPayloadSchema>;

export const resultPayloadSchema = deferred(() =>
  z.strictObject({
    v: z.literal(1),
    jobId: id,
    status: z.enum(statuses),
    output: z.unknown().optional(),
    score: z.number().optional(),
    error: z
      .strictObject({
        code: z.string().min(1).max(128),
        message: z.string().max(65_536),
        extra: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
      })
      .optional(),
    decisions: z.array(
      z.strictObject({ decision: z.enum(['allowed', 'denied', 'requires_approval']), reason: z.string() }),
    ),
    startedAt: z.number().optional(),
    finishedAt: z.number(),
    durationMs: z.number().nonnegative(),
    workerId: id,
    host: id,
    attempts: z.number().int().positive(),
  }),
);
export type ResultPayload = z.output<typeof resultPayloadSchema>;

export const cancelPayloadSchema = deferred(() =>
  z.strictObject({
    v: z.literal(1),
    queue: id,
    jobIds: z.array(id).min(1).max(100_000),
    /** `timeout` when the coordinator's per-task timeout fired; the worker reports timed-out. */
    kind: z.enum(['cancel', 'timeout']),
    reason: z.string().max(4096),
    timeoutMs: z.number().int().positive().optional(),
    expiresAt: z.number().int(),
  }),
);
export type CancelPayload = z.output<typeof cancelPayloadSchema>;

/** Serialises and signs a payload. */
export function seal(key: Uint8Array, kind: SignedKind, value: unknown): Envelope {
  const payload = JSON.stringify(value);
  return { payload, sig: sign(key, kind, payload) };
}

/** The first zod issue as `key: problem`. */
export function firstIssue(error: z.ZodError): string {
  const i = error.issues[0];
  if (!i) return 'invalid';
  const path = i.path.map(String).join('.');
  return `${path || '(root)'}: ${i.message}`;
}

/**
 * Checks an envelope's shape and signature and parses its payload with `schema`.
 * Returns a refusal code and one-line reason instead of throwing.
 */
export function open<T>(
  key: Uint8Array,
  kind: SignedKind,
  raw: unknown,
  schema: z.ZodType<T>,
):
  | { ok: true; value: T }
  | { ok: false; code: 'JOB_UNSIGNED' | 'JOB_FORGED' | 'JOB_INVALID'; message: string } {
  if (raw === null || typeof raw !== 'object' || !('sig' in raw))
    return { ok: false, code: 'JOB_UNSIGNED', message: 'no signature' };
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) return { ok: false, code: 'JOB_INVALID', message: firstIssue(env.error) };
  if (!verify(key, kind, env.data.payload, env.data.sig))
    return {
      ok: false,
      code: 'JOB_FORGED',
      message: 'signature does not match the payload (forged or altered)',
    };
  let value: unknown;
  try {
    value = JSON.parse(env.data.payload);
  } catch {
    return { ok: false, code: 'JOB_INVALID', message: 'payload is not JSON' };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, code: 'JOB_INVALID', message: firstIssue(parsed.error) };
  return { ok: true, value: parsed.data };
}
