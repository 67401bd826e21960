/**
 * The capability-based `wasi_snapshot_preview1` host for core modules, run in the worker. Same
 * grant semantics as the WASI 0.2 host (host.ts), without the component adapter and jco glue in
 * between, so a run costs an instantiation and a call:
 *
 * - stdio: fd 0 is the input buffer, fds 1/2 are capped in-memory buffers. Always granted.
 * - env: only the granted names (values from the caller's snapshot); one argument, `plugin`.
 * - clock / random: real values when granted; otherwise the call is a CAPABILITY_DENIED violation.
 * - filesystem: no preopened directories (fd_prestat_get says EBADF for fd 3), so libc has nothing
 *   to resolve a path against; every path_* call that still arrives is refused with ENOTCAPABLE
 *   and recorded. Descriptors other than 0-2 do not exist (EBADF).
 * - sockets: sock_* calls are refused with ENOTCAPABLE and recorded.
 * - anything not in preview1: refused at load (`PREVIEW1_FUNCTIONS`).
 */
import type { GrantSet } from './capabilities.js';
import { nowMs } from './clock.js';
import { HostSignalError } from './host.js';

const SUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ENOSYS = 52;
const ESPIPE = 70;
const ENOTCAPABLE = 76;

/** Every function this host links; a module importing anything else is refused at load. */
export const PREVIEW1_FUNCTIONS = [
  'args_get',
  'args_sizes_get',
  'environ_get',
  'environ_sizes_get',
  'clock_res_get',
  'clock_time_get',
  'fd_advise',
  'fd_allocate',
  'fd_close',
  'fd_datasync',
  'fd_fdstat_get',
  'fd_fdstat_set_flags',
  'fd_fdstat_set_rights',
  'fd_filestat_get',
  'fd_filestat_set_size',
  'fd_filestat_set_times',
  'fd_pread',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'fd_pwrite',
  'fd_read',
  'fd_readdir',
  'fd_renumber',
  'fd_seek',
  'fd_sync',
  'fd_tell',
  'fd_write',
  'path_create_directory',
  'path_filestat_get',
  'path_filestat_set_times',
  'path_link',
  'path_open',
  'path_readlink',
  'path_remove_directory',
  'path_rename',
  'path_symlink',
  'path_unlink_file',
  'poll_oneoff',
  'proc_exit',
  'proc_raise',
  'sched_yield',
  'random_get',
  'sock_accept',
  'sock_recv',
  'sock_send',
  'sock_shutdown',
] as const;

/** The WASI 0.2 interfaces a preview1 import corresponds to (what `inspect` reports). */
export function interfacesOfPreview1(name: string): string[] {
  if (name.startsWith('args_') || name.startsWith('environ_')) return ['wasi:cli/environment'];
  if (name.startsWith('clock_')) return ['wasi:clocks/wall-clock', 'wasi:clocks/monotonic-clock'];
  if (name === 'random_get') return ['wasi:random/random'];
  if (name.startsWith('path_') || name.startsWith('fd_prestat') || name === 'fd_readdir')
    return ['wasi:filesystem/preopens', 'wasi:filesystem/types'];
  if (name.startsWith('sock_')) return ['wasi:sockets/tcp'];
  if (name === 'proc_exit') return ['wasi:cli/exit'];
  if (name === 'poll_oneoff') return ['wasi:io/poll'];
  if (name === 'fd_read') return ['wasi:cli/stdin', 'wasi:io/streams'];
  if (name === 'fd_write') return ['wasi:cli/stdout', 'wasi:cli/stderr', 'wasi:io/streams'];
  return [];
}

export interface Preview1Options {
  readonly grant: GrantSet;
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: Uint8Array;
  readonly maxOutputBytes: number;
  /** {@link nowMs} time no clock sleep may pass (the run's deadline on the calling thread). */
  readonly sleepUntil?: number;
}

/** Refused attempts kept per run (the rest are counted in the last record). */
export const MAX_DENIALS = 100;

export interface Preview1Host {
  readonly imports: Record<string, (...args: never[]) => unknown>;
  /** Must be called with the instance's exported memory before `_start`. */
  bind(memory: WebAssembly.Memory): void;
  stdout(): Uint8Array;
  stderr(): Uint8Array;
  readonly denials: { capability: string; detail: string }[];
}

class Output {
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  constructor(
    readonly name: 'stdout' | 'stderr',
    readonly limit: number,
  ) {}
  write(bytes: Uint8Array): void {
    if (this.#size + bytes.length > this.limit)
      throw new HostSignalError({ kind: 'output', stream: this.name });
    this.#chunks.push(bytes.slice());
    this.#size += bytes.length;
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

const encoder = new TextEncoder();

export function createPreview1Host(options: Preview1Options): Preview1Host {
  const { grant } = options;
  const denials: { capability: string; detail: string }[] = [];
  let memory: WebAssembly.Memory | undefined;
  const view = () => new DataView(memory!.buffer);
  const bytes = () => new Uint8Array(memory!.buffer);
  const out = [
    undefined,
    new Output('stdout', options.maxOutputBytes),
    new Output('stderr', options.maxOutputBytes),
  ];
  const stdin = options.stdin;
  let stdinPos = 0;
  const args = [encoder.encode('plugin\0')];
  const environ = grant.env
    .filter((name) => Object.hasOwn(options.env, name))
    .map((name) => encoder.encode(`${name}=${options.env[name]}\0`));
  const t0 = process.hrtime.bigint();

  const deny = (capability: string, detail: string): never => {
    throw new HostSignalError({ kind: 'capability', capability, detail });
  };
  let dropped = 0;
  const refuse = (capability: string, detail: string): number => {
    if (denials.length < MAX_DENIALS) denials.push({ capability, detail });
    else {
      dropped++;
      denials[MAX_DENIALS - 1] = {
        capability,
        detail: `${detail} (+${dropped} more refused attempts not listed)`,
      };
    }
    return ENOTCAPABLE;
  };
  const isStd = (fd: number) => fd >= 0 && fd <= 2;
  const stdOr = (fd: number, code: number) => (isStd(fd) ? code : EBADF);

  const listGet = (list: Uint8Array[], ptrs: number, buf: number): number => {
    const v = view();
    const b = bytes();
    let at = buf;
    list.forEach((item, i) => {
      v.setUint32(ptrs + 4 * i, at, true);
      b.set(item, at);
      at += item.length;
    });
    return SUCCESS;
  };
  const listSizes = (list: Uint8Array[], count: number, size: number): number => {
    const v = view();
    v.setUint32(count, list.length, true);
    v.setUint32(
      size,
      list.reduce((n, x) => n + x.length, 0),
      true,
    );
    return SUCCESS;
  };
  const now = (id: number): bigint | undefined => {
    if (id === 0) return BigInt(Date.now()) * 1_000_000n;
    if (id === 1 || id === 2 || id === 3) return process.hrtime.bigint() - t0;
    return undefined;
  };
  const pathCall = (name: string) => () => refuse('fs', `wasi_snapshot_preview1.${name}`);
  const sockCall = (name: string) => () => refuse('sockets', `wasi_snapshot_preview1.${name}`);

  const imports: Record<string, (...args: never[]) => unknown> = {
    args_get: (argv: number, buf: number) => listGet(args, argv, buf),
    args_sizes_get: (count: number, size: number) => listSizes(args, count, size),
    environ_get: (ptrs: number, buf: number) => listGet(environ, ptrs, buf),
    environ_sizes_get: (count: number, size: number) => listSizes(environ, count, size),
    clock_res_get: (id: number, res: number) => {
      if (!grant.clock) deny('clock', 'wasi_snapshot_preview1.clock_res_get');
      if (now(id) === undefined) return EINVAL;
      view().setBigUint64(res, 1_000n, true);
      return SUCCESS;
    },
    clock_time_get: (id: number, _precision: bigint, time: number) => {
      if (!grant.clock) deny('clock', 'wasi_snapshot_preview1.clock_time_get');
      const t = now(id);
      if (t === undefined) return EINVAL;
      view().setBigUint64(time, t, true);
      return SUCCESS;
    },
    random_get: (buf: number, len: number) => {
      if (!grant.random) deny('random', 'wasi_snapshot_preview1.random_get');
      if (len > 1024 * 1024) deny('random', `request of ${len} bytes is above 1 MiB`);
      for (let i = 0; i < len; i += 65_536) {
        crypto.getRandomValues(new Uint8Array(memory!.buffer, buf + i, Math.min(65_536, len - i)));
      }
      return SUCCESS;
    },
    fd_write: (fd: number, iovs: number, count: number, written: number) => {
      const stream = fd === 1 || fd === 2 ? out[fd]! : undefined;
      if (!stream) return EBADF;
      const v = view();
      let total = 0;
      for (let i = 0; i < count; i++) {
        const ptr = v.getUint32(iovs + 8 * i, true);
        const len = v.getUint32(iovs + 8 * i + 4, true);
        stream.write(new Uint8Array(memory!.buffer, ptr, len));
        total += len;
      }
      view().setUint32(written, total, true);
      return SUCCESS;
    },
    fd_read: (fd: number, iovs: number, count: number, read: number) => {
      if (fd !== 0) return stdOr(fd, EBADF);
      const v = view();
      const b = bytes();
      let total = 0;
      for (let i = 0; i < count && stdinPos < stdin.length; i++) {
        const ptr = v.getUint32(iovs + 8 * i, true);
        const len = v.getUint32(iovs + 8 * i + 4, true);
        const n = Math.min(len, stdin.length - stdinPos);
        b.set(stdin.subarray(stdinPos, stdinPos + n), ptr);
        stdinPos += n;
        total += n;
      }
      v.setUint32(read, total, true);
      return SUCCESS;
    },
    fd_close: (fd: number) => stdOr(fd, SUCCESS),
    fd_fdstat_get: (fd: number, stat: number) => {
      if (!isStd(fd)) return EBADF;
      const v = view();
      v.setUint8(stat, 0); // filetype unknown: not a terminal, so libc buffers fully
      v.setUint16(stat + 2, 0, true);
      // rights: fd_read (1 << 1) on stdin, fd_write (1 << 6) on stdout/stderr
      v.setBigUint64(stat + 8, fd === 0 ? 2n : 64n, true);
      v.setBigUint64(stat + 16, 0n, true);
      return SUCCESS;
    },
    fd_fdstat_set_flags: (fd: number) => stdOr(fd, ENOTCAPABLE),
    fd_fdstat_set_rights: (fd: number) => stdOr(fd, ENOTCAPABLE),
    fd_filestat_get: (fd: number, buf: number) => {
      if (!isStd(fd)) return EBADF;
      bytes().fill(0, buf, buf + 64);
      return SUCCESS;
    },
    fd_seek: (fd: number) => stdOr(fd, ESPIPE),
    fd_tell: (fd: number) => stdOr(fd, ESPIPE),
    fd_prestat_get: () => EBADF,
    fd_prestat_dir_name: () => EBADF,
    fd_advise: (fd: number) => stdOr(fd, ESPIPE),
    fd_allocate: (fd: number) => stdOr(fd, ENOTCAPABLE),
    fd_datasync: (fd: number) => stdOr(fd, EINVAL),
    fd_sync: (fd: number) => stdOr(fd, EINVAL),
    fd_filestat_set_size: (fd: number) => stdOr(fd, ENOTCAPABLE),
    fd_filestat_set_times: (fd: number) => stdOr(fd, ENOTCAPABLE),
    fd_pread: (fd: number) => stdOr(fd, ESPIPE),
    fd_pwrite: (fd: number) => stdOr(fd, ESPIPE),
    fd_readdir: (fd: number) => stdOr(fd, ENOTCAPABLE),
    fd_renumber: () => ENOTCAPABLE,
    path_create_directory: pathCall('path_create_directory'),
    path_filestat_get: pathCall('path_filestat_get'),
    path_filestat_set_times: pathCall('path_filestat_set_times'),
    path_link: pathCall('path_link'),
    path_open: pathCall('path_open'),
    path_readlink: pathCall('path_readlink'),
    path_remove_directory: pathCall('path_remove_directory'),
    path_rename: pathCall('path_rename'),
    path_symlink: pathCall('path_symlink'),
    path_unlink_file: pathCall('path_unlink_file'),
    poll_oneoff: (input: number, output: number, count: number, events: number) =>
      pollOneoff(input, output, count, events),
    proc_exit: (code: number) => {
      throw new HostSignalError({ kind: 'exit', code });
    },
    proc_raise: () => ENOSYS,
    sched_yield: () => SUCCESS,
    sock_accept: sockCall('sock_accept'),
    sock_recv: sockCall('sock_recv'),
    sock_send: sockCall('sock_send'),
    sock_shutdown: sockCall('sock_shutdown'),
  };

  /** Clock subscriptions sleep (clock grant required); fd subscriptions are always ready. */
  function pollOneoff(input: number, output: number, count: number, nevents: number): number {
    const v = view();
    let sleepUntil = Number.POSITIVE_INFINITY;
    const ready: number[] = [];
    const clocks: number[] = [];
    for (let i = 0; i < count; i++) {
      const sub = input + 48 * i;
      const tag = v.getUint8(sub + 8);
      if (tag === 0) {
        if (!grant.clock) deny('clock', 'wasi_snapshot_preview1.poll_oneoff (sleep)');
        const id = v.getUint32(sub + 16, true);
        const timeout = v.getBigUint64(sub + 24, true);
        const absolute = (v.getUint16(sub + 40, true) & 1) === 1;
        const base = now(id) ?? 0n;
        const ns = absolute ? timeout - base : timeout;
        sleepUntil = Math.min(sleepUntil, nowMs() + Math.max(0, Number(ns) / 1e6));
        clocks.push(i);
      } else {
        ready.push(i);
      }
    }
    let fired = ready;
    if (ready.length === 0 && clocks.length > 0) {
      const cut = options.sleepUntil !== undefined && sleepUntil > options.sleepUntil;
      const ms = (cut ? options.sleepUntil! : sleepUntil) - nowMs();
      // A worker may block: it is terminated at the deadline anyway. On the calling thread the
      // sleep stops at the deadline and the run ends there, rather than waking the guest early.
      if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      if (cut) throw new HostSignalError({ kind: 'deadline' });
      fired = clocks;
    }
    const w = view();
    fired.forEach((i, k) => {
      const sub = input + 48 * i;
      const ev = output + 32 * k;
      new Uint8Array(memory!.buffer).fill(0, ev, ev + 32);
      w.setBigUint64(ev, w.getBigUint64(sub, true), true);
      w.setUint8(ev + 10, w.getUint8(sub + 8));
    });
    w.setUint32(nevents, fired.length, true);
    return SUCCESS;
  }

  // A guest that hands the host bad pointers (corrupted memory) traps, like any other
  // out-of-bounds access, instead of surfacing as a host error.
  for (const [name, fn] of Object.entries(imports)) {
    imports[name] = (...args: never[]) => {
      try {
        return fn(...args);
      } catch (error) {
        if (error instanceof RangeError && !(error instanceof HostSignalError)) {
          throw new WebAssembly.RuntimeError(`out of bounds memory access in ${name}: ${error.message}`);
        }
        throw error;
      }
    };
  }

  return {
    imports,
    bind: (m) => {
      memory = m;
    },
    stdout: () => out[1]!.contents(),
    stderr: () => out[2]!.contents(),
    denials,
  };
}
