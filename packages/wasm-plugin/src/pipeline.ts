/**
 * The build pipeline: everything that turns plugin bytes into what a worker runs. A preview1 core
 * module is checked (only known preview1 imports, a `_start`, an exported memory) and runs
 * directly against the preview1 host; a WASI 0.2 component is transpiled with jco (JS glue +
 * core modules). Every core module is instrumented for fuel and memory.grow and capped
 * (memories, tables).
 *
 * The cache key includes a hash of this module's code and of every local module it imports (see
 * `pipelineFingerprint` in cache.ts), so any change here — a different fuel charge, other
 * transpile options, a new cap — makes every old cache entry unreachable. Loaded lazily: a cache
 * hit never needs it, and components pull in jco (large), which preview1 modules never load.
 */
import { Script } from 'node:vm';
import { capMemories, capTables, coreInterface, MemoryCapError } from './binary.js';
import { CORE_MODULE_FILE } from './constants.js';
import { CapabilityDeniedError, InvalidPluginError, MemoryLimitError } from './errors.js';
import { instrumentCoreModule } from './instrument.js';
import { loadOptional } from './optional-deps.js';
import { interfacesOfPreview1, PREVIEW1_FUNCTIONS } from './preview1.js';

/** What the pipeline produces: the glue's source text and the final core modules by file name. */
export interface PipelineOutput {
  /** jco glue as a script (components), or undefined for a preview1 core module run directly. */
  readonly glue: string | undefined;
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
  if (options.kind === 'module') {
    // A preview1 command runs directly against the preview1 host: no adapter, no glue.
    const iface = checkCoreModule(bytes, label);
    return {
      glue: undefined,
      core: [[CORE_MODULE_FILE, instrumentAndCap(bytes, options)]],
      imports: [...new Set(iface.imports.flatMap((i) => interfacesOfPreview1(i.name)))].sort(),
      exports: ['wasi:cli/run'],
    };
  }
  const component = bytes;
  // jco is needed for components only; preview1 modules never load it.
  const { transpileBytes } = (await loadOptional(
    '@bytecodealliance/jco-transpile',
  )) as typeof import('@bytecodealliance/jco-transpile');
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
    glue: glueAsScript(new TextDecoder().decode(result.files[jsFile]), label),
    core,
    imports: [...new Set(result.imports.map(unversioned))].sort(),
    exports: result.exports.map(([name]) => unversioned(name)),
  };
}

/**
 * jco emits the glue as an ES module with two exports and no imports. It is turned into a
 * classic script that evaluates to `{ instantiate }`, so a worker can compile it with `vm.Script`
 * under a short file name (stack traces stay readable) and with a V8 code cache. The only
 * `import.meta.url` sits in jco's fallback for a missing `getCoreModule`, which the worker always
 * passes. Anything else module-only in the glue is refused rather than guessed at.
 */
export function glueAsScript(source: string, label: string): string {
  let out = source;
  for (const [from, to] of [
    ['\nexport function instantiate(', '\nfunction instantiate('],
    ['\nexport const _util = ', '\nconst _util = '],
  ] as const) {
    if (out.split(from).length !== 2) {
      throw new InvalidPluginError(label, `unexpected jco output: expected exactly one "${from.trim()}"`);
    }
    out = out.replace(from, to);
  }
  out = out.replaceAll('import.meta.url', '"about:blank"');
  if (/^\s*(import|export)\b/m.test(out) || out.includes('import.meta')) {
    throw new InvalidPluginError(label, 'unexpected jco output: module syntax left in the glue');
  }
  const script = `(function () {\n"use strict";\n${out}\nreturn { instantiate };\n})()\n`;
  try {
    new Script(script, { filename: 'codex-plugin-glue.js' });
  } catch (error) {
    throw new InvalidPluginError(label, `unexpected jco output: ${(error as Error).message}`);
  }
  return script;
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

function checkCoreModule(bytes: Uint8Array, label: string): ReturnType<typeof coreInterface> {
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
  const unknown = iface.imports.find(
    (i) => i.kind !== 'function' || !(PREVIEW1_FUNCTIONS as readonly string[]).includes(i.name),
  );
  if (unknown) {
    throw new CapabilityDeniedError(
      label,
      `wasi_snapshot_preview1.${unknown.name}`,
      `it is not a preview1 function this host links (imported as a ${unknown.kind})`,
    );
  }
  if (!iface.exports.some((e) => e.name === '_start' && e.kind === 'function')) {
    throw new InvalidPluginError(
      label,
      'core module does not export a _start function (build it as a WASI command)',
    );
  }
  if (!iface.exports.some((e) => e.name === 'memory' && e.kind === 'memory')) {
    throw new InvalidPluginError(label, 'core module does not export its memory as "memory"');
  }
  return iface;
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
