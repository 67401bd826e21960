import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capMemories, capTables, coreInterface, MemoryCapError, wasmKind } from './binary.js';
import { InvalidPluginError, MemoryLimitError, PluginHostError } from './errors.js';
import { memoryPages } from './limits.js';

/** Bump when the transpile or instrumentation output changes, to invalidate old cache entries. */
const PIPELINE_VERSION = 'v1';

/** Largest plugin accepted (compiling and instrumenting run on the caller's thread). */
export const MAX_PLUGIN_BYTES = 64 * 1024 * 1024;
/** Cap on every table's size (funcref entries), so table.grow cannot exhaust host memory. */
export const MAX_TABLE_ENTRIES = 65_536;

/** A plugin ready to run: instrumented, memory-capped, compiled core modules + jco glue. */
export interface CompiledPlugin {
  readonly label: string;
  readonly sha256: string;
  readonly kind: 'module' | 'component';
  /** Absolute path of the jco-generated ES module (instantiation: async). */
  readonly jsPath: string;
  /** Core module name (as jco names it) → compiled module. */
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  /** Unversioned WIT interfaces the component imports, e.g. `wasi:cli/stdout`. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  /** Whether this load hit the on-disk transpile cache, the in-memory cache, or neither. */
  readonly cache: 'memory' | 'disk' | 'miss';
}

export interface CompileOptions {
  /** Directory for transpiled output; default {@link defaultCacheDir}. */
  readonly cacheDir?: string;
  /** Cap for every linear memory, in bytes. */
  readonly memoryBytes: number;
  /** Label used in error messages (file name). */
  readonly label: string;
}

/**
 * `$XDG_CACHE_HOME/codex/wasm-plugin` (default `~/.cache/codex/wasm-plugin`). Not a shared temp
 * directory: the cache holds JavaScript that the worker executes, so it must be private.
 */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'codex', 'wasm-plugin');
}

/**
 * Creates the cache directory (0700) and refuses one that another user owns or that others can
 * write to: anyone who can write there could plant JavaScript the worker would execute.
 */
export function ensurePrivateCacheDir(dir: string, label: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  const st = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new PluginHostError(
      label,
      `cache directory ${dir} is owned by uid ${st.uid}, not by this user; refusing to use it`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new PluginHostError(
      label,
      `cache directory ${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); refusing to use it`,
    );
  }
}

const memoryCache = new Map<string, CompiledPlugin>();
const MEMORY_CACHE_ENTRIES = 32;

/** Drops the in-process cache of compiled modules (the disk cache stays). */
export function clearCompiledCache(): void {
  memoryCache.clear();
}

let adapterBytes: Uint8Array | undefined;
function preview1Adapter(): Uint8Array {
  if (!adapterBytes) {
    const here = dirname(fileURLToPath(import.meta.url));
    // dist/ and src/ both sit next to vendor/.
    adapterBytes = readFileSync(join(here, '..', 'vendor', 'wasi_snapshot_preview1.command.wasm'));
  }
  return adapterBytes;
}

interface Transpiled {
  dir: string;
  jsFile: string;
  coreFiles: string[];
  imports: string[];
  exports: string[];
}

/**
 * Loads plugin bytes: core modules are wrapped into a component with jco's bundled
 * `wasi_snapshot_preview1` command adapter, components are used as they are; the component is
 * transpiled with jco (cached on disk by content hash), and every core module is instrumented
 * for fuel and memory and capped (cached by content hash + cap).
 */
export async function compilePlugin(bytes: Uint8Array, options: CompileOptions): Promise<CompiledPlugin> {
  const kind = wasmKind(bytes);
  if (!kind)
    throw new InvalidPluginError(options.label, 'not a WebAssembly module or component (bad magic/version)');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const pages = memoryPages(options.memoryBytes);
  const memKey = `${sha256}:${pages}`;
  const hit = memoryCache.get(memKey);
  if (hit) {
    memoryCache.delete(memKey);
    memoryCache.set(memKey, hit);
    return { ...hit, label: options.label, cache: 'memory' };
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  ensurePrivateCacheDir(cacheDir, options.label);
  const entryDir = join(cacheDir, `${PIPELINE_VERSION}-${sha256}`);
  let cache: CompiledPlugin['cache'] = 'disk';
  let t = readTranspiled(entryDir);
  if (!t) {
    cache = 'miss';
    t = await transpileToDisk(bytes, kind, entryDir, options.label);
  }
  const capDir = join(t.dir, `mem-${pages}-tables-${MAX_TABLE_ENTRIES}`);
  const modules = new Map<string, WebAssembly.Module>();
  for (const file of t.coreFiles) {
    const capped = join(capDir, file);
    let out: Uint8Array;
    if (existsSync(capped)) {
      out = readFileSync(capped);
    } else {
      const raw = readFileSync(join(t.dir, file));
      try {
        // binaryen is large (~10 MB of JS/wasm): load it only when something must be instrumented.
        const { instrumentCoreModule } = await import('./instrument.js');
        out = capTables(capMemories(instrumentCoreModule(raw), pages).bytes, MAX_TABLE_ENTRIES);
      } catch (error) {
        if (error instanceof MemoryCapError) {
          throw new MemoryLimitError(options.label, pages * 65_536, error.message);
        }
        throw new InvalidPluginError(options.label, `instrumentation failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      atomicWrite(capped, out);
    }
    try {
      modules.set(file, new WebAssembly.Module(out as BufferSource));
    } catch (error) {
      throw new InvalidPluginError(
        options.label,
        `core module ${file} does not compile: ${(error as Error).message}`,
      );
    }
  }
  const compiled: CompiledPlugin = {
    label: options.label,
    sha256,
    kind,
    jsPath: join(t.dir, t.jsFile),
    modules,
    imports: t.imports,
    exports: t.exports,
    cache,
  };
  memoryCache.set(memKey, compiled);
  if (memoryCache.size > MEMORY_CACHE_ENTRIES) memoryCache.delete(memoryCache.keys().next().value!);
  return compiled;
}

function readTranspiled(dir: string): Transpiled | undefined {
  const metaPath = join(dir, 'meta.json');
  if (!existsSync(metaPath)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<Transpiled, 'dir'>;
    if (!meta.coreFiles.every((f) => existsSync(join(dir, f))) || !existsSync(join(dir, meta.jsFile)))
      return undefined;
    return { ...meta, dir };
  } catch {
    return undefined;
  }
}

async function transpileToDisk(
  bytes: Uint8Array,
  kind: 'module' | 'component',
  dir: string,
  label: string,
): Promise<Transpiled> {
  // Loaded lazily: jco's transpiler is large and only needed on a cache miss.
  const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
  let component = bytes;
  if (kind === 'module') {
    component = await wrapCoreModule(bytes, label);
  }
  let result: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    result = await transpileBytes(component, {
      name: 'plugin',
      instantiation: 'async',
      emitTypescriptDeclarations: false,
      nodejsCompat: false,
      tlaCompat: false,
      base64Cutoff: 0,
    } as Parameters<typeof transpileBytes>[1]);
  } catch (error) {
    throw new InvalidPluginError(label, `jco transpile failed: ${errorText(error)}`, { cause: error });
  }
  const coreFiles = Object.keys(result.files)
    .filter((f) => f.endsWith('.wasm'))
    .sort();
  const jsFile = Object.keys(result.files).find((f) => f.endsWith('.js'));
  if (!jsFile) throw new InvalidPluginError(label, 'jco produced no JavaScript');
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  for (const [name, data] of Object.entries(result.files)) {
    if (name.endsWith('.js') || name.endsWith('.wasm'))
      writeFileSync(join(staging, name.replace(/\.js$/, '.mjs')), data);
  }
  const imports = [...new Set(result.imports.map(unversioned))].sort();
  const exports = result.exports.map(([name]) => unversioned(name));
  const meta = { jsFile: jsFile.replace(/\.js$/, '.mjs'), coreFiles, imports, exports };
  writeFileSync(join(staging, 'meta.json'), JSON.stringify(meta));
  mkdirSync(dirname(dir), { recursive: true });
  try {
    renameSync(staging, dir);
  } catch {
    // Another process won the race; use its entry.
    rmSync(staging, { recursive: true, force: true });
  }
  return { ...meta, dir };
}

async function wrapCoreModule(bytes: Uint8Array, label: string): Promise<Uint8Array> {
  let iface: ReturnType<typeof coreInterface>;
  try {
    iface = coreInterface(bytes);
  } catch (error) {
    throw new InvalidPluginError(label, `core module does not compile: ${(error as Error).message}`);
  }
  const foreign = iface.imports.filter((i) => i.module !== 'wasi_snapshot_preview1');
  if (foreign.length > 0) {
    const i = foreign[0]!;
    throw new InvalidPluginError(
      label,
      `core module imports ${i.module}.${i.name}; plugins may import only wasi_snapshot_preview1`,
    );
  }
  if (!iface.exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new InvalidPluginError(
      label,
      'core module does not export a _start function (build it as a WASI command)',
    );
  }
  let input = bytes;
  if (iface.imports.length === 0) {
    // A module with no WASI imports at all would not get the adapter and so no wasi:cli/run
    // export; give it one unused import so it is wrapped like every other command.
    input = await addUnusedPreview1Import(bytes);
  }
  const { componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  try {
    return await componentNew(input, [['wasi_snapshot_preview1', preview1Adapter()]]);
  } catch (error) {
    throw new InvalidPluginError(label, `wrapping the preview1 module failed: ${errorText(error)}`, {
      cause: error,
    });
  }
}

async function addUnusedPreview1Import(bytes: Uint8Array): Promise<Uint8Array> {
  const { default: binaryen } = await import('binaryen');
  const m = binaryen.readBinary(bytes);
  try {
    m.setFeatures(
      binaryen.Features.MVP |
        binaryen.Features.MutableGlobals |
        binaryen.Features.SignExt |
        binaryen.Features.BulkMemory |
        binaryen.Features.NontrappingFPToInt |
        binaryen.Features.SIMD128,
    );
    m.addFunctionImport(
      'codex$proc_exit',
      'wasi_snapshot_preview1',
      'proc_exit',
      binaryen.i32,
      binaryen.none,
    );
    // Keep it: referenced from an unexported, uncalled function is not enough for wasm-ld-style
    // GC in componentNew, but imports are never removed by emitBinary.
    return m.emitBinary();
  } finally {
    m.dispose();
  }
}

/** `wasi:cli/stdout@0.2.3` → `wasi:cli/stdout`. */
export function unversioned(name: string): string {
  return name.replace(/@[^/]*$/, '');
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!;
  if (error && typeof error === 'object' && 'payload' in error)
    return String((error as { payload: unknown }).payload);
  return String(error);
}

function atomicWrite(path: string, data: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Lists transpiled cache entries (for tests and `inspect`). */
export function cacheEntries(cacheDir = defaultCacheDir()): string[] {
  return existsSync(cacheDir)
    ? readdirSync(cacheDir).filter((d) => d.startsWith(`${PIPELINE_VERSION}-`))
    : [];
}
