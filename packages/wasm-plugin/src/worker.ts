/**
 * Worker-thread entry: instantiates one transpiled plugin with the capability host and runs its
 * `wasi:cli/run` export once. The parent terminates this thread at the deadline.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { GrantSet } from './capabilities.js';
import { HOST_MODULE } from './constants.js';
import { createHost, HostSignalError } from './host.js';

/** What a worker needs to prepare: the jco glue and the compiled core modules. */
export interface WorkerSetup {
  readonly jsPath: string;
  readonly modules: Record<string, WebAssembly.Module>;
  /** Present: run at once. Absent: load the glue, post `ready`, then wait for one job message. */
  readonly job?: WorkerJob;
}

/** One run: input, grant and fuel. */
export interface WorkerJob {
  readonly stdin: Uint8Array;
  readonly grant: GrantSet;
  readonly env: Record<string, string>;
  readonly fuel: number;
  readonly maxOutputBytes: number;
}

export type WorkerMessage = { type: 'ready' } | { type: 'result'; result: WorkerResult };

type Glue = {
  instantiate: (
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore: (m: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
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

async function execute(
  glue: Glue,
  modules: Record<string, WebAssembly.Module>,
  job: WorkerJob,
): Promise<WorkerResult> {
  const startedAt = performance.timeOrigin + performance.now();
  const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, BigInt(job.fuel));
  const host = createHost({
    grant: job.grant,
    env: job.env,
    stdin: job.stdin,
    maxOutputBytes: job.maxOutputBytes,
  });
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
  try {
    const instance = await glue.instantiate(
      (name) => {
        const m = modules[name];
        if (!m) throw new Error(`missing core module ${name}`);
        return m;
      },
      host.imports,
      (m, imports) => WebAssembly.instantiate(m, { ...imports, [HOST_MODULE]: hostModule }),
    );
    const run = instance.run?.run;
    if (typeof run !== 'function') throw new Error('plugin has no wasi:cli/run export');
    await run();
    outcome = { kind: 'exit', code: 0 };
  } catch (error) {
    outcome = classify(error);
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

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const glue = (await import(pathToFileURL(setup.jsPath).href)) as Glue;
  let job = setup.job;
  if (!job) {
    post({ type: 'ready' });
    job = await new Promise<WorkerJob>((resolve) => parentPort!.once('message', resolve));
  }
  post({ type: 'result', result: await execute(glue, setup.modules, job) });
}

main().catch((error: unknown) => post({ type: 'result', result: hostError(error) }));
