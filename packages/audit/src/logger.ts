import { closeSync, fsync, fsyncSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AuditEventInput, AuditSink } from '@codex/security-profile';
import { type Group, newGroup, RESOLVED } from './batch.js';
import { createHasher, keyBytes } from './chain.js';
import { ChainWriter } from './chain-writer.js';
import { Checkpointer } from './checkpoint-writer.js';
import { cachedNow, entryBody } from './entry.js';
import {
  AuditBufferFullError,
  AuditClosedError,
  AuditError,
  AuditIoError,
  InvalidAuditOptionsError,
} from './errors.js';
import { FileLock } from './lock.js';
import { type AuditLoggerOptions, type Durability, validateLoggerOptions } from './logger-options.js';
import { createMasker } from './mask.js';
import type { ChainAlgorithm } from './schema.js';

const live = new Set<AuditLogger>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // beforeExit: the event loop is empty; an asynchronous flush keeps the process alive until done.
  process.on('beforeExit', () => {
    for (const logger of live) logger.flushPending();
  });
  // exit (also after process.exit()): only synchronous work runs; write what is left.
  process.on('exit', () => {
    for (const logger of live) logger.flushSyncOnExit();
  });
}

/**
 * Appends tamper-evident audit entries to a JSON-lines file. Implements `AuditSink`, so any
 * library that accepts a sink can be handed one.
 *
 * Several processes may log to the same file: every batch is appended under an exclusive lock
 * file (`<path>.lock`), and the chain tail is re-read under the lock whenever the file changed
 * since this process last wrote, so the chain stays one line across processes.
 */
export class AuditLogger implements AuditSink {
  readonly path: string;
  readonly enabled: boolean;
  readonly durability: Durability;
  readonly chain: ChainAlgorithm;

  private readonly mask: (text: string) => string;
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly lock: FileLock | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly writer: ChainWriter;
  private checkpointTimer: NodeJS.Timeout | undefined;

  /** Batches waiting to be written, oldest first; the last one is open. At most batchSize each. */
  private queue: Group[] = [newGroup()];
  private queued = 0;
  private inflight: Group | undefined;
  private draining = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private closed = false;

  constructor(options: AuditLoggerOptions) {
    this.enabled = options.enabled ?? true;
    this.durability = options.durability ?? 'batch';
    const hasher = createHasher(keyBytes(options.hmacKey));
    this.chain = hasher.algorithm;
    this.now = options.now ?? cachedNow;
    this.batchSize = options.batchSize ?? 1024;
    this.flushIntervalMs = options.flushIntervalMs ?? 10;
    this.maxBuffered = options.maxBufferedEntries ?? 100_000;
    const maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
    if (!this.enabled) {
      // A disabled logger does no work: no path checks, no files, no timers, no exit hooks.
      this.path = options.path;
      this.mask = (s) => s;
      this.lock = undefined;
      this.checkpointer = undefined;
      this.writer = new ChainWriter(options.path, hasher.hash, maxFileBytes, undefined);
      return;
    }
    validateLoggerOptions(options.path, this.durability, {
      batchSize: this.batchSize,
      flushIntervalMs: this.flushIntervalMs,
      maxBuffered: this.maxBuffered,
      maxFileBytes,
    });
    this.path = resolve(options.path);
    this.mask = createMasker(options.mask);
    this.lock = new FileLock(`${this.path}.lock`, options.lock);
    const sink = options.export;
    this.checkpointer = options.checkpoint
      ? new Checkpointer(this.path, options.checkpoint, sink)
      : undefined;
    this.writer = new ChainWriter(this.path, hasher.hash, maxFileBytes, sink);
    live.add(this);
    installExitHooks();
  }

  /** Last entry this logger wrote (or read as the tail under the lock). */
  get head(): { seq: number; hash: string } {
    return { ...this.writer.tail };
  }

  get stats(): {
    written: number;
    batches: number;
    rotations: number;
    tornTailsRepaired: number;
    queued: number;
  } {
    return { ...this.writer.counters, queued: this.queued + this.unwrittenInflight() };
  }

  /**
   * Records one event. The returned promise resolves once the entry is written (and, under
   * `batch`/`every`, fsynced); it rejects with an {@link AuditError} if the event is invalid, the
   * buffer is full, the logger is closed or the write failed. Fail-safe callers deny on rejection.
   */
  log(event: AuditEventInput): Promise<void> {
    if (!this.enabled) return RESOLVED;
    if (this.closed) return Promise.reject(new AuditClosedError(this.path));
    let body: string;
    try {
      body = entryBody(event, this.now, this.mask, this.chain);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.queued + this.unwrittenInflight() >= this.maxBuffered) {
      return Promise.reject(new AuditBufferFullError(this.path, this.maxBuffered));
    }
    let group = this.queue[this.queue.length - 1]!;
    if (group.bodies.length >= this.batchSize) {
      group = newGroup();
      this.queue.push(group);
    }
    group.bodies.push(body);
    group.bytes += body.length + 180;
    this.queued++;
    if (group.bodies.length >= this.batchSize) this.startFlush();
    else if (this.timer === undefined && !this.draining) this.schedule();
    return group.promise;
  }

  /** Writes everything buffered so far; resolves when it is written (and fsynced, if durable). */
  flush(): Promise<void> {
    if (!this.enabled) return RESOLVED;
    return this.startFlush();
  }

  /** Flushes, fsyncs and closes the file. Later `log()` calls reject with AUDIT_CLOSED. */
  async close(): Promise<void> {
    if (!this.enabled || this.closed) return;
    this.closed = true;
    clearTimeout(this.checkpointTimer);
    try {
      await this.startFlush();
      if (this.writer.fd !== undefined) fsyncSync(this.writer.fd);
      if (this.checkpointer && this.writer.counters.written > 0) await this.checkpoint('close');
    } finally {
      if (this.writer.fd !== undefined) closeSync(this.writer.fd);
      this.writer.fd = undefined;
      live.delete(this);
    }
  }

  /**
   * Writes a signed checkpoint of the log's current head now (under the lock, so it is the head
   * every process sees). Needs the `checkpoint` option. Resolves with the checkpointed head.
   */
  async checkpoint(
    reason: 'manual' | 'close' | 'interval' = 'manual',
  ): Promise<{ seq: number; hash: string }> {
    const cp = this.checkpointer;
    if (!cp || !this.lock)
      throw new InvalidAuditOptionsError('audit logger: checkpoint() needs the checkpoint option');
    if (!this.closed || reason === 'close') await this.startFlush();
    this.writer.ensureDir();
    await this.lock.acquire();
    try {
      this.writer.syncWithFile();
      if (this.writer.tail.seq > 0)
        cp.write(this.writer.tail, this.chain, reason, this.durability !== 'none');
    } finally {
      this.lock.release();
    }
    return { ...this.writer.tail };
  }

  /** @internal beforeExit hook. */
  flushPending(): void {
    if (this.queued > 0) this.startFlush().catch(() => {});
  }

  /** @internal exit hook: synchronous write of whatever was not written yet. */
  flushSyncOnExit(): void {
    const groups = [this.inflight, ...this.queue].filter(
      (g): g is Group => g !== undefined && !g.written && g.bodies.length > 0,
    );
    if (groups.length === 0 || this.lock === undefined) return;
    try {
      this.writer.ensureDir();
      this.lock.acquireSync(2_000);
      try {
        for (const group of groups) this.writeLocked(group);
      } finally {
        this.lock.release();
      }
      if (this.durability !== 'none' && this.writer.fd !== undefined) fsyncSync(this.writer.fd);
    } catch (error) {
      process.stderr.write(`@codex/audit: entries lost at exit: ${String(error)}\n`);
    }
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    if (this.durability === 'every' || this.flushIntervalMs === 0) {
      this.timer = setImmediate(() => {
        this.timer = undefined;
        this.startFlush().catch(() => {});
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.startFlush().catch(() => {});
      }, this.flushIntervalMs);
    }
    this.timer.unref();
  }

  private unwrittenInflight(): number {
    return this.inflight !== undefined && !this.inflight.written ? this.inflight.bodies.length : 0;
  }

  private startFlush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    // Resolves when everything queued so far is written: the current group, or the one in flight.
    const last = this.queue[this.queue.length - 1]!;
    const target = last.bodies.length > 0 ? last.promise : (this.inflight?.promise ?? RESOLVED);
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
    return target;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued > 0) {
        const group = this.queue.shift()!;
        if (this.queue.length === 0) this.queue.push(newGroup());
        this.queued -= group.bodies.length;
        this.inflight = group;
        try {
          await this.writeGroup(group); // never rejects: failures reject the group's promise
        } finally {
          this.inflight = undefined;
        }
      }
    } finally {
      // Cleared in the same synchronous step as the last emptiness check, so an entry logged
      // from here on sees no drain running and schedules (or starts) its own.
      this.draining = false;
    }
  }

  private async writeGroup(group: Group): Promise<void> {
    try {
      const lock = this.lock!;
      this.writer.ensureDir();
      await lock.acquire();
      let fd: number;
      try {
        fd = this.writeLocked(group);
      } finally {
        lock.release();
      }
      // Durability does not need the lock: our bytes precede any later writer's, and fsync of
      // the file covers them whoever calls it. Releasing first keeps the critical section short.
      if (this.durability !== 'none') {
        await new Promise<void>((res, rej) => fsync(fd, (e) => (e ? rej(e) : res())));
      }
      group.resolve();
    } catch (error) {
      group.reject(error instanceof AuditError ? error : new AuditIoError(this.path, 'append', error));
    }
  }

  /** Under the lock: the writer chains and appends the batch; then a checkpoint if due. */
  private writeLocked(group: Group): number {
    const fd = this.writer.writeLocked(group);
    if (this.checkpointer) this.afterWriteCheckpoint();
    return fd;
  }

  /** Under the lock, after a batch: a checkpoint if due, else a timer for the interval one. */
  private afterWriteCheckpoint(): void {
    const cp = this.checkpointer!;
    cp.afterWrite(this.writer.tail, this.chain, Date.now(), this.durability !== 'none');
    if (cp.pendingSince !== undefined && this.checkpointTimer === undefined && !this.closed) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = undefined;
        if (!this.closed) this.checkpoint('interval').catch(() => {});
      }, cp.intervalMs);
      this.checkpointTimer.unref();
    }
  }
}
