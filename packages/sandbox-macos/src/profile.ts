import { isWithin, type SandboxPolicy } from '@codex/security-profile';
import { sbplString } from './sbpl.js';

/** Options that depend on the machine, resolved by the backend before generating. */
export interface SeatbeltOptions {
  /**
   * More read-only paths inside the writable roots: resolved `gitdir:` targets, a worktree's
   * common git directory, a `core.hooksPath`. Paths outside every writable root are ignored
   * (they are not writable anyway).
   */
  readonly extraProtectedPaths?: readonly string[];
  /** A fresh, private directory the command may write (exported as TMPDIR). */
  readonly tmpDir?: string;
  /**
   * Localhost proxy mode: with `network.mode === 'none'`, additionally allow outbound TCP to
   * these ports on localhost only (an allow-listing proxy listens there). Reserved for the
   * `proxied` network mode; nothing else opens.
   */
  readonly proxyPorts?: readonly number[];
  /**
   * Canonical paths no command may read (the policy's deny-read list, `~` expanded and resolved
   * by the backend): `(deny file-read* …)` after the read rules, so they win (last match wins).
   */
  readonly denyRead?: readonly string[];
}

/** Character devices a normal tool writes (never created or unlinked: data and ioctl only). */
export const DEVICE_WRITE_LITERALS = ['/dev/null', '/dev/zero', '/dev/tty', '/dev/dtracehelper'] as const;
/** `/dev/fd/N`, `/dev/stdout`… reopen descriptors the command already holds. */
export const DEVICE_WRITE_SUBPATHS = ['/dev/fd'] as const;
/** Pseudo-terminals for interactive tools (the command's own tty). */
export const DEVICE_WRITE_REGEXES = ['^/dev/ttys[0-9]+$'] as const;

/**
 * The mach services normal command-line tools need: user/group lookup (getpwuid), notifications
 * (time zone, locale), logging, the temporary-directory helper, and trust evaluation for TLS.
 * Deliberately absent: LaunchServices (`open -a` would start an app outside the sandbox), the
 * keychain (`com.apple.SecurityServer`, `securityd.xpc`: secrets), the pasteboard and the window
 * server.
 */
export const MACH_SERVICES = [
  'com.apple.bsd.dirhelper',
  'com.apple.logd',
  'com.apple.system.logger',
  'com.apple.system.notification_center',
  'com.apple.system.opendirectoryd.libinfo',
  'com.apple.system.opendirectoryd.membership',
  'com.apple.trustd.agent',
] as const;

/** Extra mach services for DNS resolution and network configuration (network profiles only). */
export const NETWORK_MACH_SERVICES = [
  'com.apple.dnssd.service',
  'com.apple.networkd',
  'com.apple.ocspd',
  'com.apple.SystemConfiguration.DNSConfiguration',
  'com.apple.SystemConfiguration.configd',
] as const;

/** Read-only sysctls that runtimes (node, python, go, the shell) query for CPU, memory and OS facts. */
export const SYSCTL_NAMES = [
  'hw.activecpu',
  'hw.byteorder',
  'hw.cachelinesize',
  'hw.cachelinesize_compat',
  'hw.cachesize',
  'hw.cpufamily',
  'hw.cpufrequency',
  'hw.cputype',
  'hw.l1dcachesize',
  'hw.l1icachesize',
  'hw.l2cachesize',
  'hw.l3cachesize',
  'hw.logicalcpu',
  'hw.logicalcpu_max',
  'hw.machine',
  'hw.memsize',
  'hw.model',
  'hw.ncpu',
  'hw.nperflevels',
  'hw.pagesize',
  'hw.pagesize_compat',
  'hw.physicalcpu',
  'hw.physicalcpu_max',
  'hw.tbfrequency',
  'hw.vectorunit',
  'kern.argmax',
  'kern.boottime',
  'kern.clockrate',
  'kern.hostname',
  'kern.iossupportversion',
  'kern.maxfiles',
  'kern.maxfilesperproc',
  'kern.maxproc',
  'kern.ngroups',
  'kern.osproductversion',
  'kern.osrelease',
  'kern.ostype',
  'kern.osvariant_status',
  'kern.osversion',
  'kern.secure_kernel',
  'kern.usrstack64',
  'kern.version',
  'machdep.cpu.brand_string',
  'machdep.ptrauth_enabled',
  'security.mac.lockdown_mode_state',
  'sysctl.proc_cputype',
  'sysctl.proc_translated',
  'vm.loadavg',
] as const;

/** sysctl name prefixes (read-only): CPU feature flags, perf levels, and this process's own entries. */
export const SYSCTL_PREFIXES = ['hw.optional.', 'hw.perflevel', 'kern.proc.pid.', 'machdep.cpu.'] as const;

const indent = (lines: readonly string[]) => lines.map((l) => `  ${l}`).join('\n');

/** The write rule for one root: the root, minus every protected path beneath it. */
function writableRule(root: string, protectedPaths: readonly string[]): string {
  const nots = protectedPaths.map((p) => `(require-not (subpath ${sbplString(p)}))`);
  if (nots.length === 0) return `(subpath ${sbplString(root)})`;
  return `(require-all\n    (subpath ${sbplString(root)})\n${nots.map((n) => `    ${n}`).join('\n')})`;
}

/**
 * Generates the Seatbelt (SBPL) profile that enforces `policy` on macOS. Pure: the same input
 * gives the same text (golden-tested). Paths must already be canonical (Seatbelt matches the
 * resolved path, e.g. `/private/var/…` rather than `/var/…`); the backend resolves them first.
 *
 * Shape: `(deny default)`, then process/signal rules confined to the sandbox, a fixed list of
 * sysctls and mach services, reads as the policy says, writes only inside the writable roots
 * with `require-not` for the protected paths, and the network as the policy says.
 */
export function generateSeatbeltProfile(policy: SandboxPolicy, options: SeatbeltOptions = {}): string {
  const out: string[] = [];
  out.push(`; codex seatbelt profile: ${policy.profile}`, '(version 1)', '(deny default)', '');

  out.push(
    '; processes: run and fork; inspect and signal only processes inside this sandbox',
    '(allow process-exec)',
    '(allow process-fork)',
    '(allow process-info* (target same-sandbox))',
    '(allow signal (target same-sandbox))',
    '',
  );

  out.push(
    '; sysctl: read-only, named values only',
    `(allow sysctl-read\n${indent([
      ...SYSCTL_NAMES.map((n) => `(sysctl-name ${sbplString(n)})`),
      ...SYSCTL_PREFIXES.map((n) => `(sysctl-name-prefix ${sbplString(n)})`),
    ])})`,
    '',
  );

  const networkOn = policy.network.mode === 'full';
  const mach = [...MACH_SERVICES, ...(networkOn ? NETWORK_MACH_SERVICES : [])].sort();
  out.push(
    '; mach services: a fixed list by name, never a wildcard',
    `(allow mach-lookup\n${indent(mach.map((n) => `(global-name ${sbplString(n)})`))})`,
    '',
    '; POSIX IPC (semaphores and shared memory: python multiprocessing, node workers)',
    '(allow ipc-posix-sem)',
    '(allow ipc-posix-shm-read-data ipc-posix-shm-write-data ipc-posix-shm-read-metadata ipc-posix-shm-write-create)',
    '(allow user-preference-read)',
    '',
  );

  out.push('; reads');
  if (policy.fullDiskRead) {
    out.push('(allow file-read*)');
  } else {
    out.push(
      '(allow file-read-metadata)',
      `(allow file-read*\n${indent(policy.readableRoots.map((r) => `(subpath ${sbplString(r)})`))})`,
    );
  }
  if (options.denyRead && options.denyRead.length > 0) {
    out.push(
      '; reads: secrets on the deny-read list (later rules win)',
      `(deny file-read*\n${indent([...options.denyRead].sort().map((p) => `(subpath ${sbplString(p)})`))})`,
    );
  }
  out.push('');

  out.push('; writes: devices (data only)');
  out.push(
    `(allow file-write-data file-ioctl\n${indent([
      ...DEVICE_WRITE_LITERALS.map((p) => `(literal ${sbplString(p)})`),
      ...DEVICE_WRITE_SUBPATHS.map((p) => `(subpath ${sbplString(p)})`),
      ...DEVICE_WRITE_REGEXES.map((p) => `(regex #${sbplString(p)})`),
    ])})`,
  );
  const extra = options.extraProtectedPaths ?? [];
  if (policy.fullDiskWrite) {
    out.push('; writes: everywhere (trusted)', '(allow file-write*)');
  } else if (policy.writableRoots.length > 0) {
    out.push(
      '; writes: the writable roots, minus the protected paths (.git, .codex, .agents, gitdir targets)',
    );
    for (const w of policy.writableRoots) {
      const prot = [
        ...new Set([...w.readOnlySubpaths, ...extra.filter((p) => isWithin(p, w.root) && p !== w.root)]),
      ].sort();
      out.push(`(allow file-write*\n  ${writableRule(w.root, prot)})`);
    }
  } else {
    out.push('; writes: none (read-only profile)');
  }
  if (options.tmpDir) {
    out.push(
      '; writes: the private temporary directory (TMPDIR) of this run',
      `(allow file-write* (subpath ${sbplString(options.tmpDir)}))`,
    );
  }
  out.push('');

  out.push('; network');
  if (networkOn) {
    out.push(
      '(allow network-outbound)',
      '(allow network-inbound)',
      '(allow network-bind)',
      '(allow system-socket)',
    );
  } else {
    out.push(
      '; none: Unix-domain sockets only',
      '(allow system-socket (socket-domain AF_UNIX))',
      '(allow network-bind (local unix-socket))',
      '(allow network-outbound (remote unix-socket))',
    );
    const ports = [...new Set(options.proxyPorts ?? [])].sort((a, b) => a - b);
    for (const port of ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad proxy port ${port}`);
    }
    if (ports.length > 0) {
      out.push(
        '; proxy mode: TCP to the local allow-listing proxy only',
        '(allow system-socket (socket-domain AF_INET) (socket-domain AF_INET6))',
        `(allow network-outbound\n${indent(ports.map((p) => `(remote ip ${sbplString(`localhost:${p}`)})`))})`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
