import { wasmKind } from './binary.js';
import {
  type CacheEntry,
  cacheKey,
  defaultCacheDir,
  ensurePrivateCacheDir,
  readEntry,
  removeEntry,
  sha256,
  writeEntry,
} from './cache.js';
import { InvalidPluginError } from './errors.js';
import { memoryPages } from './limits.js';

/** Largest plugin accepted (compiling and instrumenting run on the caller's thread). */
export const MAX_PLUGIN_BYTES = 64 * 1024 * 1024;
/** Cap on every table's size (funcref entries), so table.grow cannot exhaust host memory. */
export const MAX_TABLE_ENTRIES = 65_536;

/** A plugin ready to run: instrumented, memory-capped, compiled core modules + jco glue. */
export interface CompiledPlugin {
  readonly label: string;
  /** SHA-256 of the plugin's bytes. */
  readonly sha256: string;
  /** Cache key: SHA-256 over the plugin, the pipeline's code and versions, and the caps. */
  readonly key: string;
  readonly kind: 'module' | 'component';
  /** jco glue as a script (components; verified against its digest), undefined for preview1 modules. */
  readonly glue: string | undefined;
  /** Core module name (as jco names it) → compiled module. */
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  /** Unversioned WIT interfaces the component imports, e.g. `wasi:cli/stdout`. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  /** Whether this load hit the on-disk cache, the in-memory cache, or neither. */
  readonly cache: 'memory' | 'disk' | 'miss';
  /** Set when a disk entry failed verification and was rebuilt: why it was rejected. */
  readonly rejectedEntry?: string;
}

export interface CompileOptions {
  /** Directory for built plugins; default {@link defaultCacheDir}. */
  readonly cacheDir?: string;
  /** Cap for every linear memory, in bytes. */
  readonly memoryBytes: number;
  /** Label used in error messages (file name). */
  readonly label: string;
}

const memoryCache = new Map<string, CompiledPlugin>();
const MEMORY_CACHE_ENTRIES = 32;

/** Drops the in-process cache of compiled modules (the disk cache stays). */
export function clearCompiledCache(): void {
  memoryCache.clear();
}

/**
 * Loads plugin bytes through the cache: a verified disk entry, or the pipeline (wrap, transpile,
 * instrument, cap) whose output is then written as a new entry. The compiled modules are kept in
 * memory by cache key (which includes the cache directory, so a refused directory is never
 * bypassed by an earlier load from another one).
 */
export async function compilePlugin(bytes: Uint8Array, options: CompileOptions): Promise<CompiledPlugin> {
  const { label } = options;
  if (bytes.length > MAX_PLUGIN_BYTES) {
    throw new InvalidPluginError(label, `${bytes.length} bytes is above the ${MAX_PLUGIN_BYTES}-byte limit`);
  }
  const kind = wasmKind(bytes);
  if (!kind) throw new InvalidPluginError(label, 'not a WebAssembly module or component (bad magic/version)');
  const pluginSha = sha256(bytes);
  const pages = memoryPages(options.memoryBytes);
  const { key, inputs } = cacheKey(pluginSha, pages, MAX_TABLE_ENTRIES);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  ensurePrivateCacheDir(cacheDir);
  const memKey = `${cacheDir}\0${key}`;
  const hit = memoryCache.get(memKey);
  if (hit) {
    memoryCache.delete(memKey);
    memoryCache.set(memKey, hit);
    const { rejectedEntry: _, ...rest } = hit;
    return { ...rest, label, cache: 'memory' };
  }
  let cache: CompiledPlugin['cache'] = 'disk';
  let rejectedEntry: string | undefined;
  let entry: CacheEntry;
  const read = readEntry(cacheDir, key);
  if (read.kind === 'hit') {
    entry = read.entry;
  } else {
    if (read.kind === 'rejected') {
      rejectedEntry = read.reason;
      removeEntry(cacheDir, key);
    }
    cache = 'miss';
    // The pipeline (and, for components, jco) loads only when something must be built.
    const { buildPlugin } = await import('./pipeline.js');
    entry = await buildPlugin(bytes, { kind, memoryPages: pages, tableEntries: MAX_TABLE_ENTRIES, label });
    writeEntry(cacheDir, key, inputs, entry);
  }
  const modules = new Map<string, WebAssembly.Module>();
  for (const [name, data] of entry.core) {
    try {
      modules.set(name, new WebAssembly.Module(data as BufferSource));
    } catch (error) {
      throw new InvalidPluginError(
        label,
        `core module ${name} does not compile: ${(error as Error).message}`,
      );
    }
  }
  const compiled: CompiledPlugin = {
    label,
    sha256: pluginSha,
    key,
    kind,
    glue: entry.glue,
    modules,
    imports: entry.imports,
    exports: entry.exports,
    cache,
    ...(rejectedEntry !== undefined ? { rejectedEntry } : {}),
  };
  memoryCache.set(memKey, compiled);
  if (memoryCache.size > MEMORY_CACHE_ENTRIES) memoryCache.delete(memoryCache.keys().next().value!);
  return compiled;
}
