import type {
  Assessment,
  BackendStatus,
  SandboxBackend,
  SandboxRequest,
  SandboxResult,
} from '@codex/sandbox-contract';
import { SandboxSetupError } from '@codex/sandbox-contract';
import type { SandboxPolicy } from '@codex/security-profile';
import { probeLinux } from './probe.js';
import { invalidateProbeCache } from './probe-cache.js';
import { assessLinux, runLinux } from './run.js';

/**
 * The Linux backend: bubblewrap + Landlock + seccomp-BPF + cgroup pids, degrading rung by rung
 * and reporting it. `env` overrides the environment used for probing (e.g. CODEX_SANDBOX_RUNG).
 */
export function createLinuxSandbox(options: { readonly env?: NodeJS.ProcessEnv } = {}): SandboxBackend {
  const probeEnv = options.env;
  const get = (refresh = false) =>
    probeLinux({ ...(refresh ? { refresh } : {}), ...(probeEnv ? { env: probeEnv } : {}) });
  return {
    id: 'linux',
    async probe(o = {}): Promise<BackendStatus> {
      return (await get(o.refresh === true)).status;
    },
    assess(policy: SandboxPolicy, status: BackendStatus, rung?: string): Assessment {
      return assessLinux(policy, status, rung);
    },
    async run(request: SandboxRequest): Promise<SandboxResult> {
      try {
        return await runLinux(request, await get());
      } catch (error) {
        // A launch that failed to set up may mean the cached probe is stale: look again next time.
        if (error instanceof SandboxSetupError) {
          invalidateProbeCache(probeEnv);
          void get(true).catch(() => {});
        }
        throw error;
      }
    },
  };
}

/** The default backend instance (probes `process.env`). */
export const linuxSandbox: SandboxBackend = createLinuxSandbox();
