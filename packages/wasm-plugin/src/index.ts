export {
  type Capability,
  formatCapability,
  type GrantSet,
  NEVER_GRANTED,
  parseCapability,
} from './capabilities.js';
export {
  cacheEntries,
  clearCompiledCache,
  defaultCacheDir,
  MAX_PLUGIN_BYTES,
  MAX_TABLE_ENTRIES,
} from './compile.js';
export {
  CapabilityDeniedError,
  FuelExhaustedError,
  InvalidManifestError,
  InvalidPluginError,
  LimitDeniedError,
  MemoryLimitError,
  OutputLimitError,
  PluginHostError,
  PluginTrapError,
  TimeoutError,
  WasmPluginError,
} from './errors.js';
export { LINKABLE_INTERFACES } from './host.js';
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
  inspectPlugin,
  LoadedPlugin,
  type LoadOptions,
  loadPlugin,
  type PluginInspection,
  type PluginRunResult,
  type RunOptions,
  runPlugin,
  sidecarManifestPath,
} from './runner.js';
