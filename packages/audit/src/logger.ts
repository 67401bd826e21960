import {
  closeSync,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AuditEventInput, AuditSink } from '@codex/security-profile';
import { createHasher, type Hasher, keyBytes } from './chain.js';
import { type AuditExportSink, Checkpointer, type CheckpointOptions } from './checkpoint-writer.js';
import {
  AuditBufferFullError,
  AuditClosedError,
  AuditError,
  AuditIoError,
  InvalidAuditEventError,
  InvalidAuditOptionsError,
} from './errors.js';
import { rotatedFilesSync } from './files.js';
import { FileLock, type LockOptions } from './lock.js';
import { createMasker, isSecretKey, type MaskOptions, REDACTED } from './mask.js';
import {
  AUDIT_SCHEMA_VERSION,
  type ChainAlgorithm,
  DECISIONS,
  GENESIS_HASH,
  OPERATIONS,
  PROFILES,
} from './schema.js';
import { readChainTail } from './tail.js';

/**
 * - `none`: entries are written to the OS in batches; nothing is fsynced until `close()`. A
 *   promise resolves once its batch reached the OS (survives a process crash, not a power cut).
 *   Entries still in memory are lost on SIGKILL.
 * - `batch`: group commit. A batch is written and fsynced once; every promise in it resolves
 *   after that fsync.
 * - `every`: a write starts as soon as `log()` is called (no batching window) and is fsynced
 *   before its promise resolves. Calls made while an fsync is running share the next one.
 */
export type Durability = 'none' | 'batch' | 'every';
export const DURABILITIES = ['none', 'batch', 'every'] as const satisfies readonly Durability[];

export interface AuditLoggerOptions {
  /** The JSON-lines file. Its directory is created if missing. */
  readonly path: string;
  /** `false` makes `log()` a no-op that touches nothing. Default `true`. */
  readonly enabled?: boolean;
  /** Default `batch`. */
  readonly durability?: Durability;
  /** Key for an HMAC-SHA-256 chain. Without it the chain is plain SHA-256. */
  readonly hmacKey?: string | Uint8Array;
  /** Entries per batch (one locked write, one fsync): a full batch is written at once. Default 1024. */
  readonly batchSize?: number;
  /** …or this long (ms) after its first entry (`none`, `batch`). Default 10. */
  readonly flushIntervalMs?: number;
  /** Bound of the in-memory buffer; beyond it `log()` rejects with AUDIT_BUFFER_FULL. Default 100 000. */
  readonly maxBufferedEntries?: number;
  /** Rotate the file before it would grow past this size. `0` never rotates. Default 64 MiB. */
  readonly maxFileBytes?: number;
  /** Home directory and user name to mask (default: the current user's). */
  readonly mask?: MaskOptions;
  readonly lock?: LockOptions;
  /** Clock, for tests. */
  readonly now?: () => Date;
  /** Signed checkpoints in `<path>.checkpoints` every N entries, T ms, on close and on request. */
  readonly checkpoint?: CheckpointOptions;
  /** Gets every written line and checkpoint (e.g. `createOtlpAuditExporter`). */
  readonly export?: AuditExportSink;
}

interface Group {
  bodies: string[];
  bytes: number;
  written: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { bodies: [], bytes: 0, written: false, promise, resolve, reject };
}

const RESOLVED: Promise<void> = Promise.resolve();
const OPERATION_SET: ReadonlySet<string> = new Set(OPERATIONS);
const DECISION_SET: ReadonlySet<string> = new Set(DECISIONS);
const PROFILE_SET: ReadonlySet<string> = new Set(PROFILES);

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

  private readonly hash: Hasher;
  private readonly mask: (text: string) => string;
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;
  private readonly maxFileBytes: number;
  private readonly lock: FileLock | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly sink: AuditExportSink | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;

  /** Batches waiting to be written, oldest first; the last one is open. At most batchSize each. */
  private queue: Group[] = [newGroup()];
  private queued = 0;
  private inflight: Group | undefined;
  private draining = false;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private closed = false;

  private fd: number | undefined;
  private ino = -1;
  private size = 0;
  private tail = { seq: 0, hash: GENESIS_HASH };
  private scratch: Buffer = Buffer.allocUnsafe(64 * 1024);
  private readonly counters = { written: 0, batches: 0, rotations: 0, tornTailsRepaired: 0 };

  constructor(options: AuditLoggerOptions) {
    this.enabled = options.enabled ?? true;
    this.durability = options.durability ?? 'batch';
    const hasher = createHasher(keyBytes(options.hmacKey));
    this.chain = hasher.algorithm;
    this.hash = hasher.hash;
    this.now = options.now ?? cachedNow;
    this.batchSize = options.batchSize ?? 1024;
    this.flushIntervalMs = options.flushIntervalMs ?? 10;
    this.maxBuffered = options.maxBufferedEntries ?? 100_000;
    this.maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
    if (!this.enabled) {
      // A disabled logger does no work: no path checks, no files, no timers, no exit hooks.
      this.path = options.path;
      this.mask = (s) => s;
      this.lock = undefined;
      this.checkpointer = undefined;
      this.sink = undefined;
      return;
    }
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new InvalidAuditOptionsError('audit logger: path must be a non-empty string');
    }
    if (!(DURABILITIES as readonly string[]).includes(this.durability)) {
      throw new InvalidAuditOptionsError(
        `audit logger: durability must be one of ${DURABILITIES.join(', ')}, got "${String(this.durability)}"`,
      );
    }
    for (const [name, value, min] of [
      ['batchSize', this.batchSize, 1],
      ['flushIntervalMs', this.flushIntervalMs, 0],
      ['maxBufferedEntries', this.maxBuffered, 1],
      ['maxFileBytes', this.maxFileBytes, 0],
    ] as const) {
      if (!Number.isInteger(value) || value < min) {
        throw new InvalidAuditOptionsError(
          `audit logger: ${name} must be an integer >= ${min}, got ${value}`,
        );
      }
    }
    this.path = resolve(options.path);
    this.mask = createMasker(options.mask);
    this.lock = new FileLock(`${this.path}.lock`, options.lock);
    this.sink = options.export;
    this.checkpointer = options.checkpoint
      ? new Checkpointer(this.path, options.checkpoint, this.sink)
      : undefined;
    live.add(this);
    installExitHooks();
  }

  /** Last entry this logger wrote (or read as the tail under the lock). */
  get head(): { seq: number; hash: string } {
    return { ...this.tail };
  }

  get stats(): {
    written: number;
    batches: number;
    rotations: number;
    tornTailsRepaired: number;
    queued: number;
  } {
    return { ...this.counters, queued: this.queued + this.unwrittenInflight() };
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
      body = this.body(event);
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
      if (this.fd !== undefined) fsyncSync(this.fd);
      if (this.checkpointer && this.counters.written > 0) await this.checkpoint('close');
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
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
    this.ensureDir();
    await this.lock.acquire();
    try {
      this.syncWithFile();
      if (this.tail.seq > 0) cp.write(this.tail, this.chain, reason, this.durability !== 'none');
    } finally {
      this.lock.release();
    }
    return { ...this.tail };
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
      this.ensureDir();
      this.lock.acquireSync(2_000);
      try {
        for (const group of groups) this.writeLocked(group);
      } finally {
        this.lock.release();
      }
      if (this.durability !== 'none' && this.fd !== undefined) fsyncSync(this.fd);
    } catch (error) {
      process.stderr.write(`@codex/audit: entries lost at exit: ${String(error)}\n`);
    }
  }

  private dirReady = false;
  private ensureDir(): void {
    if (this.dirReady) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new AuditIoError(this.path, 'create its directory', error);
    }
    this.dirReady = true;
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
      this.ensureDir();
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

  /** Under the lock: sync with the file, rotate if needed, chain and append the batch. */
  private writeLocked(group: Group): number {
    let fd = this.syncWithFile();
    if (this.maxFileBytes > 0 && this.size > 0 && this.size + group.bytes > this.maxFileBytes) {
      fd = this.rotate(fd);
    }
    // Each line is encoded once, straight into a reused buffer, and its prefix hashed from
    // those bytes (no second UTF-8 encoding, no per-line strings to join).
    let { seq, hash } = this.tail;
    const chainHash = this.hash;
    let buf = this.scratch;
    let end = 0;
    const starts: number[] | undefined = this.sink ? [] : undefined;
    for (const body of group.bodies) {
      starts?.push(end);
      seq++;
      const prefix = `{"v":${AUDIT_SCHEMA_VERSION},"seq":${seq},${body},"prev":"${hash}"`;
      // UTF-8 needs at most 3 bytes per UTF-16 unit; the suffix is 77 ASCII bytes.
      const need = end + prefix.length * 3 + 80;
      if (need > buf.length) {
        const bigger = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      }
      const n = buf.write(prefix, end, 'utf8');
      hash = chainHash(buf.subarray(end, end + n));
      end += n;
      end += buf.write(`,"hash":"${hash}"}\n`, end, 'latin1');
    }
    // Keep a moderately sized buffer for the next batch; let a huge one go.
    this.scratch = buf.length <= 4 * 1024 * 1024 ? buf : Buffer.allocUnsafe(64 * 1024);
    const data = buf.subarray(0, end);
    let off = 0;
    try {
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    } catch (error) {
      // A partial line may be on disk; the next writer cuts it off as a torn tail.
      this.size = -1;
      throw new AuditIoError(this.path, 'append', error);
    }
    this.size += data.length;
    this.tail = { seq, hash };
    group.written = true;
    this.counters.written += group.bodies.length;
    this.counters.batches++;
    if (starts)
      this.sink!.entries(
        starts.map((st, i) => data.toString('utf8', st, (starts[i + 1] ?? data.length) - 1)),
      );
    if (this.checkpointer) this.afterWriteCheckpoint();
    return fd;
  }

  /** Under the lock, after a batch: a checkpoint if due, else a timer for the interval one. */
  private afterWriteCheckpoint(): void {
    const cp = this.checkpointer!;
    cp.afterWrite(this.tail, this.chain, Date.now(), this.durability !== 'none');
    if (cp.pendingSince !== undefined && this.checkpointTimer === undefined && !this.closed) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = undefined;
        if (!this.closed) this.checkpoint('interval').catch(() => {});
      }, cp.intervalMs);
      this.checkpointTimer.unref();
    }
  }

  /** (Re)opens the file if it was rotated or replaced, and re-reads the tail if anyone else wrote. */
  private syncWithFile(): number {
    let st: { ino: number; size: number } | undefined;
    try {
      st = statSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new AuditIoError(this.path, 'stat', error);
    }
    if (this.fd === undefined || st === undefined || st.ino !== this.ino) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
      try {
        this.fd = openSync(this.path, 'a+', 0o600);
        const fst = fstatSync(this.fd);
        this.ino = fst.ino;
        this.size = fst.size;
      } catch (error) {
        throw new AuditIoError(this.path, 'open', error);
      }
      this.tail = this.readTail(this.fd, this.path, true);
    } else if (st.size !== this.size) {
      this.size = st.size;
      this.tail = this.readTail(this.fd, this.path, true);
    }
    return this.fd;
  }

  /**
   * Last entry's seq and hash. A torn final line (the start of the next entry: a writer died
   * mid-write; never acknowledged) is cut off when `repair` is set, which only happens under the
   * lock. Anything else after the last newline is tampering: AUDIT_CORRUPT_TAIL, nothing cut.
   */
  private readTail(fd: number, file: string, repair: boolean): { seq: number; hash: string } {
    const size = repair ? this.size : fstatSync(fd).size;
    if (size === 0) {
      if (!repair) return { seq: 0, hash: GENESIS_HASH };
      // An empty live file right after rotation: continue from the newest rotated file.
      const rotated = rotatedFilesSync(this.path).pop();
      if (rotated === undefined) return { seq: 0, hash: GENESIS_HASH };
      let rfd: number;
      try {
        rfd = openSync(rotated.path, 'r');
      } catch (error) {
        throw new AuditIoError(rotated.path, 'open', error);
      }
      try {
        return this.readTail(rfd, rotated.path, false);
      } finally {
        closeSync(rfd);
      }
    }
    const tail = readChainTail(fd, size, file, this.hash);
    if (tail.tornAt !== undefined && repair) {
      ftruncateSync(fd, tail.tornAt);
      this.size = tail.tornAt;
      this.counters.tornTailsRepaired++;
      if (tail.tornAt === 0) return this.readTail(fd, file, repair);
    }
    return { seq: tail.seq, hash: tail.hash };
  }

  private rotate(fd: number): number {
    const next = (rotatedFilesSync(this.path).pop()?.n ?? 0) + 1;
    try {
      closeSync(fd);
      this.fd = undefined;
      renameSync(this.path, `${this.path}.${next}`);
      this.fd = openSync(this.path, 'a+', 0o600);
      this.ino = fstatSync(this.fd).ino;
      this.size = 0;
    } catch (error) {
      throw new AuditIoError(this.path, 'rotate', error);
    }
    this.counters.rotations++;
    return this.fd;
  }

  /** Validates the event and renders the middle of its line (timestamp … chain). */
  private body(e: AuditEventInput): string {
    if (typeof e !== 'object' || e === null) throw new InvalidAuditEventError('event', 'must be an object');
    if (!PROFILE_SET.has(e.profile))
      throw new InvalidAuditEventError('profile', `unknown "${String(e.profile)}"`);
    if (!OPERATION_SET.has(e.operation)) {
      throw new InvalidAuditEventError('operation', `unknown "${String(e.operation)}"`);
    }
    if (!DECISION_SET.has(e.decision)) {
      throw new InvalidAuditEventError('decision', `unknown "${String(e.decision)}"`);
    }
    if (typeof e.target !== 'string') throw new InvalidAuditEventError('target', 'must be a string');
    if (typeof e.reason !== 'string') throw new InvalidAuditEventError('reason', 'must be a string');
    const timestamp = iso(this.now());
    let body = `"timestamp":"${timestamp}","session_id":${optString(e.session_id, 'session_id')},"task_id":${optString(
      e.task_id,
      'task_id',
    )},"agent_type":${optString(e.agent_type, 'agent_type')},"profile":"${e.profile}","operation":"${
      e.operation
    }","target":${JSON.stringify(this.mask(e.target))},"decision":"${e.decision}","reason":${JSON.stringify(
      this.mask(e.reason),
    )}`;
    if (e.details !== undefined) body += `,"details":${this.details(e.details)}`;
    return `${body},"chain":"${this.chain}"`;
  }

  private details(details: NonNullable<AuditEventInput['details']>): string {
    if (typeof details !== 'object' || details === null || Array.isArray(details)) {
      throw new InvalidAuditEventError('details', 'must be an object');
    }
    const out: Record<string, string | number | boolean | null> = {};
    for (const [key, value] of Object.entries(details)) {
      if (isSecretKey(key)) out[key] = REDACTED;
      else if (typeof value === 'string') out[key] = this.mask(value);
      else if (
        value === null ||
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value))
      ) {
        out[key] = value;
      } else
        throw new InvalidAuditEventError(
          `details.${key}`,
          'must be a string, finite number, boolean or null',
        );
    }
    return JSON.stringify(out);
  }
}

let lastMs = -1;
let lastDate = new Date(0);
let lastIso = lastDate.toISOString();
/** `new Date()`, reused within the same millisecond (toISOString is then cached too). */
function cachedNow(): Date {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastDate = new Date(ms);
    lastIso = lastDate.toISOString();
  }
  return lastDate;
}
function iso(date: Date): string {
  return date === lastDate ? lastIso : date.toISOString();
}

function optString(value: unknown, field: string): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value !== 'string') throw new InvalidAuditEventError(field, 'must be a string');
  return JSON.stringify(value);
}
