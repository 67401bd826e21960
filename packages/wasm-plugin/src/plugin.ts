import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AuditEventInput } from '@codex/security-profile';
import { type AuditContext, auditPluginEvent } from './audit.js';
import {
  type Capability,
  type GrantSet,
  grantSetToStrings,
  parseCapability,
  toGrantSet,
} from './capabilities.js';
import { nowMs } from './clock.js';
import { type CompiledPlugin, compilePlugin } from './compile.js';
import { CapabilityDeniedError, InvalidPluginError, WasmPluginError } from './errors.js';
import type { WorkerJob } from './execute.js';
import { LINKABLE_INTERFACES } from './host.js';
import { runInline } from './inline.js';
import { type PluginLimits, resolveLimits } from './limits.js';
import { applyManifest, type PluginManifest } from './manifest.js';
import { outcomeError } from './outcome.js';
import { WorkerPool } from './workers.js';

export interface LoadOptions extends AuditContext {
  /** Capabilities granted by the user: `stdio` (always), `env:NAME`, `clock`, `random`. */
  readonly allow?: readonly (string | Capability)[];
  /** Limits the user allows; defaults: fuel 1,000,000, 5 s, 10 MB, 1 MiB output. */
  readonly limits?: Partial<PluginLimits>;
  /** The plugin's manifest. When given, it may only ask for what `allow`/`limits` permit. */
  readonly manifest?: PluginManifest;
  /** Build cache directory (must be private to this user); default `~/.cache/codex/wasm-plugin`. */
  readonly cacheDir?: string;
  /** Name shown in messages and audit entries; default: the file name. */
  readonly label?: string;
  /**
   * Keep one worker warm for this plugin (its own pool of one, released by `close()`). For many
   * plugins or many runs, share a `PluginPool` instead. Default false.
   */
  readonly keepWarm?: boolean;
}

export interface RunOptions {
  /** Bytes (or UTF-8 text) handed to the plugin on stdin. */
  readonly input?: Uint8Array | string;
  /**
   * Run a preview1 module on the calling thread instead of a worker (components always use a
   * worker). Saves a thread start for one-shot processes such as the CLI, but blocks the event
   * loop for the run (at most its time limit); the deadline is still enforced. Default false.
   */
  readonly inline?: boolean;
  /**
   * Where granted `env:NAME` values come from (default `process.env`). Only granted names are
   * read, and only their values cross into the worker.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface PluginRunResult {
  readonly exitCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** Fuel consumed (function entries + loop iterations). */
  readonly fuelUsed: number;
  readonly durationMs: number;
  /** Capabilities that were linked for this run. */
  readonly capabilities: readonly string[];
  /** fs/socket calls the guest made that were refused inside the guest. */
  readonly denials: readonly { capability: string; detail: string }[];
  readonly limits: PluginLimits;
  readonly sha256: string;
  readonly cache: CompiledPlugin['cache'];
}

/** A plugin that has been validated, built (or found in the cache) and compiled; run it many times. */
export class LoadedPlugin {
  readonly label: string;
  readonly compiled: CompiledPlugin;
  readonly grant: GrantSet;
  readonly limits: PluginLimits;
  readonly #options: LoadOptions;
  /** A shared pool (not ours to close), our own warm pool (keepWarm), or none (one-shot runs). */
  readonly #shared: WorkerPool | undefined;
  #own: WorkerPool | undefined;

  constructor(
    compiled: CompiledPlugin,
    grant: GrantSet,
    limits: PluginLimits,
    options: LoadOptions,
    pool?: WorkerPool,
  ) {
    this.label = compiled.label;
    this.compiled = compiled;
    this.grant = grant;
    this.limits = limits;
    this.#options = options;
    this.#shared = pool;
    if (!pool && options.keepWarm) this.#own = new WorkerPool(1);
  }

  /** Releases this plugin's own warm worker (if `keepWarm`). Runs after `close()` start cold. */
  async close(): Promise<void> {
    const own = this.#own;
    this.#own = undefined;
    await own?.close();
  }

  /** Runs the plugin once on a warm worker. Violations throw typed errors (and are audited). */
  async run(options: RunOptions = {}): Promise<PluginRunResult> {
    const env: Record<string, string> = {};
    const source = options.env ?? process.env;
    for (const name of this.grant.env) {
      const v = source[name];
      if (v !== undefined) env[name] = v;
    }
    const stdin =
      typeof options.input === 'string'
        ? new TextEncoder().encode(options.input)
        : (options.input ?? new Uint8Array());
    const job: WorkerJob = {
      stdin,
      grant: this.grant,
      env,
      fuel: this.limits.fuel,
      maxOutputBytes: this.limits.maxOutputBytes,
    };
    const started = nowMs();
    const pool = this.#shared && !this.#shared.closed ? this.#shared : this.#own;
    let outcome: Awaited<ReturnType<WorkerPool['run']>>;
    if (options.inline && this.compiled.glue === undefined) {
      outcome = runInline(this.compiled, job, this.limits.timeoutMs);
    } else if (pool) {
      outcome = await pool.run(this.compiled, job, this.limits.timeoutMs);
    } else {
      const once = new WorkerPool(1);
      try {
        outcome = await once.run(this.compiled, job, this.limits.timeoutMs);
      } finally {
        await once.close();
      }
    }
    const durationMs = nowMs() - started;
    const result = outcome.kind === 'done' ? outcome.result : undefined;
    for (const d of result?.denials.slice(0, 20) ?? []) {
      await this.#audit('denied', `plugin ${this.label} attempted ${d.detail}; refused inside the guest`, {
        code: 'CAPABILITY_DENIED',
        capability: d.capability,
      });
    }
    const error = outcomeError(this.label, this.limits, outcome);
    if (error) {
      await this.#audit('denied', error.message, {
        code: error.code,
        ...(result ? { fuel_used: result.fuelUsed } : {}),
        duration_ms: Math.round(durationMs),
      });
      throw error;
    }
    const r = result!;
    const exitCode = r.outcome.kind === 'exit' ? r.outcome.code : 1;
    await this.#audit('allowed', `plugin ${this.label} exited with code ${exitCode}`, {
      exit_code: exitCode,
      fuel_used: r.fuelUsed,
      duration_ms: Math.round(durationMs),
    });
    return {
      exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      fuelUsed: r.fuelUsed,
      durationMs,
      capabilities: grantSetToStrings(this.grant),
      denials: r.denials,
      limits: this.limits,
      sha256: this.compiled.sha256,
      cache: this.compiled.cache,
    };
  }

  async #audit(
    decision: AuditEventInput['decision'],
    reason: string,
    details: Record<string, string | number | boolean | null>,
  ): Promise<void> {
    await auditPluginEvent(this.#options, this.label, decision, reason, {
      sha256: this.compiled.sha256,
      capabilities: grantSetToStrings(this.grant).join(','),
      ...details,
    });
  }
}

/**
 * Validates and prepares a plugin: checks the manifest against the grant, builds it (or takes it
 * from the verified cache), and refuses interfaces that can never be linked.
 */
export function loadPlugin(source: string | Uint8Array, options: LoadOptions = {}): Promise<LoadedPlugin> {
  return loadOnPool(source, options, undefined);
}

/** `loadPlugin` bound to a shared worker pool (used by `PluginPool`). */
export async function loadOnPool(
  source: string | Uint8Array,
  options: LoadOptions,
  pool: WorkerPool | undefined,
): Promise<LoadedPlugin> {
  const label = options.label ?? (typeof source === 'string' ? basename(source) : 'plugin.wasm');
  const denied = async (error: unknown) => {
    if (error instanceof WasmPluginError) {
      await auditPluginEvent(options, label, 'denied', error.message, { code: error.code });
    }
    return error;
  };
  const bytes = typeof source === 'string' ? readPluginFile(source, label) : source;
  const allowed = resolveLimits(options.limits);
  const requested = (options.allow ?? ['stdio']).map((c) => (typeof c === 'string' ? parseCapability(c) : c));
  let grant = toGrantSet(requested);
  let limits = allowed;
  try {
    if (options.manifest) ({ grant, limits } = applyManifest(options.manifest, grant, allowed));
  } catch (error) {
    throw await denied(error);
  }
  let compiled: CompiledPlugin;
  try {
    compiled = await compilePlugin(bytes, {
      memoryBytes: limits.memoryBytes,
      label,
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    });
    if (compiled.rejectedEntry !== undefined) {
      await auditPluginEvent(
        options,
        label,
        'denied',
        `cache entry ${compiled.key} for ${label} failed verification (${compiled.rejectedEntry}); it was deleted and rebuilt`,
        { code: 'CACHE_ENTRY_REJECTED', sha256: compiled.sha256, key: compiled.key },
      );
    }
    if (!compiled.exports.includes('wasi:cli/run')) {
      throw new InvalidPluginError(
        label,
        `it exports ${compiled.exports.join(', ') || 'nothing'}; a plugin must export wasi:cli/run (a WASI command)`,
      );
    }
    const unlinkable = compiled.imports.filter(
      (i) => !(LINKABLE_INTERFACES as readonly string[]).includes(i),
    );
    if (unlinkable.length > 0) {
      throw new CapabilityDeniedError(
        label,
        unlinkable[0]!,
        `plugins can only import WASI cli/io/clocks/random (filesystem and sockets are stubbed to fail); it imports ${unlinkable.join(', ')}`,
      );
    }
  } catch (error) {
    throw await denied(error);
  }
  return new LoadedPlugin(compiled, grant, limits, options, pool);
}

/**
 * Loads and runs a plugin once. A worker is started while the plugin is loaded, so the thread's
 * start-up overlaps reading the cache; it is stopped afterwards.
 */
export async function runPlugin(
  source: string | Uint8Array,
  options: LoadOptions & RunOptions = {},
): Promise<PluginRunResult> {
  if (options.inline) {
    // No thread unless the plugin turns out to be a component.
    const plugin = await loadPlugin(source, options);
    return plugin.run(options);
  }
  const pool = new WorkerPool(1);
  try {
    const plugin = await loadOnPool(source, options, pool);
    return await plugin.run(options);
  } finally {
    await pool.close();
  }
}

export function readPluginFile(path: string, label: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InvalidPluginError(
      label,
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}

/** Path of a sidecar manifest for a plugin file: `x.wasm` → `x.plugin.json`. */
export function sidecarManifestPath(pluginPath: string): string {
  return join(dirname(pluginPath), `${basename(pluginPath).replace(/\.wasm$/, '')}.plugin.json`);
}
