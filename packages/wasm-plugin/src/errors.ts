import { CodexError } from '@codex/security-profile';

/** Every `code` an error of this package carries (stable across releases). */
export type WasmPluginErrorCode =
  | 'CACHE_REFUSED'
  | 'CAPABILITY_DENIED'
  | 'FUEL_EXHAUSTED'
  | 'INVALID_MANIFEST'
  | 'MANIFEST_UNREADABLE'
  | 'INVALID_PLUGIN'
  | 'LIMIT_DENIED'
  | 'MEMORY_LIMIT'
  | 'OUTPUT_LIMIT'
  | 'PLUGIN_HOST_ERROR'
  | 'PLUGIN_RUNTIME_MISSING'
  | 'PLUGIN_TRAP'
  | 'PLUGIN_TIMEOUT';

/** Base class of every error raised by `@codex/wasm-plugin`; branch on `code`. */
export class WasmPluginError extends CodexError<WasmPluginErrorCode> {}

/** The plugin used up its fuel (loop iterations + function calls). */
export class FuelExhaustedError extends WasmPluginError {
  readonly fuel: number;
  constructor(plugin: string, fuel: number) {
    super('FUEL_EXHAUSTED', `plugin ${plugin} ran out of fuel (limit ${fuel}); raise it with --fuel`);
    this.fuel = fuel;
  }
}

/** The plugin ran past its deadline; its worker thread was terminated. */
export class TimeoutError extends WasmPluginError {
  readonly timeoutMs: number;
  /** Milliseconds from the deadline until the worker had actually stopped. */
  readonly stoppedAfterDeadlineMs: number;
  constructor(plugin: string, timeoutMs: number, stoppedAfterDeadlineMs: number) {
    super('PLUGIN_TIMEOUT', `plugin ${plugin} exceeded its time limit of ${timeoutMs} ms and was terminated`);
    this.timeoutMs = timeoutMs;
    this.stoppedAfterDeadlineMs = stoppedAfterDeadlineMs;
  }
}

/** The plugin's memory would exceed the cap (at load time, or a refused `memory.grow`). */
export class MemoryLimitError extends WasmPluginError {
  readonly limitBytes: number;
  constructor(plugin: string, limitBytes: number, detail: string) {
    super('MEMORY_LIMIT', `plugin ${plugin} exceeded its memory limit of ${formatMb(limitBytes)}: ${detail}`);
    this.limitBytes = limitBytes;
  }
}

/** The plugin needs a capability it was not granted (or one plugins never get). */
export class CapabilityDeniedError extends WasmPluginError {
  readonly capability: string;
  constructor(plugin: string, capability: string, why: string) {
    super('CAPABILITY_DENIED', `plugin ${plugin}: capability "${capability}" denied: ${why}`);
    this.capability = capability;
  }
}

/** A manifest asks for larger limits than the caller allows. */
export class LimitDeniedError extends WasmPluginError {
  constructor(plugin: string, message: string) {
    super('LIMIT_DENIED', `plugin ${plugin}: ${message}`);
  }
}

/** The bytes are not a WebAssembly module or component we can run. */
export class InvalidPluginError extends WasmPluginError {
  constructor(plugin: string, problem: string, options?: { cause?: unknown }) {
    super('INVALID_PLUGIN', `invalid plugin ${plugin}: ${problem}`, options);
  }
}

/** A plugin manifest failed validation. The message names the source, the key and the problem. */
export class InvalidManifestError extends WasmPluginError {
  readonly source: string;
  constructor(source: string, message: string) {
    super('INVALID_MANIFEST', `${source}: ${message}`);
    this.source = source;
  }
}

/** A manifest file that cannot be read (missing, permissions); `reason` is the system error code. */
export class ManifestUnreadableError extends WasmPluginError {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super('MANIFEST_UNREADABLE', `cannot read manifest ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** The guest trapped (unreachable, out-of-bounds access, stack overflow…). */
export class PluginTrapError extends WasmPluginError {
  constructor(plugin: string, message: string) {
    super('PLUGIN_TRAP', `plugin ${plugin} trapped: ${message}`);
  }
}

/** The plugin wrote more than the output cap to stdout or stderr. */
export class OutputLimitError extends WasmPluginError {
  constructor(plugin: string, limitBytes: number) {
    super('OUTPUT_LIMIT', `plugin ${plugin} wrote more than ${limitBytes} bytes of output`);
  }
}

/** The worker thread failed for a reason that is not the guest's (a host bug). */
export class PluginHostError extends WasmPluginError {
  constructor(plugin: string, message: string, options?: { cause?: unknown }) {
    super('PLUGIN_HOST_ERROR', `plugin ${plugin}: host error: ${message}`, options);
  }
}

/**
 * The compiled-module cache cannot be trusted (another owner, writable by group or others, a
 * symbolic link or a non-regular file inside it). Nothing from it is used.
 */
export class CacheRefusedError extends WasmPluginError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super('CACHE_REFUSED', `plugin cache ${path}: ${problem}; refusing to use it (fix or delete it)`);
    this.path = path;
  }
}

export function formatMb(bytes: number): string {
  return `${+(bytes / (1024 * 1024)).toFixed(2)} MB`;
}

/** An optional dependency of the plugin runtime (jco, for WASI components) is not installed. */
export class PluginRuntimeMissingError extends WasmPluginError {
  readonly packageName: string;
  constructor(packageName: string, options?: { cause?: unknown }) {
    super(
      'PLUGIN_RUNTIME_MISSING',
      `running plugins needs ${packageName}, which is not installed (it is optional, to keep the install small): npm install -g @bytecodealliance/jco-transpile (or add it next to @codex/wasm-plugin)`,
      options,
    );
    this.packageName = packageName;
  }
}
