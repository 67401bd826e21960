import type { KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Checkpoint, checkpointPath, makeCheckpoint, signCheckpoint } from './checkpoint.js';
import { AuditIoError, InvalidAuditOptionsError } from './errors.js';
import { type CheckpointKey, checkpointKey } from './signing.js';

export interface CheckpointOptions {
  /** The host's P-256 private key (PEM, KeyObject, or from `loadOrCreateCheckpointKey`). */
  readonly key: CheckpointKey | string | KeyObject;
  /** A checkpoint after this many new entries. Default 1000. */
  readonly every?: number;
  /** …or this long (ms) after the first entry not yet covered. Default 60 000. */
  readonly intervalMs?: number;
  /** Host name recorded in checkpoints. Default `os.hostname()`. */
  readonly host?: string;
}

/** Receives what the logger wrote, e.g. the OTLP exporter (see `createOtlpAuditExporter`). */
export interface AuditExportSink {
  /** Complete entry lines (without newline), in chain order, right after they were written. */
  entries(lines: readonly string[]): void;
  /** A signed checkpoint line (without newline), right after it was written. */
  checkpoint(line: string): void;
}

/** @internal The logger's checkpoint state; every method runs under the log's lock. */
export class Checkpointer {
  readonly file: string;
  readonly every: number;
  readonly intervalMs: number;
  private readonly key: CheckpointKey;
  private readonly host: string;
  /** Seq of the latest checkpoint this process wrote (or saw). */
  lastSeq = -1;
  /** When entries not covered by a checkpoint first appeared. */
  pendingSince: number | undefined;

  constructor(
    private readonly logPath: string,
    options: CheckpointOptions,
    private readonly sink: AuditExportSink | undefined,
  ) {
    this.key =
      typeof options.key === 'object' && 'hint' in options.key ? options.key : checkpointKey(options.key);
    this.every = options.every ?? 1000;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.host = options.host ?? hostname();
    for (const [name, value] of [
      ['checkpoint.every', this.every],
      ['checkpoint.intervalMs', this.intervalMs],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new InvalidAuditOptionsError(`audit logger: ${name} must be an integer >= 1, got ${value}`);
    }
    this.file = checkpointPath(logPath);
  }

  /** After a batch: a checkpoint when `every` entries or `intervalMs` have passed. */
  afterWrite(
    head: { seq: number; hash: string },
    chain: Checkpoint['chain'],
    now: number,
    durable: boolean,
  ): void {
    if (head.seq <= this.lastSeq) return;
    this.pendingSince ??= now;
    if (head.seq - Math.max(this.lastSeq, 0) >= this.every) this.write(head, chain, 'count', durable);
    else if (now - this.pendingSince >= this.intervalMs) this.write(head, chain, 'interval', durable);
  }

  /** Writes one checkpoint of `head` (a no-op if this head already has one). */
  write(
    head: { seq: number; hash: string },
    chain: Checkpoint['chain'],
    reason: Checkpoint['reason'],
    durable: boolean,
  ): void {
    if (head.seq === this.lastSeq) return;
    const line = signCheckpoint(makeCheckpoint(this.logPath, head, chain, reason, this.host), this.key);
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'a', 0o600);
      const data = Buffer.from(line, 'utf8');
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      if (durable) fsyncSync(fd);
    } catch (error) {
      throw new AuditIoError(this.file, 'write a checkpoint', error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    this.lastSeq = head.seq;
    this.pendingSince = undefined;
    this.sink?.checkpoint(line.slice(0, -1));
  }
}
