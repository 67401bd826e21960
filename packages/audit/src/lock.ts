import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { AuditLockTimeoutError } from './errors.js';

export interface LockOptions {
  /** Give up after this long (ms). Default 10 000. */
  readonly timeoutMs?: number;
  /**
   * A lock older than this (ms) is abandoned, whoever owns it: writers hold it only for
   * synchronous work lasting milliseconds. Default 30 000. A lock whose owner is a dead process
   * on this host is broken at once.
   */
  readonly staleMs?: number;
}

const HOST = hostname();
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * An exclusive lock file next to the log, created with `O_CREAT|O_EXCL` (`open(…, 'wx')`), which
 * is atomic on local file systems on Linux, macOS and Windows. The file holds
 * `pid\nhost\nnonce\n`. Release deletes it, but only if it still holds our nonce.
 *
 * Stale locks: if the owner is on this host and `kill(pid, 0)` says it is gone, or the lock is
 * older than `staleMs` (the lock is only ever held for synchronous work), it is broken. Breaking is itself
 * serialised by a second O_EXCL file (`.break`): the breaker re-reads the lock under it and
 * deletes it only if the content is still the stale one, so two processes that both saw the
 * same stale lock cannot delete a fresh lock taken in between.
 */
export class FileLock {
  readonly path: string;
  private readonly timeoutMs: number;
  private readonly staleMs: number;
  private token: string | undefined;

  constructor(path: string, options: LockOptions = {}) {
    this.path = path;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.staleMs = options.staleMs ?? 30_000;
  }

  get held(): boolean {
    return this.token !== undefined;
  }

  /** One attempt, synchronous. */
  tryAcquire(): boolean {
    const token = `${process.pid}\n${HOST}\n${randomBytes(8).toString('hex')}\n`;
    let fd: number;
    try {
      fd = openSync(this.path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      this.breakIfStale();
      return false;
    }
    try {
      writeSync(fd, token);
    } finally {
      closeSync(fd);
    }
    this.token = token;
    return true;
  }

  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    const start = Date.now();
    let delay = 1;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
      if (this.tryAcquire()) return;
      if (Date.now() - start > this.timeoutMs) throw this.timeout(Date.now() - start);
      delay = Math.min(delay * 2, 16);
    }
  }

  /** Blocking variant for `process.on('exit')`, where nothing asynchronous runs any more. */
  acquireSync(timeoutMs = this.timeoutMs): void {
    const start = Date.now();
    let delay = 1;
    while (!this.tryAcquire()) {
      if (Date.now() - start > timeoutMs) throw this.timeout(Date.now() - start);
      Atomics.wait(sleeper, 0, 0, delay);
      delay = Math.min(delay * 2, 16);
    }
  }

  release(): void {
    const token = this.token;
    this.token = undefined;
    if (token === undefined) return;
    try {
      if (readFileSync(this.path, 'utf8') === token) unlinkSync(this.path);
    } catch {
      // Already gone (broken as stale by someone else): nothing to release.
    }
  }

  private timeout(waited: number): AuditLockTimeoutError {
    let holder = '';
    try {
      holder = readFileSync(this.path, 'utf8').split('\n').slice(0, 2).join('@');
    } catch {}
    return new AuditLockTimeoutError(this.path, waited, holder);
  }

  private breakIfStale(): void {
    const seen = this.readLock();
    if (seen === undefined || !this.isStale(seen)) return;
    const breaker = `${this.path}.break`;
    let fd: number;
    try {
      fd = openSync(breaker, 'wx');
    } catch {
      // Another process is breaking it; a breaker left by a crash expires after staleMs.
      try {
        if (Date.now() - statSync(breaker).mtimeMs > this.staleMs) unlinkSync(breaker);
      } catch {}
      return;
    }
    try {
      const now = this.readLock();
      if (now !== undefined && now.content === seen.content) unlinkSync(this.path);
    } catch {
    } finally {
      closeSync(fd);
      try {
        unlinkSync(breaker);
      } catch {}
    }
  }

  private readLock(): { content: string; ageMs: number } | undefined {
    try {
      const content = readFileSync(this.path, 'utf8');
      const ageMs = Date.now() - statSync(this.path).mtimeMs;
      return { content, ageMs };
    } catch {
      return undefined;
    }
  }

  private isStale({ content, ageMs }: { content: string; ageMs: number }): boolean {
    // Writers hold the lock only for synchronous work (milliseconds), so a lock older than
    // staleMs is abandoned whoever owns it (covers a dead owner whose pid was reused, or
    // another host). An empty file is an owner that died between create and write.
    if (ageMs > (content === '' ? 1_000 : this.staleMs)) return true;
    const [pidText, host] = content.split('\n');
    const pid = Number(pidText);
    if (host !== HOST || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}
