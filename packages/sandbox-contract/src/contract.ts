/**
 * The OS-neutral sandbox backend contract, shared by `@codex/sandbox-linux`, `@codex/sandbox-macos`
 * and `@codex/sandbox-windows`. It imports only types and pure data from `@codex/security-profile` and no
 * `node:` module, so every backend can depend on it without depending on another backend.
 */
import type { SandboxPolicy, SecurityProfile } from '@codex/security-profile';
import { InvalidRungError } from './errors.js';

/** What a sandbox mechanism can guarantee. */
export const GUARANTEES = [
  /** Writes outside the writable roots fail. */
  'filesystem-write',
  /**
   * `.codex`, `.agents` and everything of git that can run code (config, hooks, `core.hooksPath`,
   * includes, submodule git dirs, `info/attributes`) stay read-only inside writable roots, and
   * cannot be created when missing.
   */
  'protected-paths',
  /** No socket other than a Unix socket can reach anything (offline profiles). */
  'network',
  /** TCP bind/connect only (Landlock ABI ≥ 4): weaker than `network`. */
  'network-tcp',
  /** An empty, private `/tmp` discarded on exit. */
  'private-tmp',
  /** Dangerous system calls (ptrace, mount, unshare, bpf, io_uring…) fail. */
  'syscall-filter',
  /** The command cannot see or signal processes outside the sandbox. */
  'process-isolation',
  /** A fork bomb is contained by a process-count limit. */
  'process-limit',
  // -- issue 16 --
  /** The deny-read list (`~/.ssh`, cloud credentials, keyrings…) cannot be read. */
  'secrets',
  /** Unix sockets of host services (/run, /tmp: container engine, D-Bus, tmux, agents) are unreachable. */
  'host-sockets',
  /** Metadata (chmod, chown, utimes, xattrs) cannot change outside the writable roots. */
  'metadata',
] as const;
export type Guarantee = (typeof GUARANTEES)[number];

/** Guarantees without which a non-trusted profile is not enforced at all (fail-closed). */
export const HARD_GUARANTEES: readonly Guarantee[] = ['filesystem-write', 'protected-paths', 'network'];

/** One enforcement mechanism of a backend (bubblewrap, Landlock, Seatbelt, AppContainer…). */
export interface MechanismStatus {
  readonly id: string;
  readonly label: string;
  readonly available: boolean;
  /** Why it is available (version, ABI) or why not (missing binary, kernel, permission). */
  readonly reason: string;
  /** What it enforces when it is part of the selected rung. */
  readonly provides: readonly Guarantee[];
  readonly details?: Readonly<Record<string, string | number | boolean | null>>;
}

/** One rung of the degradation chain: a named combination of mechanisms. */
export interface RungStatus {
  readonly id: string;
  readonly label: string;
  readonly mechanisms: readonly string[];
  readonly available: boolean;
  /** Mechanisms of this rung that are not available here. */
  readonly missing: readonly string[];
  /** A single-layer rung that exists for diagnostics and tests; never selected automatically. */
  readonly diagnostic?: boolean;
}

/** What `probe()` returns and `codex sandbox status` prints. */
export interface BackendStatus {
  readonly backend: string;
  readonly platform: string;
  readonly mechanisms: readonly MechanismStatus[];
  /** Strongest first. The first rung is "full isolation" for this backend. */
  readonly rungs: readonly RungStatus[];
  /** The strongest available rung. */
  readonly best: string;
  /** A rung forced by the environment switch for tests, if any. */
  readonly forced: string | null;
  /** The rung a run uses by default: `forced` or `best`. */
  readonly selected: string;
  /** Why a mechanism cannot work on this host (e.g. user namespaces blocked) and the exact fix. */
  readonly diagnosis?: readonly HostDiagnosisEntry[];
}

export interface HostDiagnosisEntry {
  readonly mechanism: string;
  /** Stable identifier (`apparmor-userns`, `max-user-namespaces`…). */
  readonly cause: string;
  readonly message: string;
  readonly fix: string;
}

/** What a rung does and does not enforce for one policy. */
export interface Assessment {
  readonly profile: SecurityProfile;
  readonly backend: string;
  readonly rung: string;
  readonly mechanisms: readonly string[];
  /** Guarantee → mechanisms that enforce it in this rung. */
  readonly enforced: Readonly<Partial<Record<Guarantee, readonly string[]>>>;
  /** Guarantees the policy needs. */
  readonly required: readonly Guarantee[];
  /** Required guarantees that nothing in this rung enforces. */
  readonly missing: readonly Guarantee[];
  /** Required hard guarantees missing: the profile is not enforced (refuse unless allowDegraded). */
  readonly unenforced: readonly Guarantee[];
  /** The rung is the backend's strongest (first) rung. */
  readonly full: boolean;
  /** The policy asks for no sandbox (`trusted`, explicitly). */
  readonly skipped: boolean;
  /** Human-readable lines: what is weaker than full isolation and why. */
  readonly notes: readonly string[];
}

export type OutputStream = 'stdout' | 'stderr';

export interface SandboxRequest {
  readonly policy: SandboxPolicy;
  /** argv; the first element is looked up in PATH. */
  readonly command: readonly string[];
  /** Working directory (default: the process cwd). */
  readonly cwd?: string;
  /** Environment before hygiene (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Secret-stripping rules; `false` passes the environment untouched. */
  readonly envHygiene?: EnvHygieneOptions | false;
  /** Kill the whole tree after this many ms (default 600 000). */
  readonly timeoutMs?: number;
  /** Keep at most this many bytes of each stream (default 1 MiB); the rest is drained and dropped. */
  readonly maxOutputBytes?: number;
  /** Process-count limit for the whole sandbox (default 256). */
  readonly maxProcesses?: number;
  readonly stdin?: 'ignore' | 'inherit';
  /** Called with each kept chunk, for live output. */
  readonly onOutput?: (stream: OutputStream, chunk: Uint8Array) => void;
  readonly signal?: AbortSignal;
  /** Use this rung instead of the selected one (tests, `--rung`). */
  readonly rung?: string;
  /** Run even when hard guarantees are missing (the caller must audit this choice). */
  readonly allowDegraded?: boolean;
  /** Refuse unless the strongest rung is used. */
  readonly requireFullIsolation?: boolean;
  /**
   * The command starts only once this promise fulfils. A backend may set the sandbox up in the
   * meantime (Linux launches bubblewrap and applies every layer, then waits), so a caller can
   * overlap the launch with its own decision. When it rejects, nothing runs: `run` rejects with
   * that reason. The timeout counts from the start of the command.
   */
  readonly startWhen?: Promise<unknown>;
}

/** The environment is passed by allow-list: the core set plus `allow`; everything else is dropped. */
export interface EnvHygieneOptions {
  /** More variables to pass (exact names or `PREFIX*`), e.g. config `sandbox.env_allow`. */
  readonly allow?: readonly string[];
  /** Replaces the documented core set (`DEFAULT_ENV_ALLOW` of @codex/security-profile). */
  readonly core?: readonly string[];
}

/** A denial visible in the command's output (EPERM/EACCES, EROFS, network unreachable…). */
export interface ObservedDenial {
  readonly kind: 'permission' | 'read-only-filesystem' | 'network' | 'process-limit' | 'secret-read';
  /** The matching output line, trimmed. */
  readonly evidence: string;
}

/** What running a process produced: exit status, kept output, time. */
export interface CapturedRun {
  /** `null` when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  readonly timedOut: boolean;
  readonly durationMs: number;
}

export interface SandboxResult extends CapturedRun {
  readonly assessment: Assessment;
  /** Environment variable names removed by hygiene. */
  readonly strippedEnv: readonly string[];
  readonly observedDenials: readonly ObservedDenial[];
  /** How the process count was limited (`cgroup-v1`, `cgroup-v2`, `rlimit`, or `none`). */
  readonly processLimit: string;
}

/** Every OS backend implements this. */
export interface SandboxBackend {
  readonly id: string;
  /** Probes the machine (cached); never throws for a missing mechanism, reports it. */
  probe(options?: { readonly refresh?: boolean }): Promise<BackendStatus>;
  /** What `rung` (default: the selected one) enforces for `policy`. */
  assess(policy: SandboxPolicy, status: BackendStatus, rung?: string): Assessment;
  /**
   * Runs the command in the sandbox. Throws (typed `CodexError`s) before spawning when the policy
   * cannot be enforced and `allowDegraded` is not set, or when full isolation is required and not
   * available; otherwise resolves with the result, whatever the exit code.
   */
  run(request: SandboxRequest): Promise<SandboxResult>;
}

/** Guarantees a policy needs (none when the sandbox is skipped). */
export function requiredGuarantees(policy: SandboxPolicy): Guarantee[] {
  if (policy.skipSandbox) return [];
  const out: Guarantee[] = [];
  if (!policy.fullDiskWrite) out.push('filesystem-write');
  if (policy.writableRoots.some((w) => w.readOnlySubpaths.length > 0)) out.push('protected-paths');
  if (policy.network.mode === 'none') out.push('network');
  if (policy.privateTmp) out.push('private-tmp');
  out.push('syscall-filter', 'process-isolation', 'process-limit');
  // An absent list means the built-in one.
  if (policy.denyRead === undefined || policy.denyRead.length > 0) out.push('secrets');
  out.push('host-sockets');
  if (!policy.fullDiskWrite) out.push('metadata');
  return out;
}

/** The rung `rungId` of `status`; an unknown one is an {@link InvalidRungError} naming those there are. */
export function findRung(status: BackendStatus, rungId: string): RungStatus {
  const rung = status.rungs.find((r) => r.id === rungId);
  if (rung) return rung;
  throw new InvalidRungError(
    `unknown rung "${rungId}"; use one of ${status.rungs.map((r) => r.id).join(', ')}`,
  );
}

/**
 * Generic assessment: which mechanisms of `rung` enforce each guarantee `policy` needs.
 * Backends may call this and add their own notes.
 */
export function assessRung(policy: SandboxPolicy, status: BackendStatus, rungId: string): Assessment {
  const rung = findRung(status, rungId);
  const skipped = policy.skipSandbox;
  const mechanisms = skipped ? [] : rung.mechanisms.filter((m) => !rung.missing.includes(m));
  const enforced: Partial<Record<Guarantee, string[]>> = {};
  for (const id of mechanisms) {
    const m = status.mechanisms.find((x) => x.id === id);
    for (const g of m?.provides ?? []) {
      enforced[g] = [...(enforced[g] ?? []), id];
    }
  }
  const required = requiredGuarantees(policy);
  const missing = required.filter((g) => !enforced[g]);
  const unenforced = missing.filter((g) => HARD_GUARANTEES.includes(g));
  const notes: string[] = [];
  for (const id of rung.missing) {
    const m = status.mechanisms.find((x) => x.id === id);
    notes.push(`${m?.label ?? id} unavailable: ${m?.reason ?? 'not probed'}`);
  }
  const best = status.rungs[0];
  if (!skipped && best && rung.id !== best.id) {
    const dropped = best.mechanisms.filter((m) => !mechanisms.includes(m));
    if (dropped.length > 0) notes.push(`rung "${rung.id}" runs without: ${dropped.join(', ')}`);
  }
  for (const g of missing) {
    if (g === 'network' && enforced['network-tcp']) {
      notes.push('network: only TCP bind/connect is denied (Landlock); UDP and raw sockets are not');
    } else {
      notes.push(`${g}: not enforced in rung "${rung.id}"`);
    }
  }
  return {
    profile: policy.profile,
    backend: status.backend,
    rung: skipped ? 'none' : rung.id,
    mechanisms,
    enforced,
    required,
    missing,
    unenforced,
    full: !skipped && best?.id === rung.id && rung.available,
    skipped,
    notes: skipped ? ['sandbox skipped: trusted profile chosen explicitly'] : notes,
  };
}

/** One line naming the rung and the mechanisms that enforced it, for stderr and audit reasons. */
export function describeAssessment(a: Assessment): string {
  if (a.skipped) return `profile ${a.profile}: no sandbox (trusted, explicitly chosen)`;
  const mech = a.mechanisms.length > 0 ? a.mechanisms.join('+') : 'nothing';
  const weak = a.missing.length > 0 ? `; NOT enforced: ${a.missing.join(', ')}` : '';
  return `profile ${a.profile}: ${a.backend} sandbox, rung "${a.rung}" (${mech})${weak}`;
}
