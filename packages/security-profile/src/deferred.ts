/**
 * An object built the first time it is used, then kept: `deferred(() => z.strictObject({…}))`.
 *
 * Building a zod schema costs real time (every node defines its methods), and a process pays it at
 * import for every module-level schema of every package it loads, although a one-shot
 * `codex exec` without a config file validates nothing. A schema wrapped in `deferred` is built on
 * its first use (`parse`, `safeParse`, `shape`, composition into another schema) instead. The
 * result stands for the built object: property reads and writes, `in`, `instanceof`,
 * `Object.keys` and prototype checks all go to it. Not for objects with `#private` fields or
 * objects that must be frozen (zod's schemas are neither).
 */
export function deferred<T extends object>(build: () => T): T {
  let built: T | undefined;
  const target = (): T => {
    built ??= build();
    return built;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(target(), key),
    set: (_, key, value) => Reflect.set(target(), key, value),
    has: (_, key) => Reflect.has(target(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      // A proxy may report a property as non-configurable only if its own target has it so.
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(target(), key, descriptor),
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
  });
}
