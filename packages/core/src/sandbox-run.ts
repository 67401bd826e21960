// `codex sandbox run` without the terminal: one command in the OS sandbox only (no exec policy),
// and the choice to run weaker than the profile (--allow-degraded) always audited.
import type {
  Assessment,
  BackendStatus,
  SandboxBackend,
  SandboxRequest,
  SandboxResult,
} from '@codex/sandbox-contract';
import type { CodexConfig, SandboxPolicy, SecurityProfile } from '@codex/security-profile';
import { exitCodeOf } from './guarded.js';

export interface SandboxOnlyOptions extends SandboxRequest {
  readonly backend: SandboxBackend;
  /** The profile the policy was made from (named in the audit entry of a degraded run). */
  readonly profile: SecurityProfile;
  /** Where a degraded run is audited: the config's `[audit]` under `codexHome`. */
  readonly config: CodexConfig;
  readonly codexHome: string;
  /** The rung and its weaknesses, before the command starts. */
  readonly onAssessment?: ((assessment: Assessment) => void) | undefined;
}

/**
 * Runs `command` in the sandbox alone. A run that the rung does not fully enforce (only with
 * `allowDegraded`) is written to the audit log with its exit code. Refusals throw `SANDBOX_*`.
 */
export async function runSandboxOnly(options: SandboxOnlyOptions): Promise<SandboxResult> {
  const { backend, profile, config, codexHome, onAssessment, ...request } = options;
  const a = backend.assess(request.policy, await backend.probe(), request.rung);
  onAssessment?.(a);
  const r = await backend.run(request);
  if (request.allowDegraded && r.assessment.unenforced.length > 0) {
    const target = request.command.join(' ');
    await auditDegraded(
      { config, codexHome, env: request.env ?? process.env, profile, target },
      r.assessment,
      exitCodeOf(r),
    );
  }
  return r;
}

async function auditDegraded(
  o: {
    config: CodexConfig;
    codexHome: string;
    env: Readonly<Record<string, string | undefined>>;
    profile: SecurityProfile;
    target: string;
  },
  a: Assessment,
  exit: number,
): Promise<void> {
  const { createAuditLoggerFromConfig } = await import('@codex/audit');
  const audit = createAuditLoggerFromConfig(o.config.audit, {
    home: o.codexHome,
    env: o.env,
    flushIntervalMs: 0,
  });
  try {
    await audit.log({
      profile: o.profile,
      agent_type: 'codex-sandbox-run',
      operation: 'process_spawn',
      target: o.target,
      decision: 'allowed',
      reason: `--allow-degraded: ran under profile ${o.profile} with rung ${a.rung} (${a.mechanisms.join('+') || 'nothing'}), which does NOT enforce ${a.unenforced.join(', ')}: exit ${exit}`,
    });
  } finally {
    await audit.close();
  }
}

/** The secrets on this host that `policy` masks (Linux resolves them; elsewhere the policy's list). */
export async function maskedSecretPaths(policy: SandboxPolicy): Promise<string[]> {
  if (process.platform !== 'linux') return [...(policy.denyRead ?? [])];
  const { secretsToMask } = await import('@codex/sandbox-linux');
  return secretsToMask(policy).map((m) => m.path);
}

/** What `codex sandbox status` reports: the backend probed afresh, what `policy` gets, the masked secrets. */
export interface SandboxStatus {
  /** Every mechanism and rung, probed again now (the probe cache is refreshed). */
  readonly status: BackendStatus;
  /** The rung `policy` gets here (or the forced `rung`), and what it leaves unenforced. */
  readonly effective: Assessment;
  readonly masked: string[];
}

/** Probes `backend` again and assesses `policy` on it (`rung` forces one, as a run would). */
export async function sandboxStatus(
  backend: SandboxBackend,
  policy: SandboxPolicy,
  rung?: string,
): Promise<SandboxStatus> {
  const status = await backend.probe({ refresh: true });
  const effective = backend.assess(policy, status, rung);
  return { status, effective, masked: await maskedSecretPaths(policy) };
}
