import type { AuditSink, EgressMethods, SandboxPolicy, SecurityProfile } from '@codex/security-profile';
import { EgressConfigError } from './errors.js';
import {
  type EgressDecision,
  type EgressLimits,
  type EgressProxy,
  type ListenTarget,
  type RefusedHost,
  startEgressProxy,
} from './proxy.js';
import type { Resolver, ResolverOptions } from './resolver.js';
import { normaliseHost } from './rules.js';

export interface EgressSessionOptions {
  readonly profile: SecurityProfile;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  readonly allowAddresses?: readonly string[];
  readonly methods: EgressMethods;
  readonly audit?: AuditSink;
  readonly resolver?: Resolver;
  readonly hosts?: ResolverOptions['hosts'];
  readonly sessionId?: string;
  readonly taskId?: string;
  readonly limits?: EgressLimits;
  readonly onDecision?: (decision: EgressDecision) => void;
}

export interface EgressRunOptions {
  /** The command, recorded in every audit entry of this run. */
  readonly command?: string;
  readonly listen?: { readonly http?: ListenTarget; readonly socks?: ListenTarget | null };
}

/**
 * The egress state of one agent session: the profile's lists, the audit sink, and what has been
 * refused so far. Each sandboxed command gets its own proxy from {@link EgressSession.startRun};
 * a host granted with {@link EgressSession.grantOnce} is allowed for the next run only.
 */
export interface EgressSession {
  readonly profile: SecurityProfile;
  /** Starts the proxy for one command; pending grants are handed to it and cleared. */
  startRun(options?: EgressRunOptions): Promise<EgressProxy>;
  /** Allows `host` for the next command only (an approval at the prompt). Deny-listed hosts stay refused. */
  grantOnce(host: string): void;
  /** Grants waiting for the next run. */
  pendingGrants(): string[];
  /** Refused hosts of the most recent run (for the one-line summary after a command). */
  refused(): RefusedHost[];
  /** Refused hosts of every run in this session, summed. */
  refusedInSession(): RefusedHost[];
  /** Decisions of the most recent run. */
  decisions(): EgressDecision[];
}

/** A session whose lists come from the options (see {@link egressSessionFor} for a policy). */
export function createEgressSession(options: EgressSessionOptions): EgressSession {
  let pending = new Set<string>();
  let last: EgressProxy | null = null;
  const totals = new Map<string, RefusedHost>();
  const fold = (run: EgressProxy) => {
    for (const r of run.refused()) {
      const key = `${r.host}:${r.port ?? ''}`;
      const prev = totals.get(key);
      totals.set(key, prev ? { ...prev, count: prev.count + r.count } : r);
    }
  };
  return {
    profile: options.profile,
    async startRun(run = {}) {
      if (last) fold(last);
      const grants = [...pending];
      pending = new Set();
      const proxy = await startEgressProxy({
        profile: options.profile,
        allow: options.allow,
        deny: options.deny,
        allowAddresses: options.allowAddresses ?? [],
        methods: options.methods,
        grants,
        ...(options.resolver ? { resolver: options.resolver } : {}),
        ...(options.hosts ? { hosts: options.hosts } : {}),
        ...(options.audit ? { audit: options.audit } : {}),
        ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}),
        ...(options.taskId !== undefined ? { taskId: options.taskId } : {}),
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.onDecision ? { onDecision: options.onDecision } : {}),
        ...(run.command !== undefined ? { command: run.command } : {}),
        ...(run.listen ? { listen: run.listen } : {}),
      });
      last = proxy;
      return proxy;
    },
    grantOnce(host) {
      const n = normaliseHost(host);
      if (n === null) throw new EgressConfigError(`grant: "${host}" is not a host name or IP literal`);
      pending.add(n);
    },
    pendingGrants: () => [...pending],
    refused: () => last?.refused() ?? [],
    refusedInSession() {
      const all = new Map(totals);
      for (const r of last?.refused() ?? []) {
        const key = `${r.host}:${r.port ?? ''}`;
        const prev = all.get(key);
        all.set(key, prev ? { ...prev, count: prev.count + r.count } : r);
      }
      return [...all.values()].sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
    },
    decisions: () => last?.decisions() ?? [],
  };
}

/**
 * A session for a sandbox policy whose network mode is `proxied` (its lists, methods and address
 * exceptions). Throws {@link EgressConfigError} for any other mode: there is nothing to proxy.
 */
export function egressSessionFor(
  policy: SandboxPolicy,
  extra: Omit<EgressSessionOptions, 'profile' | 'allow' | 'deny' | 'allowAddresses' | 'methods'> = {},
): EgressSession {
  const n = policy.network;
  if (n.mode !== 'proxied') {
    throw new EgressConfigError(`profile ${policy.profile} has network mode "${n.mode}", not "proxied"`);
  }
  return createEgressSession({
    profile: policy.profile,
    allow: n.allow,
    deny: n.deny,
    allowAddresses: n.allowAddresses,
    methods: n.methods,
    ...extra,
  });
}

/** One line for humans after a command: `egress refused 2 hosts: evil.test:443 (×3, not-allowed; grantable), …`. */
export function summarizeRefused(refused: readonly RefusedHost[]): string | null {
  if (refused.length === 0) return null;
  const parts = refused.map(
    (r) =>
      `${r.port === null ? r.host : `${r.host}:${r.port}`} (${r.count > 1 ? `×${r.count}, ` : ''}${r.rule}${r.grantable ? '; grantable' : ''})`,
  );
  return `egress refused ${refused.length} host${refused.length > 1 ? 's' : ''}: ${parts.join(', ')}`;
}
