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
import { execute, type Glue, hostError, type Loaded, type WorkerJob, type WorkerResult } from './execute.js';

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

export type { WorkerJob, WorkerResult } from './execute.js';

/** Worker → parent. */
export type WorkerMessage =
  | { type: 'loaded'; key: string }
  | { type: 'load-failed'; key: string; message: string }
  | { type: 'result'; result: WorkerResult };

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
