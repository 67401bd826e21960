import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '@codex/security-profile/zod';
import { CacheError } from './errors.js';
import { parseOptions } from './options.js';

export const cacheOptionsSchema = z
  .object({
    /** Folder of the cache (created on first write). */
    dir: z.string().min(1),
    /** Lifetime of a successful fetch. Default 1 h (the plan's value). */
    ttlMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60 * 1000),
    /** Lifetime of a cached failure (timeout, HTTP error, robots denial). Default 60 s (the plan's value). */
    failureTtlMs: z
      .number()
      .int()
      .positive()
      .default(60 * 1000),
    /** Most entries kept; least recently used are evicted beyond it. Default 2,000. */
    maxEntries: z.number().int().positive().default(2000),
    /** Most body bytes kept; least recently used are evicted beyond it. Default 64 MiB. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
  })
  .strict();
export type CacheOptionsInput = z.input<typeof cacheOptionsSchema>;

/** A cached fetch outcome: a response, or the failure it ended in. */
export type CachedValue =
  | { readonly ok: true; readonly status: number; readonly contentType: string; readonly body: string }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly status?: number };

const valueSchema = z.union([
  z.object({ ok: z.literal(true), status: z.number(), contentType: z.string(), body: z.string() }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string(), status: z.number().optional() }),
]);
const entrySchema = z.object({
  url: z.string(),
  file: z.string().regex(/^[0-9a-f]{64}\.json$/),
  expiresAt: z.number(),
  lastAccess: z.number(),
  bytes: z.number().nonnegative(),
  ok: z.boolean(),
});
const indexSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), entrySchema) });
type Entry = z.infer<typeof entrySchema>;

export interface CacheStats {
  hits: number;
  misses: number;
  expired: number;
  evicted: number;
  writes: number;
}

/**
 * An on-disk cache of fetch outcomes keyed by URL: one JSON file per entry plus an index with
 * expiry and last-access times. Successes live `ttlMs`, failures `failureTtlMs`; beyond
 * `maxEntries` or `maxBytes` the least recently used entries are evicted. The clock is injectable.
 * A corrupt index or entry reads as a miss. Concurrent writers in two processes: last index wins.
 */
export class ResearchCache {
  readonly dir: string;
  readonly ttlMs: number;
  readonly failureTtlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly stats: CacheStats = { hits: 0, misses: 0, expired: 0, evicted: 0, writes: 0 };
  private readonly now: () => number;
  private entries: Map<string, Entry> | undefined;
  private dirty = false;
  private tmpCounter = 0;
  /** Writes are serialised so concurrent fetches never interleave index updates. */
  private queue: Promise<unknown> = Promise.resolve();

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  constructor(options: CacheOptionsInput, clock: { now?: () => number } = {}) {
    const o = parseOptions(cacheOptionsSchema, options, 'cache options');
    this.dir = o.dir;
    this.ttlMs = o.ttlMs;
    this.failureTtlMs = o.failureTtlMs;
    this.maxEntries = o.maxEntries;
    this.maxBytes = o.maxBytes;
    this.now = clock.now ?? Date.now;
  }

  /** Cache key: the URL with its fragment removed. */
  static key(url: string): string {
    const hash = url.indexOf('#');
    return hash === -1 ? url : url.slice(0, hash);
  }

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  private async load(): Promise<Map<string, Entry>> {
    if (this.entries) return this.entries;
    let parsed: z.infer<typeof indexSchema> | undefined;
    try {
      const result = indexSchema.safeParse(JSON.parse(await readFile(this.indexPath, 'utf8')));
      if (result.success) parsed = result.data;
    } catch {
      // missing or corrupt index: start empty
    }
    this.entries = new Map(Object.entries(parsed?.entries ?? {}));
    return this.entries;
  }

  /** The live entry for `url`, or undefined (expired entries are dropped). */
  async get(url: string): Promise<CachedValue | undefined> {
    const entries = await this.load();
    const key = ResearchCache.key(url);
    const entry = entries.get(key);
    if (!entry) {
      this.stats.misses++;
      return undefined;
    }
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.stats.expired++;
      this.stats.misses++;
      await this.remove(key, entry);
      return undefined;
    }
    let value: CachedValue | undefined;
    try {
      const result = valueSchema.safeParse(JSON.parse(await readFile(join(this.dir, entry.file), 'utf8')));
      if (result.success) value = result.data as CachedValue;
    } catch {
      // missing or corrupt file
    }
    if (!value) {
      this.stats.misses++;
      await this.remove(key, entry);
      return undefined;
    }
    entry.lastAccess = now;
    this.dirty = true;
    this.stats.hits++;
    return value;
  }

  /** Stores an outcome; successes for `ttlMs`, failures for `failureTtlMs`. Evicts LRU entries over the bounds. */
  set(url: string, value: CachedValue): Promise<void> {
    return this.serial(() => this.setNow(url, value));
  }

  private async setNow(url: string, value: CachedValue): Promise<void> {
    const entries = await this.load();
    const key = ResearchCache.key(url);
    const file = `${createHash('sha256').update(key).digest('hex')}.json`;
    const text = JSON.stringify(value);
    const now = this.now();
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(join(this.dir, file), text);
    } catch (error) {
      throw new CacheError(join(this.dir, file), 'cannot write cache entry', { cause: error });
    }
    entries.set(key, {
      url: key,
      file,
      expiresAt: now + (value.ok ? this.ttlMs : this.failureTtlMs),
      lastAccess: now,
      bytes: Buffer.byteLength(text),
      ok: value.ok,
    });
    this.stats.writes++;
    await this.evict();
    this.dirty = true;
    await this.flushNow();
  }

  private async remove(key: string, entry: Entry): Promise<void> {
    this.entries?.delete(key);
    this.dirty = true;
    await rm(join(this.dir, entry.file), { force: true });
  }

  private async evict(): Promise<void> {
    const entries = await this.load();
    let bytes = 0;
    for (const e of entries.values()) bytes += e.bytes;
    if (entries.size <= this.maxEntries && bytes <= this.maxBytes) return;
    const byAge = [...entries].sort((x, y) => x[1].lastAccess - y[1].lastAccess);
    for (const [key, entry] of byAge) {
      if (entries.size <= this.maxEntries && bytes <= this.maxBytes) break;
      bytes -= entry.bytes;
      this.stats.evicted++;
      await this.remove(key, entry);
    }
  }

  /** Number of entries (live or not yet noticed as expired). */
  async size(): Promise<number> {
    return (await this.load()).size;
  }

  /** Writes the index (atomically) if anything changed. Call when done with the cache. */
  flush(): Promise<void> {
    return this.serial(() => this.flushNow());
  }

  private async flushNow(): Promise<void> {
    if (!this.dirty || !this.entries) return;
    const tmp = `${this.indexPath}.${process.pid}.${++this.tmpCounter}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) }));
      await rename(tmp, this.indexPath);
    } catch (error) {
      throw new CacheError(this.indexPath, 'cannot write cache index', { cause: error });
    }
    this.dirty = false;
  }
}
