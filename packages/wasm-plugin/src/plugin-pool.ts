import { availableParallelism } from 'node:os';
import {
  type LoadedPlugin,
  type LoadOptions,
  loadOnPool,
  type PluginRunResult,
  type RunOptions,
} from './plugin.js';
import { type PoolStats, WorkerPool } from './workers.js';

export interface PluginPoolOptions {
  /** Worker threads kept warm; default min(4, available parallelism). */
  readonly size?: number;
  /** Applied to every load and run (e.g. `cacheDir`, `audit`, `profile`, `sessionId`). */
  readonly defaults?: LoadOptions;
}

/**
 * A shared plugin host: warm worker threads that any number of plugins and runs share. The first
 * run of a plugin builds it (or reads the verified cache) and loads it into a worker; later runs
 * only instantiate fresh instances on a warm worker. `close()` stops every worker.
 *
 * ```ts
 * const plugins = new PluginPool({ defaults: { audit, cacheDir } });
 * const r = await plugins.run('fmt.wasm', { input: '{"a":1}' });
 * await plugins.close();
 * ```
 */
export class PluginPool {
  readonly #workers: WorkerPool;
  readonly #defaults: LoadOptions;

  constructor(options: PluginPoolOptions = {}) {
    this.#workers = new WorkerPool(options.size ?? Math.max(1, Math.min(4, availableParallelism())));
    this.#defaults = options.defaults ?? {};
  }

  /** Loads a plugin whose runs go to this pool's workers (compiled once, cached in memory). */
  load(source: string | Uint8Array, options: LoadOptions = {}): Promise<LoadedPlugin> {
    if (this.#workers.closed) return Promise.reject(new Error('the plugin pool is closed'));
    return loadOnPool(source, { ...this.#defaults, ...options }, this.#workers);
  }

  /** Loads (from the in-memory or disk cache after the first time) and runs a plugin once. */
  async run(source: string | Uint8Array, options: LoadOptions & RunOptions = {}): Promise<PluginRunResult> {
    const plugin = await this.load(source, options);
    return plugin.run(options);
  }

  stats(): PoolStats {
    return this.#workers.stats();
  }

  /** Stops every worker; runs still in progress fail with PLUGIN_HOST_ERROR. */
  close(): Promise<void> {
    return this.#workers.close();
  }
}
