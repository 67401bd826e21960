/** Resource limits for one run. Defaults come from the mission: fuel 1,000,000, 5 s, 10 MB. */
export interface PluginLimits {
  /** Fuel units: one per function entry and per loop iteration. */
  readonly fuel: number;
  /** Wall-clock limit in milliseconds; the worker thread is terminated at the deadline. */
  readonly timeoutMs: number;
  /** Maximum size of each linear memory, in bytes (rounded down to 64 KiB pages). */
  readonly memoryBytes: number;
  /** Maximum bytes the plugin may write to stdout and to stderr (each). */
  readonly maxOutputBytes: number;
}

export const DEFAULT_LIMITS: PluginLimits = Object.freeze({
  fuel: 1_000_000,
  timeoutMs: 5_000,
  memoryBytes: 10 * 1024 * 1024,
  maxOutputBytes: 1024 * 1024,
});

export const WASM_PAGE = 65_536;
/** The largest fuel value the i64 counter accepts from JS without losing precision. */
export const MAX_FUEL = Number.MAX_SAFE_INTEGER;
/** 4 GiB: the wasm32 address space. */
export const MAX_MEMORY_BYTES = 65_536 * WASM_PAGE;

export function resolveLimits(partial: Partial<PluginLimits> | undefined): PluginLimits {
  const l = { ...DEFAULT_LIMITS, ...dropUndefined(partial ?? {}) };
  check('fuel', l.fuel, 1, MAX_FUEL);
  check('timeoutMs', l.timeoutMs, 1, 2_147_483_647);
  check('memoryBytes', l.memoryBytes, WASM_PAGE, MAX_MEMORY_BYTES);
  check('maxOutputBytes', l.maxOutputBytes, 0, 1024 * 1024 * 1024);
  return l;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function check(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`limit ${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
}

export function memoryPages(bytes: number): number {
  return Math.floor(bytes / WASM_PAGE);
}
