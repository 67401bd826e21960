import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EgressProxy, EgressSession } from '@codex/egress';
import type { Assessment, SandboxRequest } from '@codex/sandbox-contract';
import { UnsupportedPolicyError } from '@codex/sandbox-contract';
import type { SandboxPolicy } from '@codex/security-profile';

/** Ports the helper's forwarder listens on inside the sandbox's own network namespace. */
export const EGRESS_HTTP_PORT = 3128;
export const EGRESS_SOCKS_PORT = 1080;

/** A request that may carry the session's egress state (`proxied` profiles). */
export interface EgressSandboxRequest extends SandboxRequest {
  /**
   * The session the run's proxy comes from (its lists, audit sink, grants, refused hosts).
   * Without it a session is made from the policy for this one run (no audit sink).
   */
  readonly egress?: EgressSession;
}

export interface EgressBridge {
  /** The proxy serving this run (decisions, refused hosts). */
  readonly proxy: EgressProxy;
  /**
   * The helper's `--forward` specs: loopback ports in the sandbox's network namespace joined to
   * the proxy's Unix sockets (see native/codex-sandbox-helper.c).
   */
  readonly forwards: readonly string[];
  /** Proxy variables for the command's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Paths the sandbox must see (the directory of the proxy's sockets). */
  readonly binds: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts the run's proxy on two Unix sockets in a fresh private directory and returns what the
 * helper forwards into the sandbox, plus the proxy environment. The caller must run the command
 * in a new network namespace (bubblewrap `--unshare-net`): otherwise the command would have the
 * host's network and the proxy would be advisory; {@link requireNetns} checks it.
 */
export async function startEgressBridge(
  request: EgressSandboxRequest,
  mechanisms: readonly string[],
): Promise<EgressBridge> {
  requireNetns(request.policy, mechanisms);
  // Imported here, not at the top: a run without a proxied profile never loads the proxy.
  const { egressSessionFor, proxyEnvironment } = await import('@codex/egress');
  const session = request.egress ?? egressSessionFor(request.policy);
  const dir = mkdtempSync(join(tmpdir(), 'codex-egress-'));
  const httpSock = join(dir, 'http.sock');
  const socksSock = join(dir, 'socks.sock');
  let proxy: EgressProxy;
  try {
    proxy = await session.startRun({
      command: request.command.join(' '),
      listen: { http: { path: httpSock }, socks: { path: socksSock } },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    proxy,
    forwards: [`127.0.0.1:${EGRESS_HTTP_PORT}=${httpSock}`, `127.0.0.1:${EGRESS_SOCKS_PORT}=${socksSock}`],
    env: proxyEnvironment({
      httpUrl: `http://127.0.0.1:${EGRESS_HTTP_PORT}`,
      socksUrl: `socks5h://127.0.0.1:${EGRESS_SOCKS_PORT}`,
    }),
    binds: [dir],
    async close() {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The assessment of a `proxied` policy: its `network` guarantee (no direct network) holds only
 * with bubblewrap's private network namespace. Without one it is reported unenforced, and
 * {@link requireNetns} refuses the run whatever `allowDegraded` says.
 */
export function assessProxied(policy: SandboxPolicy, a: Assessment): Assessment {
  if (policy.network.mode !== 'proxied' || a.skipped) return a;
  if (a.mechanisms.includes('bwrap')) {
    return { ...a, enforced: { ...a.enforced, network: ['bwrap'] } };
  }
  const { network: _dropped, ...enforced } = a.enforced;
  return {
    ...a,
    full: false,
    enforced,
    missing: [...a.missing, 'network'],
    unenforced: [...a.unenforced, 'network'],
    notes: [
      ...a.notes,
      'network: proxied needs a private network namespace (bubblewrap); this rung refuses to run it',
    ],
  };
}

/**
 * `proxied` is only real when the command has its own, empty network namespace: the only
 * mechanism here that gives one is bubblewrap. Every other rung is refused (fail closed).
 */
export function requireNetns(policy: SandboxPolicy, mechanisms: readonly string[]): void {
  if (policy.network.mode === 'proxied' && !mechanisms.includes('bwrap')) {
    throw new UnsupportedPolicyError(
      `profile ${policy.profile} sends the network through the egress proxy, which needs a private network namespace (bubblewrap); this rung has none`,
    );
  }
}
