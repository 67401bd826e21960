import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Group } from './batch.js';
import type { Hasher } from './chain.js';
import type { AuditExportSink } from './checkpoint-writer.js';
import { AuditIoError } from './errors.js';
import { rotatedFilesSync } from './files.js';
import { AUDIT_SCHEMA_VERSION, GENESIS_HASH } from './schema.js';
import { readChainTail } from './tail.js';

/**
 * @internal The locked chain writer: the log file's state in this process (descriptor, inode,
 * size, chain tail). Every method but `ensureDir` runs under the log's lock.
 */
export class ChainWriter {
  fd: number | undefined;
  private ino = -1;
  private size = 0;
  tail = { seq: 0, hash: GENESIS_HASH };
  private scratch: Buffer = Buffer.allocUnsafe(64 * 1024);
  readonly counters = { written: 0, batches: 0, rotations: 0, tornTailsRepaired: 0 };

  constructor(
    private readonly path: string,
    private readonly hash: Hasher,
    private readonly maxFileBytes: number,
    private readonly sink: AuditExportSink | undefined,
  ) {}

  private dirReady = false;
  ensureDir(): void {
    if (this.dirReady) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new AuditIoError(this.path, 'create its directory', error);
    }
    this.dirReady = true;
  }

  /** Syncs with the file, rotates if needed, chains and appends the batch; returns the descriptor. */
  writeLocked(group: Group): number {
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
    return fd;
  }

  /** (Re)opens the file if it was rotated or replaced, and re-reads the tail if anyone else wrote. */
  syncWithFile(): number {
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
}
