/**
 * Warm worker threads. A pool keeps `size` workers started ahead of need; a worker loads a plugin
 * (glue + compiled modules) once and then serves many runs of it, each with fresh instances.
 *
 * Reuse is only for runs that ended in a normal exit. A run that timed out (the thread is
 * terminated at the deadline), trapped, ran out of fuel or memory, hit a capability or output
 * limit, or failed in the host retires its worker, and a fresh one is started in its place. A
 * worker is also retired after {@link MAX_RUNS_PER_WORKER} runs or once it has loaded
 * {@link MAX_PLUGINS_PER_WORKER} plugins (imported glue modules cannot be unloaded).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { nowMs } from './clock.js';
import type { WorkerJob, WorkerResult } from './execute.js';
import type { WorkerMessage, WorkerRequest } from './worker.js';

export const MAX_RUNS_PER_WORKER = 1_000;
export const MAX_PLUGINS_PER_WORKER = 8;
/** Loading is our own code (importing the verified glue); a generous guard, not a plugin limit. */
const LOAD_TIMEOUT_MS = 60_000;

export type RunOutcome =
  | { kind: 'done'; result: WorkerResult }
  | { kind: 'timeout'; stoppedAfterDeadlineMs: number }
  | { kind: 'crash'; message: string };

/** What a worker needs to run a plugin. */
export interface RunnablePlugin {
  readonly key: string;
  readonly glue: string | undefined;
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
}

export interface PoolStats {
  readonly size: number;
  /** Workers alive now (idle + busy). */
  readonly live: number;
  readonly idle: number;
  /** Workers started since the pool was created (including replacements). */
  readonly spawned: number;
  /** Workers terminated after a run (deadline, violation, run/plugin budget). */
  readonly retired: number;
  readonly runs: number;
  /** Runs served by a worker that had already served a run. */
  readonly reusedRuns: number;
  /** Runs that had to load the plugin into their worker first. */
  readonly loads: number;
}

interface Slot {
  readonly worker: Worker;
  readonly loaded: Set<string>;
  runs: number;
  lastError?: string | undefined;
  onMessage?: ((m: WorkerMessage) => void) | undefined;
  onGone?: ((message: string) => void) | undefined;
}

function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  // Running from src/ (tests): use the built worker.
  return new URL('../dist/worker.js', import.meta.url);
}

export class WorkerPool {
  readonly size: number;
  readonly #slots = new Set<Slot>();
  #idle: Slot[] = [];
  readonly #waiters: { resolve: (s: Slot) => void; reject: (e: Error) => void }[] = [];
  #closed = false;
  #spawned = 0;
  #retired = 0;
  #runs = 0;
  #reused = 0;
  #loads = 0;

  /** Starts `size` workers now (they do not keep the process alive while idle). */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1 || size > 64) {
      throw new RangeError(`pool size must be an integer between 1 and 64, got ${size}`);
    }
    this.size = size;
    for (let i = 0; i < size; i++) this.#idle.push(this.#spawn());
  }

  get closed(): boolean {
    return this.#closed;
  }

  stats(): PoolStats {
    return {
      size: this.size,
      live: this.#slots.size,
      idle: this.#idle.length,
      spawned: this.#spawned,
      retired: this.#retired,
      runs: this.#runs,
      reusedRuns: this.#reused,
      loads: this.#loads,
    };
  }

  #spawn(): Slot {
    // Loaded on the first worker: a one-shot inline run (`codex plugin run`) never starts one, and
    // worker_threads costs such a process about 4 ms to load.
    const { Worker } = process.getBuiltinModule(
      'node:worker_threads',
    ) as typeof import('node:worker_threads');
    const worker = new Worker(workerUrl(), {
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
    // An idle worker must not keep the process alive.
    worker.unref();
    const slot: Slot = { worker, loaded: new Set(), runs: 0 };
    worker.on('message', (m: WorkerMessage) => slot.onMessage?.(m));
    worker.on('error', (error: Error) => {
      slot.lastError = error.message;
    });
    worker.on('exit', (code) => {
      this.#slots.delete(slot);
      this.#idle = this.#idle.filter((s) => s !== slot);
      const why = this.#closed
        ? 'the plugin pool was closed during the run'
        : (slot.lastError ?? `worker thread exited with code ${code}`);
      slot.onGone?.(why);
    });
    this.#slots.add(slot);
    this.#spawned++;
    return slot;
  }

  async #acquire(): Promise<Slot> {
    if (this.#closed) throw new Error('the plugin pool is closed');
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#slots.size < this.size) return this.#spawn();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #release(slot: Slot): void {
    slot.worker.unref();
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(slot);
    else this.#idle.push(slot);
  }

  /** Terminates a worker and, unless the pool is closed, starts a fresh one in its place. */
  #retire(slot: Slot): Promise<number> {
    this.#slots.delete(slot);
    this.#retired++;
    slot.onMessage = undefined;
    slot.onGone = undefined;
    const stopped = slot.worker.terminate();
    if (!this.#closed) {
      const fresh = this.#spawn();
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(fresh);
      else this.#idle.push(fresh);
    }
    return stopped;
  }

  /**
   * Runs one job on a warm worker. The deadline starts when the job is posted (after the worker
   * is ready and has the plugin loaded); at the deadline the thread is terminated.
   */
  async run(plugin: RunnablePlugin, job: WorkerJob, timeoutMs: number): Promise<RunOutcome> {
    let slot = await this.#acquire();
    slot.worker.ref(); // from here on the run keeps the process alive
    if (!slot.loaded.has(plugin.key)) {
      if (slot.loaded.size >= MAX_PLUGINS_PER_WORKER) {
        void this.#retire(slot);
        slot = await this.#acquire();
        slot.worker.ref();
      }
      this.#loads++;
      const loaded = await this.#exchange(
        slot,
        {
          type: 'load',
          key: plugin.key,
          ...(plugin.glue !== undefined ? { glue: plugin.glue } : {}),
          modules: Object.fromEntries(plugin.modules),
        },
        LOAD_TIMEOUT_MS,
        (m) => m.type === 'loaded' || m.type === 'load-failed',
      );
      if (loaded.kind !== 'message' || loaded.message.type !== 'loaded') {
        if (loaded.kind !== 'gone') void this.#retire(slot);
        return {
          kind: 'crash',
          message:
            loaded.kind === 'message' && loaded.message.type === 'load-failed'
              ? `loading the plugin failed: ${loaded.message.message}`
              : loaded.kind === 'gone'
                ? loaded.why
                : 'loading the plugin into a worker timed out',
        };
      }
      slot.loaded.add(plugin.key);
    }
    this.#runs++;
    if (slot.runs++ > 0) this.#reused++;
    const r = await this.#exchange(
      slot,
      { type: 'run', key: plugin.key, job },
      timeoutMs,
      (m) => m.type === 'result',
    );
    if (r.kind === 'timeout') {
      await this.#retire(slot);
      return { kind: 'timeout', stoppedAfterDeadlineMs: nowMs() - r.deadlineAt };
    }
    if (r.kind === 'gone') {
      this.#retire(slot);
      return { kind: 'crash', message: r.why };
    }
    const result = (r.message as Extract<WorkerMessage, { type: 'result' }>).result;
    if (result.outcome.kind === 'exit' && slot.runs < MAX_RUNS_PER_WORKER && !this.#closed)
      this.#release(slot);
    else void this.#retire(slot);
    return { kind: 'done', result };
  }

  #exchange(
    slot: Slot,
    request: WorkerRequest,
    timeoutMs: number,
    accept: (m: WorkerMessage) => boolean,
  ): Promise<
    | { kind: 'message'; message: WorkerMessage }
    | { kind: 'timeout'; deadlineAt: number }
    | { kind: 'gone'; why: string }
  > {
    return new Promise((resolve) => {
      const deadlineAt = nowMs() + timeoutMs;
      const finish = (value: Parameters<typeof resolve>[0]) => {
        clearTimeout(timer);
        slot.onMessage = undefined;
        slot.onGone = undefined;
        resolve(value);
      };
      // stoppedAfterDeadlineMs is measured from the intended deadline, not from when this
      // callback ran, so event-loop lag on the host counts against the latency figure.
      const timer = setTimeout(() => finish({ kind: 'timeout', deadlineAt }), timeoutMs);
      slot.onMessage = (m) => {
        if (accept(m)) finish({ kind: 'message', message: m });
      };
      slot.onGone = (why) => finish({ kind: 'gone', why });
      if (!this.#slots.has(slot)) {
        finish({ kind: 'gone', why: slot.lastError ?? 'worker thread exited before the run' });
        return;
      }
      slot.worker.postMessage(request);
    });
  }

  /** Terminates every worker; runs in progress end with a host error. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new Error('the plugin pool is closed'));
    const slots = [...this.#slots];
    this.#idle = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
