import { CancelledError, SupervisorConfigError } from './errors.js';

interface SemWaiter {
  resolve: (p: Permit) => void;
  reject: (e: unknown) => void;
  cleanup?: () => void;
}

/** A permit from {@link Semaphore.acquire}; `release` is idempotent. */
export interface Permit {
  release(): void;
}

/**
 * Counting semaphore with FIFO fairness. `inUse` never exceeds `max`: a permit is handed
 * directly from the releaser to the next waiter, so there is no window where both hold one.
 */
export class Semaphore {
  readonly max: number;
  #inUse = 0;
  #peak = 0;
  readonly #waiters: SemWaiter[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new SupervisorConfigError(`maxConcurrent must be an integer >= 1, got ${max}`);
    }
    this.max = max;
  }

  get inUse(): number {
    return this.#inUse;
  }

  /** Highest `inUse` seen since construction (or the last `resetPeak`). */
  get peak(): number {
    return this.#peak;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  resetPeak(): void {
    this.#peak = this.#inUse;
  }

  tryAcquire(): Permit | undefined {
    if (this.#inUse >= this.max) return undefined;
    this.#inUse++;
    if (this.#inUse > this.#peak) this.#peak = this.#inUse;
    return this.#permit();
  }

  acquire(signal?: AbortSignal): Promise<Permit> {
    const permit = this.tryAcquire();
    if (permit) return Promise.resolve(permit);
    if (signal?.aborted) return Promise.reject(reasonOf(signal));
    return new Promise<Permit>((resolve, reject) => {
      const waiter: SemWaiter = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i !== -1) this.#waiters.splice(i, 1);
          reject(reasonOf(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.push(waiter);
    });
  }

  #permit(): Permit {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const next = this.#waiters.shift();
        if (next) {
          // hand the slot over: inUse stays the same
          next.cleanup?.();
          next.resolve(this.#permit());
        } else {
          this.#inUse--;
        }
      },
    };
  }
}

function reasonOf(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new CancelledError('acquire aborted');
}
