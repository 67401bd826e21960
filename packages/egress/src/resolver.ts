import { lookup } from 'node:dns/promises';
import { canonicalIp } from './address.js';
import { EgressConfigError, EgressResolveError } from './errors.js';

/** Resolves a host name to its addresses. The proxy calls it once per connection and pins the result. */
export type Resolver = (host: string) => Promise<string[]>;

export interface ResolverOptions {
  /**
   * Fixed answers, checked first: `{ 'registry.test': '127.0.0.2' }` or a list per name. Names are
   * matched case-insensitively without a trailing dot. A value may also be a function, called on
   * every lookup (tests use it to model a name whose answer changes: DNS rebinding).
   */
  readonly hosts?: Readonly<Record<string, string | readonly string[] | (() => string | readonly string[])>>;
  /** Ask the system resolver for names not in `hosts` (default true). */
  readonly system?: boolean;
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** A resolver backed by an optional hosts map and, unless disabled, the system resolver. */
export function createResolver(options: ResolverOptions = {}): Resolver {
  const hosts = new Map<string, string | readonly string[] | (() => string | readonly string[])>();
  for (const [name, value] of Object.entries(options.hosts ?? {})) {
    const key = name.toLowerCase().replace(/\.$/, '');
    if (typeof value !== 'function') {
      for (const ip of typeof value === 'string' ? [value] : value) {
        if (canonicalIp(ip) === null)
          throw new EgressConfigError(`hosts: "${name}" maps to "${ip}", not an IP address`);
      }
    }
    hosts.set(key, value);
  }
  const system = options.system !== false;
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (host) => {
    const key = host.toLowerCase().replace(/\.$/, '');
    const fixed = hosts.get(key);
    if (fixed !== undefined) {
      const v = typeof fixed === 'function' ? fixed() : fixed;
      const list = typeof v === 'string' ? [v] : [...v];
      if (list.length === 0) throw new EgressResolveError(host, 'no addresses');
      return list;
    }
    if (!system) throw new EgressResolveError(host, 'not in the hosts map and system lookups are off');
    let timer: NodeJS.Timeout | undefined;
    try {
      const answers = await Promise.race([
        lookup(key, { all: true, verbatim: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new EgressResolveError(host, `no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      if (answers.length === 0) throw new EgressResolveError(host, 'no addresses');
      return answers.map((a) => a.address);
    } catch (e) {
      if (e instanceof EgressResolveError) throw e;
      throw new EgressResolveError(host, (e as NodeJS.ErrnoException).code ?? String(e));
    } finally {
      clearTimeout(timer);
    }
  };
}
