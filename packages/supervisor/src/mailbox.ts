import { CancelledError, MailboxClosedError, MailboxFullError, SupervisorConfigError } from './errors.js';

/** What a full mailbox does with one more message. */
export const MAILBOX_FULL_POLICIES = ['block', 'drop-oldest', 'drop-new'] as const;
export type MailboxFullPolicy = (typeof MAILBOX_FULL_POLICIES)[number];

export const DEFAULT_MAILBOX_CAPACITY = 32;

export interface MailboxOptions<T> {
  /** Maximum queued messages; default 32. */
  readonly capacity?: number | undefined;
  /** Default `block`: the producer awaits space. */
  readonly policy?: MailboxFullPolicy | undefined;
  /** Used in error messages and stats. */
  readonly name?: string;
  /** Called with each message evicted by `drop-oldest` (for example to settle its reply). */
  readonly onDrop?: (message: T, why: 'drop-oldest') => void;
}

/** What happened to one `send`. */
export type SendOutcome =
  /** Queued (possibly after waiting, under `block`). */
  | 'queued'
  /** Queued, and the oldest queued message was evicted to make room (`drop-oldest`). */
  | 'queued-dropped-oldest'
  /** Handed straight to a waiting receiver. */
  | 'delivered';

export interface MailboxStats {
  readonly name: string;
  readonly capacity: number;
  readonly policy: MailboxFullPolicy;
  readonly size: number;
  readonly sent: number;
  readonly received: number;
  /** Messages evicted by `drop-oldest`. */
  readonly droppedOldest: number;
  /** Messages rejected by `drop-new`. */
  readonly droppedNew: number;
  /** Sends that had to wait for space under `block`. */
  readonly blockedSends: number;
  /** Producers waiting for space right now. */
  readonly waitingProducers: number;
  readonly closed: boolean;
}

interface Waiter<V> {
  resolve(value: V): void;
  reject(error: unknown): void;
  cleanup?: () => void;
}

/**
 * A bounded FIFO queue between producers and one or more consumers, with backpressure.
 *
 * - `block`: `send` awaits until there is room (FIFO among waiting producers).
 * - `drop-oldest`: the oldest queued message is evicted; the newest `capacity` messages survive.
 * - `drop-new`: `send` rejects with {@link MailboxFullError}; the queue is untouched.
 *
 * Storage is a ring buffer, so a send or receive is O(1) and allocates nothing once warm.
 */
export class Mailbox<T> {
  readonly name: string;
  readonly capacity: number;
  readonly policy: MailboxFullPolicy;
  readonly #buffer: (T | undefined)[];
  #head = 0;
  #size = 0;
  #closed = false;
  readonly #onDrop: ((message: T, why: 'drop-oldest') => void) | undefined;
  readonly #receivers: Waiter<T>[] = [];
  readonly #producers: (Waiter<void> & { message: T })[] = [];
  #sent = 0;
  #received = 0;
  #droppedOldest = 0;
  #droppedNew = 0;
  #blockedSends = 0;

  constructor(options: MailboxOptions<T> = {}) {
    const capacity = options.capacity ?? DEFAULT_MAILBOX_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new SupervisorConfigError(`mailbox capacity must be an integer >= 1, got ${capacity}`);
    }
    const policy = options.policy ?? 'block';
    if (!(MAILBOX_FULL_POLICIES as readonly string[]).includes(policy)) {
      throw new SupervisorConfigError(
        `unknown mailbox policy "${policy}"; use ${MAILBOX_FULL_POLICIES.join(', ')}`,
      );
    }
    this.capacity = capacity;
    this.policy = policy;
    this.name = options.name ?? 'mailbox';
    this.#onDrop = options.onDrop;
    this.#buffer = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get stats(): MailboxStats {
    return {
      name: this.name,
      capacity: this.capacity,
      policy: this.policy,
      size: this.#size,
      sent: this.#sent,
      received: this.#received,
      droppedOldest: this.#droppedOldest,
      droppedNew: this.#droppedNew,
      blockedSends: this.#blockedSends,
      waitingProducers: this.#producers.length,
      closed: this.#closed,
    };
  }

  /**
   * Sends without waiting. When full: under `block` returns `'full'` (nothing sent, nothing
   * counted); under `drop-new` returns `'rejected'` and counts the drop (no exception, so a hot
   * producer pays nothing for it).
   */
  trySend(message: T): SendOutcome | 'full' | 'rejected' {
    if (this.#closed) throw new MailboxClosedError(this.name);
    const receiver = this.#receivers.shift();
    if (receiver) {
      this.#sent++;
      this.#received++;
      receiver.cleanup?.();
      receiver.resolve(message);
      return 'delivered';
    }
    if (this.#size < this.capacity) {
      this.#push(message);
      this.#sent++;
      return 'queued';
    }
    if (this.policy === 'drop-oldest') {
      const evicted = this.#shift();
      this.#push(message);
      this.#sent++;
      this.#droppedOldest++;
      this.#onDrop?.(evicted, 'drop-oldest');
      return 'queued-dropped-oldest';
    }
    if (this.policy === 'drop-new') {
      this.#droppedNew++;
      return 'rejected';
    }
    return 'full';
  }

  /**
   * Sends one message, applying the full-mailbox policy. Under `block` the returned promise
   * settles only once the message is queued; `signal` aborts the wait (the message is not sent).
   * Under `drop-new` a full mailbox rejects with {@link MailboxFullError}.
   */
  send(message: T, signal?: AbortSignal): Promise<SendOutcome> {
    let outcome: SendOutcome | 'full' | 'rejected';
    try {
      outcome = this.trySend(message);
    } catch (error) {
      return Promise.reject(error);
    }
    if (outcome === 'rejected') return Promise.reject(new MailboxFullError(this.name, this.capacity));
    if (outcome !== 'full') return Promise.resolve(outcome);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#blockedSends++;
    return new Promise<SendOutcome>((resolve, reject) => {
      const waiter: Waiter<void> & { message: T } = {
        message,
        resolve: () => resolve('queued'),
        reject,
      };
      if (signal) {
        const onAbort = () => {
          const i = this.#producers.indexOf(waiter);
          if (i !== -1) this.#producers.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#producers.push(waiter);
    });
  }

  /** Takes the oldest message, or `undefined` when empty. */
  tryReceive(): T | undefined {
    if (this.#size === 0) return undefined;
    const message = this.#shift();
    this.#received++;
    this.#admitProducer();
    return message;
  }

  /**
   * Awaits the next message. Rejects with {@link MailboxClosedError} once the mailbox is closed
   * and drained, or with a {@link CancelledError} when `signal` aborts.
   */
  receive(signal?: AbortSignal): Promise<T> {
    if (this.#size > 0) return Promise.resolve(this.tryReceive() as T);
    if (this.#closed) return Promise.reject(new MailboxClosedError(this.name));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          const i = this.#receivers.indexOf(waiter);
          if (i !== -1) this.#receivers.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#receivers.push(waiter);
    });
  }

  /**
   * Closes the mailbox: further sends throw, waiting producers are rejected, receivers drain
   * what is queued and then get {@link MailboxClosedError}.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#producers.splice(0)) {
      p.cleanup?.();
      p.reject(new MailboxClosedError(this.name));
    }
    for (const r of this.#receivers.splice(0)) {
      r.cleanup?.();
      r.reject(new MailboxClosedError(this.name));
    }
  }

  /** Removes and returns everything queued (used to settle queued work on shutdown). */
  drain(): T[] {
    const out: T[] = [];
    while (this.#size > 0) {
      out.push(this.#shift());
      this.#received++;
    }
    while (this.#producers.length > 0 && this.#size < this.capacity) this.#admitProducer();
    return out;
  }

  /** Iterates messages until the mailbox is closed and drained. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (error) {
        if (error instanceof MailboxClosedError) return;
        throw error;
      }
    }
  }

  #push(message: T): void {
    this.#buffer[(this.#head + this.#size) % this.capacity] = message;
    this.#size++;
  }

  #shift(): T {
    const message = this.#buffer[this.#head] as T;
    this.#buffer[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return message;
  }

  #admitProducer(): void {
    const producer = this.#producers.shift();
    if (!producer) return;
    this.#push(producer.message);
    this.#sent++;
    producer.cleanup?.();
    producer.resolve();
  }
}

function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new CancelledError('wait aborted', { cause: reason });
}
