import { join } from 'node:path';

/** Where compiled WASM plugins are cached: `$CODEX_HOME/cache/wasm-plugin` (agents and `codex plugin`). */
export function pluginCacheDir(codexHome: string): string {
  return join(codexHome, 'cache', 'wasm-plugin');
}
