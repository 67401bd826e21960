/**
 * The capability-based WASI 0.2 host handed to jco's generated bindings. Runs inside the worker.
 *
 * Nothing here comes from @bytecodealliance/preview2-shim's Node build: that shim reads the
 * real `process.env`, opens real files under preopens and creates real sockets. Instead every
 * interface is implemented here against an explicit grant:
 *
 * - stdio: stdin is the input buffer, stdout/stderr are capped in-memory buffers. Always granted.
 * - env: only the granted variable names, with values taken from the caller's `env` snapshot.
 * - clock / random: real values when granted; otherwise calling them is a CAPABILITY_DENIED trap.
 * - filesystem: no preopens, so the guest has no directory handle to open anything with; every
 *   descriptor method fails with `access`. Never touches the host file system.
 * - sockets: creating a socket or resolving a name fails with `access-denied` inside the guest.
 * - anything else (wasi:http, custom interfaces): not linked; the plugin is refused at load.
 */
import type { GrantSet } from './capabilities.js';

export type HostSignal =
  | { kind: 'exit'; code: number }
  | { kind: 'fuel' }
  | { kind: 'memory'; site: number }
  | { kind: 'capability'; capability: string; detail: string }
  | { kind: 'output'; stream: 'stdout' | 'stderr' }
  /** A clock sleep reached the run's deadline (inline runs): the run is over, as a TIMEOUT. */
  | { kind: 'deadline' };

/** Thrown through the guest to unwind it; the worker turns it into an outcome. */
export class HostSignalError extends Error {
  readonly signal: HostSignal;
  constructor(signal: HostSignal) {
    super(`codex host signal: ${signal.kind}`);
    this.signal = signal;
  }
}

export interface DenialRecord {
  readonly capability: string;
  readonly detail: string;
}

export interface HostOptions {
  readonly grant: GrantSet;
  /** Values for granted env names (only these names are read). */
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: Uint8Array;
  readonly maxOutputBytes: number;
}

export interface Host {
  /** jco import object, keyed by unversioned interface name. */
  readonly imports: Record<string, Record<string, unknown>>;
  readonly stdout: () => Uint8Array;
  readonly stderr: () => Uint8Array;
  /** Attempts that were refused but did not stop the guest (fs/socket calls). */
  readonly denials: DenialRecord[];
}

/** Interfaces this host can link. Anything else a plugin imports is refused at load. */
export const LINKABLE_INTERFACES = [
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:clocks/wall-clock',
  'wasi:clocks/monotonic-clock',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
  'wasi:filesystem/types',
  'wasi:filesystem/preopens',
  'wasi:sockets/network',
  'wasi:sockets/instance-network',
  'wasi:sockets/tcp-create-socket',
  'wasi:sockets/udp-create-socket',
  'wasi:sockets/tcp',
  'wasi:sockets/udp',
  'wasi:sockets/ip-name-lookup',
] as const;

/** Which capability an imported interface needs (undefined: free, or always denied). */
export function capabilityOfInterface(iface: string): 'clock' | 'random' | 'fs' | 'sockets' | undefined {
  if (iface.startsWith('wasi:clocks/')) return 'clock';
  if (iface.startsWith('wasi:random/')) return 'random';
  if (iface.startsWith('wasi:filesystem/')) return 'fs';
  if (iface.startsWith('wasi:sockets/')) return 'sockets';
  return undefined;
}

class Pollable {
  ready(): boolean {
    return true;
  }
  block(): void {}
}

class IoError {
  readonly #message: string;
  constructor(message: string) {
    this.#message = message;
  }
  toDebugString(): string {
    return this.#message;
  }
}

class InputStream {
  #data: Uint8Array;
  #pos = 0;
  constructor(data: Uint8Array) {
    this.#data = data;
  }
  read(len: bigint): Uint8Array {
    if (this.#pos >= this.#data.length) throw { tag: 'closed' };
    const n = Math.min(Number(len), this.#data.length - this.#pos);
    const out = this.#data.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }
  skip(len: bigint): bigint {
    return BigInt(this.read(len).length);
  }
  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

class OutputStream {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  readonly #limit: number;
  readonly #name: 'stdout' | 'stderr';
  constructor(name: 'stdout' | 'stderr', limit: number) {
    this.#name = name;
    this.#limit = limit;
  }
  checkWrite(): bigint {
    return 65_536n;
  }
  write(bytes: Uint8Array): void {
    if (this.#size + bytes.length > this.#limit) {
      throw new HostSignalError({ kind: 'output', stream: this.#name });
    }
    this.#chunks.push(bytes.slice());
    this.#size += bytes.length;
  }
  blockingWriteAndFlush(bytes: Uint8Array): void {
    this.write(bytes);
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(Number(len)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }
  splice(): bigint {
    throw { tag: 'closed' };
  }
  blockingSplice(): bigint {
    throw { tag: 'closed' };
  }
  subscribe(): Pollable {
    return new Pollable();
  }
  contents(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

class TerminalInput {}
class TerminalOutput {}

export function createHost(options: HostOptions): Host {
  const { grant } = options;
  const denials: DenialRecord[] = [];
  const stdin = new InputStream(options.stdin);
  const stdout = new OutputStream('stdout', options.maxOutputBytes);
  const stderr = new OutputStream('stderr', options.maxOutputBytes);

  const deny = (capability: string, detail: string): never => {
    throw new HostSignalError({ kind: 'capability', capability, detail });
  };
  /** A refused fs/socket attempt: recorded, and an error code returned into the guest. */
  const refuse = (capability: string, detail: string, code: string): never => {
    denials.push({ capability, detail });
    throw { tag: code, val: undefined, payload: code };
  };

  const environment = grant.env
    .filter((name) => Object.hasOwn(options.env, name))
    .map((name) => [name, options.env[name]!] as [string, string]);

  // hrtime, not `performance.now()`: the `performance` global loads perf_hooks (~1.7 ms of every
  // `codex plugin run`).
  const now = () => {
    const [s, ns] = process.hrtime();
    return s * 1e3 + ns / 1e6;
  };
  const t0 = now();
  const wallNow = () => {
    if (!grant.clock) deny('clock', 'wasi:clocks/wall-clock.now');
    const ms = Date.now();
    return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
  };
  const monoNow = (): bigint => {
    if (!grant.clock) deny('clock', 'wasi:clocks/monotonic-clock.now');
    return BigInt(Math.round((now() - t0) * 1e6));
  };
  const sleepPollable = (ns: bigint): Pollable => {
    if (!grant.clock) deny('clock', 'wasi:clocks/monotonic-clock.subscribe');
    const until = now() + Number(ns) / 1e6;
    return new (class extends Pollable {
      override ready(): boolean {
        return now() >= until;
      }
      override block(): void {
        const ms = until - now();
        // The worker may block: it is terminated at the deadline anyway.
        if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      }
    })();
  };
  const randomBytes = (len: bigint): Uint8Array => {
    if (!grant.random) deny('random', 'wasi:random get-random-bytes');
    const n = Number(len);
    if (n > 1024 * 1024) deny('random', `request of ${n} bytes is above 1 MiB`);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
    return out;
  };
  const randomU64 = (): bigint => new DataView(randomBytes(8n).buffer).getBigUint64(0);

  class Descriptor {
    constructor() {
      // Unreachable for a guest: there are no preopens to derive a descriptor from.
      throw new Error('no file system is linked');
    }
  }
  for (const method of [
    'readViaStream',
    'writeViaStream',
    'appendViaStream',
    'advise',
    'syncData',
    'getFlags',
    'getType',
    'setSize',
    'setTimes',
    'read',
    'write',
    'readDirectory',
    'sync',
    'createDirectoryAt',
    'stat',
    'statAt',
    'setTimesAt',
    'linkAt',
    'openAt',
    'readlinkAt',
    'removeDirectoryAt',
    'renameAt',
    'symlinkAt',
    'unlinkFileAt',
    'isSameObject',
    'metadataHash',
    'metadataHashAt',
  ]) {
    Object.defineProperty(Descriptor.prototype, method, {
      value: () => refuse('fs', `wasi:filesystem/types descriptor.${method}`, 'access'),
    });
  }
  class DirectoryEntryStream {
    readDirectoryEntry(): never {
      return refuse('fs', 'wasi:filesystem/types directory-entry-stream', 'access');
    }
  }

  class Network {}
  class TcpSocket {}
  class UdpSocket {}
  class ResolveAddressStream {}

  const imports: Record<string, Record<string, unknown>> = {
    'wasi:cli/environment': {
      getEnvironment: () => environment,
      getArguments: () => ['plugin'],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit: (status: { tag: 'ok' | 'err' }) => {
        throw new HostSignalError({ kind: 'exit', code: status.tag === 'ok' ? 0 : 1 });
      },
      exitWithCode: (code: number) => {
        throw new HostSignalError({ kind: 'exit', code });
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': {
      Pollable,
      poll: (list: Pollable[]) => {
        for (;;) {
          const ready = list.flatMap((p, i) => (p.ready() ? [i] : []));
          if (ready.length > 0) return new Uint32Array(ready);
          list[0]?.block();
        }
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:clocks/wall-clock': {
      now: wallNow,
      resolution: () => (grant.clock ? { seconds: 0n, nanoseconds: 1_000_000 } : deny('clock', 'resolution')),
    },
    'wasi:clocks/monotonic-clock': {
      now: monoNow,
      resolution: () => (grant.clock ? 1_000n : deny('clock', 'resolution')),
      subscribeInstant: (at: bigint) => sleepPollable(at - monoNow()),
      subscribeDuration: (ns: bigint) => sleepPollable(ns),
    },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomU64(), randomU64()] },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: () => undefined,
    },
    'wasi:sockets/network': { Network },
    'wasi:sockets/instance-network': { instanceNetwork: () => new Network() },
    'wasi:sockets/tcp-create-socket': {
      createTcpSocket: () => refuse('sockets', 'wasi:sockets create-tcp-socket', 'access-denied'),
    },
    'wasi:sockets/udp-create-socket': {
      createUdpSocket: () => refuse('sockets', 'wasi:sockets create-udp-socket', 'access-denied'),
    },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream: class {}, OutgoingDatagramStream: class {} },
    'wasi:sockets/ip-name-lookup': {
      ResolveAddressStream,
      resolveAddresses: () => refuse('sockets', 'wasi:sockets resolve-addresses', 'access-denied'),
    },
  };
  return { imports, stdout: () => stdout.contents(), stderr: () => stderr.contents(), denials };
}
