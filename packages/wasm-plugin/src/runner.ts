import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditEventInput, AuditSink, SecurityProfile } from '@codex/security-profile';
import {
  type Capability,
  formatCapability,
  type GrantSet,
  grantSetToStrings,
  parseCapability,
  toGrantSet,
} from './capabilities.js';
import { type CompiledPlugin, compilePlugin } from './compile.js';
import {
  CapabilityDeniedError,
  FuelExhaustedError,
  InvalidPluginError,
  MemoryLimitError,
  OutputLimitError,
  PluginHostError,
  PluginTrapError,
  TimeoutError,
  WasmPluginError,
} from './errors.js';
import { capabilityOfInterface, LINKABLE_INTERFACES } from './host.js';
import { type PluginLimits, resolveLimits } from './limits.js';
import { applyManifest, type PluginManifest } from './manifest.js';
import type { WorkerJob, WorkerMessage, WorkerResult, WorkerSetup } from './worker.js';

export interface LoadOptions {
  /** Capabilities granted by the user: `stdio` (always), `env:NAME`, `clock`, `random`. */
  readonly allow?: readonly (string | Capability)[];
  /** Limits the user allows; defaults: fuel 1,000,000, 5 s, 10 MB, 1 MiB output. */
  readonly limits?: Partial<PluginLimits>;
  /** The plugin's manifest. When given, it may only ask for what `allow`/`limits` permit. */
  readonly manifest?: PluginManifest;
  /** Where each run and every violation is recorded (`@codex/audit`'s AuditLogger fits). */
  readonly audit?: AuditSink;
  /** Profile recorded in audit entries (default `offline`). */
  readonly profile?: SecurityProfile;
  readonly sessionId?: string;
  readonly taskId?: string;
  /** Transpile cache directory (must be private to this user); default `~/.cache/codex/wasm-plugin`. */
  readonly cacheDir?: string;
  /** Name shown in messages and audit entries; default: the file name. */
  readonly label?: string;
  /**
   * Keep one worker thread ready (glue loaded, modules attached) so the next `run` skips thread
   * start-up. Each run still gets a fresh thread and fresh instances; the spare is unref'd and
   * released by `close()`. Default false (one-shot callers such as the CLI gain nothing).
   */
  readonly keepWarm?: boolean;
}

export interface RunOptions {
  /** Bytes (or UTF-8 text) handed to the plugin on stdin. */
  readonly input?: Uint8Array | string;
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

function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  // Running from src/ (tests): use the built worker.
  return new URL('../dist/worker.js', import.meta.url);
}

/** A plugin that has been validated, transpiled, instrumented and compiled; run it many times. */
export class LoadedPlugin {
  readonly label: string;
  readonly compiled: CompiledPlugin;
  readonly grant: GrantSet;
  readonly limits: PluginLimits;
  readonly #options: LoadOptions;

  #spare: SpawnedWorker | undefined;
  #closed = false;

  constructor(compiled: CompiledPlugin, grant: GrantSet, limits: PluginLimits, options: LoadOptions) {
    this.label = compiled.label;
    this.compiled = compiled;
    this.grant = grant;
    this.limits = limits;
    this.#options = options;
    if (options.keepWarm) this.#spare = spawnWorker(this.#setup());
  }

  #setup(): WorkerSetup {
    return { jsPath: this.compiled.jsPath, modules: Object.fromEntries(this.compiled.modules) };
  }

  /** Releases the warm spare worker (if `keepWarm`). Runs after `close()` start cold. */
  async close(): Promise<void> {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare) await spare.worker.terminate();
  }

  /** Runs the plugin once in a fresh worker thread. Violations throw typed errors (and are audited). */
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
    const started = performance.now();
    const spare = this.#spare;
    this.#spare = undefined;
    if (this.#options.keepWarm && !this.#closed) this.#spare = spawnWorker(this.#setup());
    const outcome = spare
      ? await runOnWorker(spare, job, this.limits.timeoutMs)
      : await runOnWorker(spawnWorker({ ...this.#setup(), job }), undefined, this.limits.timeoutMs);
    const durationMs = performance.now() - started;
    if (outcome.kind === 'timeout') {
      const error = new TimeoutError(this.label, this.limits.timeoutMs, outcome.stoppedAfterDeadlineMs);
      await this.#audit('denied', error.message, { code: error.code, duration_ms: Math.round(durationMs) });
      throw error;
    }
    if (outcome.kind === 'crash') {
      const error = new PluginHostError(this.label, outcome.message);
      await this.#audit('denied', error.message, { code: error.code });
      throw error;
    }
    const r = outcome.result;
    for (const d of r.denials.slice(0, 20)) {
      await this.#audit('denied', `plugin ${this.label} attempted ${d.detail}; refused inside the guest`, {
        code: 'CAPABILITY_DENIED',
        capability: d.capability,
      });
    }
    const o = r.outcome;
    let error: WasmPluginError | undefined;
    if (o.kind === 'fuel') error = new FuelExhaustedError(this.label, this.limits.fuel);
    else if (o.kind === 'memory') {
      error = new MemoryLimitError(
        this.label,
        this.limits.memoryBytes,
        'memory.grow beyond the cap was refused',
      );
    } else if (o.kind === 'capability') {
      error = new CapabilityDeniedError(this.label, o.capability, `not granted (called ${o.detail})`);
    } else if (o.kind === 'output') error = new OutputLimitError(this.label, this.limits.maxOutputBytes);
    else if (o.kind === 'trap') error = new PluginTrapError(this.label, o.message);
    else if (o.kind === 'host-error') error = new PluginHostError(this.label, o.message);
    if (error) {
      await this.#audit('denied', error.message, {
        code: error.code,
        fuel_used: r.fuelUsed,
        duration_ms: Math.round(durationMs),
      });
      throw error;
    }
    const exitCode = o.kind === 'exit' ? o.code : 1;
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
    await auditEvent(this.#options, this.label, decision, reason, {
      sha256: this.compiled.sha256,
      capabilities: grantSetToStrings(this.grant).join(','),
      ...details,
    });
  }
}

async function auditEvent(
  options: LoadOptions,
  target: string,
  decision: AuditEventInput['decision'],
  reason: string,
  details: Record<string, string | number | boolean | null>,
): Promise<void> {
  if (!options.audit) return;
  await options.audit.log({
    profile: options.profile ?? 'offline',
    operation: 'plugin_run',
    target,
    decision,
    reason,
    details,
    ...(options.sessionId !== undefined ? { session_id: options.sessionId } : {}),
    ...(options.taskId !== undefined ? { task_id: options.taskId } : {}),
    agent_type: 'wasm-plugin',
  });
}

type WorkerOutcome =
  | { kind: 'done'; result: WorkerResult }
  | { kind: 'timeout'; stoppedAfterDeadlineMs: number }
  | { kind: 'crash'; message: string };

interface SpawnedWorker {
  readonly worker: Worker;
  /** Resolves when a prepared worker is ready for its job (or has already failed). */
  readonly ready: Promise<void>;
  /** A result posted before any job (the glue failed to load), or a crash before the job. */
  early?: WorkerOutcome;
}

function spawnWorker(setup: WorkerSetup): SpawnedWorker {
  const worker = new Worker(workerUrl(), {
    workerData: setup,
    // The worker sees no host environment at all; granted values travel in the job.
    env: {},
    execArgv: [],
    stdout: true,
    stderr: true,
    // JS heap of the glue code; wasm linear memory is capped separately in the binary.
    resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
  });
  // jco's glue may print to console on errors; keep it off the host's stdout/stderr.
  worker.stdout.resume();
  worker.stderr.resume();
  if (setup.job) return { worker, ready: Promise.resolve() };
  // A warm spare must not keep the process alive while it waits.
  worker.unref();
  const spawned: SpawnedWorker = {
    worker,
    ready: new Promise<void>((resolve) => {
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'result') spawned.early = { kind: 'done', result: m.result };
        done();
      };
      const onError = (error: Error) => {
        spawned.early = { kind: 'crash', message: error.message };
        done();
      };
      const onExit = () => {
        spawned.early ??= { kind: 'crash', message: 'worker exited before it was ready' };
        done();
      };
      const done = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve();
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    }),
  };
  return spawned;
}

/**
 * Runs one job: on a prepared worker (`job` given: it is posted now) or on a worker that got its
 * job in `workerData`. The deadline starts now; at the deadline the thread is terminated.
 */
async function runOnWorker(
  spawned: SpawnedWorker,
  job: WorkerJob | undefined,
  timeoutMs: number,
): Promise<WorkerOutcome> {
  const { worker } = spawned;
  if (job) {
    const deadline = performance.now() + timeoutMs;
    worker.ref(); // from here on the run keeps the process alive
    await spawned.ready;
    if (spawned.early) {
      await worker.terminate();
      return spawned.early;
    }
    worker.postMessage(job);
    return watch(worker, Math.max(0, deadline - performance.now()), deadline);
  }
  return watch(worker, timeoutMs, performance.now() + timeoutMs);
}

function watch(worker: Worker, timeoutMs: number, deadlineAt: number): Promise<WorkerOutcome> {
  return new Promise((resolve) => {
    let settled: WorkerOutcome | undefined;
    // stoppedAfterDeadlineMs is measured from the intended deadline, not from when the timer
    // callback ran, so event-loop lag on the host counts against the latency figure.
    const timer = setTimeout(() => {
      settled ??= { kind: 'timeout', stoppedAfterDeadlineMs: 0 };
      void worker.terminate();
    }, timeoutMs);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type !== 'result') return;
      settled ??= { kind: 'done', result: m.result };
      void worker.terminate();
    });
    worker.once('error', (error: Error) => {
      settled ??= { kind: 'crash', message: error.message };
    });
    worker.once('exit', () => {
      clearTimeout(timer);
      if (settled?.kind === 'timeout') {
        settled = { kind: 'timeout', stoppedAfterDeadlineMs: performance.now() - deadlineAt };
      }
      resolve(settled ?? { kind: 'crash', message: 'worker exited without a result' });
    });
  });
}

/**
 * Validates and prepares a plugin: checks the manifest against the grant, transpiles (cached by
 * content hash), instruments and caps memory, and refuses interfaces that can never be linked.
 */
export async function loadPlugin(
  source: string | Uint8Array,
  options: LoadOptions = {},
): Promise<LoadedPlugin> {
  const label = options.label ?? (typeof source === 'string' ? basename(source) : 'plugin.wasm');
  const bytes = typeof source === 'string' ? readPluginFile(source, label) : source;
  const allowed = resolveLimits(options.limits);
  const requested = (options.allow ?? ['stdio']).map((c) => (typeof c === 'string' ? parseCapability(c) : c));
  let grant = toGrantSet(requested);
  let limits = allowed;
  try {
    if (options.manifest) ({ grant, limits } = applyManifest(options.manifest, grant, allowed));
  } catch (error) {
    if (error instanceof WasmPluginError) {
      await auditEvent(options, label, 'denied', error.message, { code: error.code });
    }
    throw error;
  }
  let compiled: CompiledPlugin;
  try {
    compiled = await compilePlugin(bytes, {
      memoryBytes: limits.memoryBytes,
      label,
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    });
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
    if (error instanceof WasmPluginError) {
      await auditEvent(options, label, 'denied', error.message, { code: error.code });
    }
    throw error;
  }
  return new LoadedPlugin(compiled, grant, limits, options);
}

/** Loads and runs a plugin once. */
export async function runPlugin(
  source: string | Uint8Array,
  options: LoadOptions & RunOptions = {},
): Promise<PluginRunResult> {
  const plugin = await loadPlugin(source, options);
  return plugin.run(options);
}

function readPluginFile(path: string, label: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InvalidPluginError(
      label,
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}

export interface PluginInspection {
  readonly kind: 'module' | 'component';
  readonly sha256: string;
  /** Unversioned WIT interfaces the (wrapped) component imports. */
  readonly imports: readonly string[];
  readonly exports: readonly string[];
  /** For core modules: the raw `wasi_snapshot_preview1` functions it imports. */
  readonly coreImports: readonly string[];
  /** Capabilities the imports can use, and which of them are never linked for real. */
  readonly capabilities: {
    readonly requested: readonly string[];
    readonly stubbed: readonly string[];
    readonly refused: readonly string[];
  };
  readonly manifest?: PluginManifest;
}

/** What a plugin imports and exports and which capabilities that implies. */
export async function inspectPlugin(
  source: string | Uint8Array,
  options: { cacheDir?: string; manifest?: PluginManifest; label?: string } = {},
): Promise<PluginInspection> {
  const label = options.label ?? (typeof source === 'string' ? basename(source) : 'plugin.wasm');
  const bytes = typeof source === 'string' ? readPluginFile(source, label) : source;
  const compiled = await compilePlugin(bytes, {
    memoryBytes: resolveLimits(undefined).memoryBytes,
    label,
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
  });
  let coreImports: string[] = [];
  if (compiled.kind === 'module') {
    coreImports = WebAssembly.Module.imports(new WebAssembly.Module(bytes as BufferSource)).map(
      (i) => `${i.module}.${i.name}`,
    );
  }
  const requested = new Set<string>(['stdio']);
  const stubbed = new Set<string>();
  const refused: string[] = [];
  for (const i of compiled.imports) {
    const cap = capabilityOfInterface(i);
    if (cap === 'clock' || cap === 'random') requested.add(cap);
    else if (cap === 'fs' || cap === 'sockets') stubbed.add(cap);
    else if (!(LINKABLE_INTERFACES as readonly string[]).includes(i)) refused.push(i);
  }
  if (compiled.imports.includes('wasi:cli/environment')) requested.add('env');
  return {
    kind: compiled.kind,
    sha256: compiled.sha256,
    imports: compiled.imports,
    exports: compiled.exports,
    coreImports,
    capabilities: { requested: [...requested], stubbed: [...stubbed], refused },
    ...(options.manifest ? { manifest: options.manifest } : {}),
  };
}

/** Path of a sidecar manifest for a plugin file: `x.wasm` → `x.plugin.json`. */
export function sidecarManifestPath(pluginPath: string): string {
  return join(dirname(pluginPath), `${basename(pluginPath).replace(/\.wasm$/, '')}.plugin.json`);
}

export { formatCapability };
