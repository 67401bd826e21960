/** A batch of entries: written under one lock, fsynced once, settled by one promise. */
export interface Group {
  bodies: string[];
  bytes: number;
  written: boolean;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { bodies: [], bytes: 0, written: false, promise, resolve, reject };
}

export const RESOLVED: Promise<void> = Promise.resolve();
