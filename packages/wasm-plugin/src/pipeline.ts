/**
 * The build pipeline: everything that turns plugin bytes into what a worker runs. A preview1 core
 * module is wrapped into a component with jco's vendored `wasi_snapshot_preview1` adapter, the
 * component is transpiled with jco (JS glue + core modules), and every core module is instrumented
 * for fuel and memory.grow and capped (memories, tables).
 *
 * The cache key includes a hash of this module's code and of every local module it imports (see
 * `pipelineFingerprint` in cache.ts), so any change here — a different fuel charge, other
 * transpile options, a new cap — makes every old cache entry unreachable. Loaded lazily: it pulls
 * in binaryen and jco (large), which a cache hit never needs.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import binaryen from 'binaryen';
import { capMemories, capTables, coreInterface, MemoryCapError } from './binary.js';
import { InvalidPluginError, MemoryLimitError } from './errors.js';
import { instrumentCoreModule } from './instrument.js';

/** What the pipeline produces: the glue's source text and the final core modules by file name. */
export interface PipelineOutput {
  readonly glue: string;
  readonly core: readonly (readonly [name: string, bytes: Uint8Array])[];
  /** Unversioned WIT interfaces the component imports, e.g. `wasi:cli/stdout`. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
}

export interface PipelineOptions {
  readonly kind: 'module' | 'component';
  /** Cap for every linear memory, in 64 KiB pages. */
  readonly memoryPages: number;
  /** Cap for every table, in entries. */
  readonly tableEntries: number;
  readonly label: string;
}

/** jco options; part of this module's code, so part of the cache key. */
const TRANSPILE_OPTIONS = {
  name: 'plugin',
  instantiation: 'async',
  emitTypescriptDeclarations: false,
  nodejsCompat: false,
  tlaCompat: false,
  base64Cutoff: 0,
} as const;

export async function buildPlugin(bytes: Uint8Array, options: PipelineOptions): Promise<PipelineOutput> {
  const { label } = options;
  const component = options.kind === 'module' ? await wrapCoreModule(bytes, label) : bytes;
  let result: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    result = await transpileBytes(component, TRANSPILE_OPTIONS as Parameters<typeof transpileBytes>[1]);
  } catch (error) {
    throw new InvalidPluginError(label, `jco transpile failed: ${errorText(error)}`, { cause: error });
  }
  const jsFile = Object.keys(result.files).find((f) => f.endsWith('.js'));
  if (!jsFile) throw new InvalidPluginError(label, 'jco produced no JavaScript');
  const core: [string, Uint8Array][] = [];
  for (const name of Object.keys(result.files)
    .filter((f) => f.endsWith('.wasm'))
    .sort()) {
    core.push([name, instrumentAndCap(result.files[name]!, options)]);
  }
  return {
    glue: new TextDecoder().decode(result.files[jsFile]),
    core,
    imports: [...new Set(result.imports.map(unversioned))].sort(),
    exports: result.exports.map(([name]) => unversioned(name)),
  };
}

function instrumentAndCap(raw: Uint8Array, options: PipelineOptions): Uint8Array {
  try {
    const metered = instrumentCoreModule(raw);
    return capTables(capMemories(metered, options.memoryPages).bytes, options.tableEntries);
  } catch (error) {
    if (error instanceof MemoryCapError) {
      throw new MemoryLimitError(options.label, options.memoryPages * 65_536, error.message);
    }
    throw new InvalidPluginError(options.label, `instrumentation failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

let adapterBytes: Uint8Array | undefined;
/** jco's `wasi_snapshot_preview1` command adapter, vendored (its digest is part of the cache key). */
export function preview1Adapter(): Uint8Array {
  if (!adapterBytes) {
    const here = dirname(fileURLToPath(import.meta.url));
    // dist/ and src/ both sit next to vendor/.
    adapterBytes = readFileSync(join(here, '..', 'vendor', 'wasi_snapshot_preview1.command.wasm'));
  }
  return adapterBytes;
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
  // A module with no WASI imports at all would not get the adapter and so no wasi:cli/run
  // export; give it one unused import so it is wrapped like every other command.
  const input = iface.imports.length === 0 ? addUnusedPreview1Import(bytes) : bytes;
  const { componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  try {
    return await componentNew(input, [['wasi_snapshot_preview1', preview1Adapter()]]);
  } catch (error) {
    throw new InvalidPluginError(label, `wrapping the preview1 module failed: ${errorText(error)}`, {
      cause: error,
    });
  }
}

function addUnusedPreview1Import(bytes: Uint8Array): Uint8Array {
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
    // Imports are never removed by emitBinary, so this one survives into componentNew.
    m.addFunctionImport(
      'codex$proc_exit',
      'wasi_snapshot_preview1',
      'proc_exit',
      binaryen.i32,
      binaryen.none,
    );
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
