/**
 * Running one job against a loaded plugin: fresh instances, a fresh capability host and fuel
 * global per run, and the guest's way out (exit, trap, violation) turned into an outcome. Used by
 * the worker thread, and for preview1 modules also on the calling thread (`inline` runs).
 */
import type { GrantSet } from './capabilities.js';
import { HOST_MODULE } from './constants.js';
import { createHost, type Host, HostSignalError } from './host.js';
import { createPreview1Host } from './preview1.js';

/** One run: input, grant and fuel. */
export interface WorkerJob {
  readonly stdin: Uint8Array;
  readonly grant: GrantSet;
  readonly env: Record<string, string>;
  readonly fuel: number;
  readonly maxOutputBytes: number;
}

export type Glue = {
  instantiate: (
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore: (m: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
  ) => Promise<Record<string, { run?: () => unknown }>>;
};

export type WorkerOutcome =
  | { kind: 'exit'; code: number }
  | { kind: 'fuel' }
  | { kind: 'memory'; site: number }
  | { kind: 'capability'; capability: string; detail: string }
  | { kind: 'output'; stream: 'stdout' | 'stderr' }
  | { kind: 'deadline' }
  | { kind: 'trap'; message: string }
  | { kind: 'host-error'; message: string };

export interface WorkerResult {
  readonly outcome: WorkerOutcome;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly fuelUsed: number;
  readonly denials: { capability: string; detail: string }[];
  readonly startedAt: number;
}

function findSignal(error: unknown): HostSignalError | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e; depth++) {
    if (e instanceof HostSignalError) return e;
    if (typeof e !== 'object') return undefined;
    e = (e as { cause?: unknown }).cause ?? (e as { payload?: unknown }).payload;
  }
  return undefined;
}

export function classify(error: unknown): WorkerOutcome {
  const signal = findSignal(error);
  if (signal) return signal.signal;
  if (error instanceof WebAssembly.RuntimeError) return { kind: 'trap', message: error.message };
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { kind: 'trap', message: 'call stack exhausted (deep recursion)' };
  }
  const message = error instanceof Error ? error.message : String(error);
  // jco wraps guest traps in its own errors; anything else is a host-side failure.
  if (/unreachable|out of bounds|RuntimeError|wasm/i.test(message)) return { kind: 'trap', message };
  return { kind: 'host-error', message };
}

/** A plugin loaded in this worker: a component (jco glue + core modules) or a preview1 module. */
export type Loaded =
  | { readonly kind: 'component'; readonly glue: Glue; readonly modules: Record<string, WebAssembly.Module> }
  | { readonly kind: 'module'; readonly module: WebAssembly.Module };

function hostModuleFor(fuel: WebAssembly.Global) {
  return {
    fuel,
    fuel_exhausted: () => {
      throw new HostSignalError({ kind: 'fuel' });
    },
    memory_limit: (site: number) => {
      throw new HostSignalError({ kind: 'memory', site });
    },
  };
}

function fuelUsed(fuel: WebAssembly.Global, limit: number): number {
  const left = fuel.value as bigint;
  return Number(BigInt(limit) - (left < 0n ? 0n : left));
}

/** What either host (component or preview1) collected, with the fuel the run used. */
function finish(
  outcome: WorkerOutcome,
  host: Pick<Host, 'stdout' | 'stderr' | 'denials'>,
  fuel: WebAssembly.Global,
  job: WorkerJob,
  startedAt: number,
): WorkerResult {
  return {
    outcome,
    stdout: host.stdout(),
    stderr: host.stderr(),
    fuelUsed: fuelUsed(fuel, job.fuel),
    denials: host.denials,
    startedAt,
  };
}

/**
 * Runs a preview1 command synchronously: a fresh instance (new linear memory, globals, tables)
 * and a fresh preview1 host. `sleepUntil` (a `nowMs()` time, see clock.ts) bounds any clock sleep.
 */
export function runModule(module: WebAssembly.Module, job: WorkerJob, sleepUntil?: number): WorkerResult {
  const startedAt = Date.now();
  const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, BigInt(job.fuel));
  const host = createPreview1Host({
    grant: job.grant,
    env: job.env,
    stdin: job.stdin,
    maxOutputBytes: job.maxOutputBytes,
    ...(sleepUntil !== undefined ? { sleepUntil } : {}),
  });
  let outcome: WorkerOutcome;
  try {
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: host.imports as WebAssembly.ModuleImports,
      [HOST_MODULE]: hostModuleFor(fuel),
    });
    host.bind(instance.exports.memory as WebAssembly.Memory);
    (instance.exports._start as () => void)();
    outcome = { kind: 'exit', code: 0 };
  } catch (error) {
    outcome = classify(error);
  }
  return finish(outcome, host, fuel, job, startedAt);
}

/** Runs one job on a loaded plugin (a component through jco's glue, or a preview1 module). */
export async function execute(plugin: Loaded, job: WorkerJob): Promise<WorkerResult> {
  if (plugin.kind === 'module') return runModule(plugin.module, job);
  const startedAt = Date.now();
  const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, BigInt(job.fuel));
  const hostModule = hostModuleFor(fuel);
  const host = createHost({
    grant: job.grant,
    env: job.env,
    stdin: job.stdin,
    maxOutputBytes: job.maxOutputBytes,
  });
  const { glue, modules } = plugin;
  let outcome: WorkerOutcome;
  try {
    const instance = await glue.instantiate(
      (name) => {
        const m = modules[name];
        if (!m) throw new Error(`missing core module ${name}`);
        return m;
      },
      host.imports,
      // Synchronous instantiation: the modules are compiled already, and jco's glue then runs
      // the whole instantiation without a promise tick per core module.
      (m, imports) => new WebAssembly.Instance(m, { ...imports, [HOST_MODULE]: hostModule }),
    );
    const run = instance.run?.run;
    if (typeof run !== 'function') throw new Error('plugin has no wasi:cli/run export');
    await run();
    outcome = { kind: 'exit', code: 0 };
  } catch (error) {
    outcome = classify(error);
  }
  return finish(outcome, host, fuel, job, startedAt);
}

export function hostError(error: unknown): WorkerResult {
  return {
    outcome: { kind: 'host-error', message: error instanceof Error ? error.message : String(error) },
    stdout: new Uint8Array(),
    stderr: new Uint8Array(),
    fuelUsed: 0,
    denials: [],
    startedAt: 0,
  };
}
