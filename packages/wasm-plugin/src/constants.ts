/** Import module name of everything the instrumentation adds (fuel global, violation hooks). */
export const HOST_MODULE = 'codex_host';
/** File name of the single core module of a preview1 plugin in a cache entry. */
export const CORE_MODULE_FILE = 'main.wasm';
