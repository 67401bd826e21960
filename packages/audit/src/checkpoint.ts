import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { deferred } from '@codex/security-profile';
import * as z from '@codex/security-profile/zod';
import { readLines } from './lines.js';
import { CHAIN_ALGORITHMS } from './schema.js';
import { type CheckpointKey, signBundle, verifyBundle } from './signing.js';

/**
 * A signed checkpoint: the chain head (seq, hash) of a log at a time, on a host, signed with the
 * host's key into a sigstore bundle. One JSON line each in `<log>.checkpoints`:
 *
 *   {"v":1,"host":"h","log":"audit.jsonl","seq":N,"hash":"…","chain":"sha256","time":"…","reason":"count","bundle":{…}}
 *
 * The signature covers the UTF-8 bytes of the same object without `bundle` (keys in that order).
 */
export interface Checkpoint {
  readonly v: 1;
  readonly host: string;
  readonly log: string;
  readonly seq: number;
  readonly hash: string;
  readonly chain: 'sha256' | 'hmac-sha256';
  readonly time: string;
  /** Why it was written: every N entries, every T seconds, on close, or on request. */
  readonly reason: 'count' | 'interval' | 'close' | 'manual';
}

export const CHECKPOINT_REASONS = ['count', 'interval', 'close', 'manual'] as const;

const checkpointSchema = deferred(() =>
  z.strictObject({
    v: z.literal(1),
    host: z.string().min(1),
    log: z.string().min(1),
    seq: z.number().int().min(0),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    chain: z.enum(CHAIN_ALGORITHMS),
    time: z.iso.datetime({ offset: true }),
    reason: z.enum(CHECKPOINT_REASONS),
    bundle: z.record(z.string(), z.unknown()),
  }),
);

/** The checkpoint file of a log. */
export function checkpointPath(logPath: string): string {
  return `${logPath}.checkpoints`;
}

/** The signed bytes of a checkpoint. */
export function checkpointPayload(c: Checkpoint): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: c.v,
      host: c.host,
      log: c.log,
      seq: c.seq,
      hash: c.hash,
      chain: c.chain,
      time: c.time,
      reason: c.reason,
    }),
    'utf8',
  );
}

export function makeCheckpoint(
  logPath: string,
  head: { seq: number; hash: string },
  chain: Checkpoint['chain'],
  reason: Checkpoint['reason'],
  host: string = hostname(),
  time: Date = new Date(),
): Checkpoint {
  return {
    v: 1,
    host,
    log: basename(logPath),
    seq: head.seq,
    hash: head.hash,
    chain,
    time: time.toISOString(),
    reason,
  };
}

/** The checkpoint as its signed JSON line (with newline). */
export function signCheckpoint(c: Checkpoint, key: CheckpointKey): string {
  const payload = checkpointPayload(c);
  return `${payload.toString('utf8').slice(0, -1)},"bundle":${JSON.stringify(signBundle(payload, key))}}\n`;
}

/**
 * What is wrong with a checkpoint file, at the first bad line:
 * - `forged`: the signature does not verify with the key it names, or the bundle is malformed.
 * - `unknown-key`: signed by a key that is not among the trusted ones.
 * - `bad-checkpoint`: not JSON, or not a checkpoint (missing or wrong fields).
 * - `reordered`: a checkpoint goes back in seq or time, or two disagree about the same seq.
 * - `unreadable`: the file could not be read.
 */
export type CheckpointProblemKind = 'forged' | 'unknown-key' | 'bad-checkpoint' | 'reordered' | 'unreadable';

export interface CheckpointProblem {
  readonly kind: CheckpointProblemKind;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface CheckpointRead {
  /** Verified checkpoints, in file order. */
  readonly checkpoints: readonly Checkpoint[];
  readonly problem?: CheckpointProblem;
  /** The file does not exist. */
  readonly missing: boolean;
  /** An unterminated last line (a writer died mid-write): ignored, it was never complete. */
  readonly tornTail: boolean;
}

/** Parses and verifies one checkpoint line; returns the checkpoint or what is wrong with it. */
export function checkCheckpointLine(
  text: string,
  trusted: ReadonlyMap<string, KeyObject>,
): { checkpoint: Checkpoint } | { kind: CheckpointProblemKind; message: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'bad-checkpoint', message: 'not JSON' };
  }
  const r = checkpointSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    return {
      kind: 'bad-checkpoint',
      message: `not a checkpoint: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    };
  }
  const { bundle, ...c } = r.data;
  const check = verifyBundle(checkpointPayload(c as Checkpoint), bundle, trusted);
  if (!check.ok)
    return { kind: check.reason === 'unknown-key' ? 'unknown-key' : 'forged', message: check.message };
  return { checkpoint: c as Checkpoint };
}

/**
 * Reads and verifies a checkpoint file: every complete line must be a checkpoint signed by one
 * of the `trusted` keys, in non-decreasing seq. Stops at the first problem.
 */
export async function readCheckpoints(
  file: string,
  trusted: ReadonlyMap<string, KeyObject>,
): Promise<CheckpointRead> {
  const out: Checkpoint[] = [];
  const bySeq = new Map<number, string>();
  let torn = false;
  for await (const l of readLines([file])) {
    if ('unreadable' in l) {
      if (l.code === 'ENOENT') return { checkpoints: [], missing: true, tornTail: false };
      return {
        checkpoints: out,
        missing: false,
        tornTail: false,
        problem: { kind: 'unreadable', file, line: 0, message: `cannot read ${file} (${l.code})` },
      };
    }
    if (l.unterminated && /^\{"v":1,"host":/.test(l.text)) {
      torn = true;
      break;
    }
    const r = checkCheckpointLine(l.tooLong ? '' : l.text, trusted);
    if (!('checkpoint' in r))
      return {
        checkpoints: out,
        missing: false,
        tornTail: false,
        problem: { kind: r.kind, file, line: l.line, message: r.message },
      };
    const c = r.checkpoint;
    const last = out.at(-1);
    const seen = bySeq.get(c.seq);
    if (
      (last && (c.seq < last.seq || Date.parse(c.time) < Date.parse(last.time) - 1000)) ||
      (seen !== undefined && seen !== c.hash)
    ) {
      return {
        checkpoints: out,
        missing: false,
        tornTail: false,
        problem: {
          kind: 'reordered',
          file,
          line: l.line,
          message:
            seen !== undefined && seen !== c.hash
              ? `checkpoint for seq ${c.seq} disagrees with an earlier one`
              : `checkpoint for seq ${c.seq} comes after one for seq ${last?.seq}`,
        },
      };
    }
    bySeq.set(c.seq, c.hash);
    out.push(c);
  }
  return { checkpoints: out, missing: false, tornTail: torn };
}
