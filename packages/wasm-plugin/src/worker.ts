/**
 * Worker-thread entry of the warm pool. A worker loads plugins (jco glue source + compiled core
 * modules) on request and then runs jobs: each run instantiates every core module afresh with a
 * fresh capability host and fuel global, so nothing a guest writes (globals, linear memory,
 * tables, glue resource tables, host buffers) survives into the next run. The glue keeps no state
 * outside `instantiate()` (jco's `instantiation` mode). The parent terminates the thread at a
 * run's deadline and retires it after any run that did not end in a normal exit.
 */
import { Script } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { GrantSet } from './capabilities.js';
import { HOST_MODULE } from './constants.js';
import { createHost, HostSignalError } from './host.js';
import { createPreview1Host } from './preview1.js';

/** Parent → worker. `load` once per plugin per worker, then any number of `run`s. */
export type WorkerRequest =
  | {
      readonly type: 'load';
      readonly key: string;
      /** Verified jco glue as a script (components); absent for a preview1 module. */
      readonly glue?: string;
      readonly modules: Record<string, WebAssembly.Module>;
    }
  | { readonly type: 'run'; readonly key: string; readonly job: WorkerJob };

/** One run: input, grant and fuel. */
export interface WorkerJob {
  readonly stdin: Uint8Array;
  readonly grant: GrantSet;
  readonly env: Record<string, string>;
  readonly fuel: number;
  readonly maxOutputBytes: number;
}

/** Worker → parent. */
export type WorkerMessage =
  | { type: 'loaded'; key: string }
  | { type: 'load-failed'; key: string; message: string }
  | { type: 'result'; result: WorkerResult };

type Glue = {
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

function classify(error: unknown): WorkerOutcome {
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
type Loaded =
  | { readonly kind: 'component'; readonly glue: Glue; readonly modules: Record<string, WebAssembly.Module> }
  | { readonly kind: 'module'; readonly module: WebAssembly.Module };

async function execute(plugin: Loaded, job: WorkerJob): Promise<WorkerResult> {
  const startedAt = performance.timeOrigin + performance.now();
  const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, BigInt(job.fuel));
  const hostOptions = {
    grant: job.grant,
    env: job.env,
    stdin: job.stdin,
    maxOutputBytes: job.maxOutputBytes,
  };
  const hostModule = {
    fuel,
    fuel_exhausted: () => {
      throw new HostSignalError({ kind: 'fuel' });
    },
    memory_limit: (site: number) => {
      throw new HostSignalError({ kind: 'memory', site });
    },
  };
  let outcome: WorkerOutcome;
  let host: { stdout(): Uint8Array; stderr(): Uint8Array; denials: WorkerResult['denials'] };
  if (plugin.kind === 'module') {
    const p1 = createPreview1Host(hostOptions);
    host = p1;
    try {
      // A fresh instance per run: new linear memory, globals and tables.
      const instance = new WebAssembly.Instance(plugin.module, {
        wasi_snapshot_preview1: p1.imports as WebAssembly.ModuleImports,
        [HOST_MODULE]: hostModule,
      });
      p1.bind(instance.exports.memory as WebAssembly.Memory);
      (instance.exports._start as () => void)();
      outcome = { kind: 'exit', code: 0 };
    } catch (error) {
      outcome = classify(error);
    }
  } else {
    const p2 = createHost(hostOptions);
    host = p2;
    const { glue, modules } = plugin;
    try {
      const instance = await glue.instantiate(
        (name) => {
          const m = modules[name];
          if (!m) throw new Error(`missing core module ${name}`);
          return m;
        },
        p2.imports,
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
  }
  const left = fuel.value as bigint;
  const used = BigInt(job.fuel) - (left < 0n ? 0n : left);
  return {
    outcome,
    stdout: host.stdout(),
    stderr: host.stderr(),
    fuelUsed: Number(used),
    denials: host.denials,
    startedAt,
  };
}

function hostError(error: unknown): WorkerResult {
  return {
    outcome: { kind: 'host-error', message: error instanceof Error ? error.message : String(error) },
    stdout: new Uint8Array(),
    stderr: new Uint8Array(),
    fuelUsed: 0,
    denials: [],
    startedAt: 0,
  };
}

const post = (message: WorkerMessage) => parentPort!.postMessage(message);

const plugins = new Map<string, Loaded>();

async function load(request: Extract<WorkerRequest, { type: 'load' }>): Promise<void> {
  try {
    // The verified text, never a path: the file on disk could change after it was checked.
    if (request.glue === undefined) {
      const module = Object.values(request.modules)[0];
      if (!module || Object.keys(request.modules).length !== 1)
        throw new Error('expected exactly one core module');
      plugins.set(request.key, { kind: 'module', module });
    } else {
      const glue = new Script(request.glue, { filename: 'codex-plugin-glue.js' }).runInThisContext() as Glue;
      if (typeof glue.instantiate !== 'function') throw new Error('the glue exports no instantiate()');
      plugins.set(request.key, { kind: 'component', glue, modules: request.modules });
    }
    post({ type: 'loaded', key: request.key });
  } catch (error) {
    post({
      type: 'load-failed',
      key: request.key,
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

async function run(request: Extract<WorkerRequest, { type: 'run' }>): Promise<void> {
  const plugin = plugins.get(request.key);
  const result = plugin
    ? await execute(plugin, request.job).catch(hostError)
    : hostError(new Error(`plugin ${request.key} was not loaded in this worker`));
  post({ type: 'result', result });
}

parentPort!.on('message', (request: WorkerRequest) => {
  if (request.type === 'load') void load(request);
  else void run(request);
});
