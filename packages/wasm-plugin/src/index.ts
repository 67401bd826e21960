export {
  type CacheKeyInputs,
  cacheEntries,
  defaultCacheDir,
  type PipelineFingerprint,
  pipelineFingerprint,
} from './cache.js';
export {
  type Capability,
  formatCapability,
  type GrantSet,
  NEVER_GRANTED,
  parseCapability,
} from './capabilities.js';
export { clearCompiledCache, MAX_PLUGIN_BYTES, MAX_TABLE_ENTRIES } from './compile.js';
export type { WasmPluginErrorCode } from './errors.js';
export {
  CacheRefusedError,
  CapabilityDeniedError,
  FuelExhaustedError,
  InvalidManifestError,
  InvalidPluginError,
  LimitDeniedError,
  ManifestUnreadableError,
  MemoryLimitError,
  OutputLimitError,
  PluginHostError,
  PluginRuntimeMissingError,
  PluginTrapError,
  TimeoutError,
  WasmPluginError,
} from './errors.js';
export { LINKABLE_INTERFACES } from './host.js';
export { inspectPlugin, type PluginInspection } from './inspect.js';
export { DEFAULT_LIMITS, type PluginLimits, resolveLimits } from './limits.js';
export {
  applyManifest,
  type PluginManifest,
  type PluginManifestInput,
  parseManifest,
  parseManifestJson,
  pluginManifestSchema,
} from './manifest.js';
export {
  LoadedPlugin,
  type LoadOptions,
  loadPlugin,
  type PluginRunResult,
  type RunOptions,
  runPlugin,
  sidecarManifestPath,
} from './plugin.js';
export { PluginPool, type PluginPoolOptions } from './plugin-pool.js';
export {
  describePluginInspection,
  memoryLimitBytes,
  parseAllowList,
  pluginRunJson,
  readPluginManifest,
  readStdinInput,
} from './run-inputs.js';
export type { PoolStats } from './workers.js';
