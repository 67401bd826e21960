import {
  type Assessment,
  assessRung,
  type BackendStatus,
  describeAssessment,
  findRung,
  type SandboxRequest,
} from './contract.js';
import {
  InvalidCommandError,
  InvalidRungError,
  SandboxDegradedError,
  SandboxUnavailableError,
  UnsupportedPolicyError,
} from './errors.js';

export interface AdmitOptions {
  /** Network modes the backend can enforce (default: `none` and `full`). */
  readonly networkModes?: readonly string[];
}

/**
 * The fail-closed gate every backend runs before spawning: the network mode is understood, the
 * command is not empty, the rung exists and can run here, full isolation is there when required,
 * and every hard guarantee is enforced unless `allowDegraded` is set. Returns the assessment;
 * throws a typed error otherwise (the command must not run).
 */
export function admit(
  request: SandboxRequest,
  status: BackendStatus,
  options: AdmitOptions = {},
): Assessment {
  const { policy } = request;
  const modes = options.networkModes ?? ['none', 'full'];
  const mode = (policy.network as { mode: string }).mode;
  if (!modes.includes(mode)) {
    throw new UnsupportedPolicyError(
      `network mode "${mode}" is not supported by the ${status.backend} backend`,
    );
  }
  if (request.command.length === 0 || !request.command[0]) throw new InvalidCommandError('empty command');
  const rungId = request.rung ?? status.selected;
  const rung = findRung(status, rungId);
  if (!policy.skipSandbox && !rung.available) {
    throw new InvalidRungError(
      `rung "${rung.id}" cannot run here: ${rung.missing.join(', ')} unavailable (see codex sandbox status)`,
    );
  }
  const a = assessRung(policy, status, rung.id);
  if (a.skipped) return a;
  if (request.requireFullIsolation && !a.full) {
    const best = status.rungs[0]!;
    throw new SandboxDegradedError(
      `full isolation is required but ${describeAssessment(a)}; missing: ${
        best.missing.join(', ') || `rung "${rung.id}" instead of "${best.id}"`
      }`,
      rung.id,
      best.missing,
    );
  }
  if (a.unenforced.length > 0 && !request.allowDegraded) {
    throw new SandboxUnavailableError(
      `profile ${policy.profile} cannot be enforced with rung "${rung.id}": nothing here enforces ${a.unenforced.join(
        ', ',
      )}; refusing (pass --allow-degraded to run anyway, which is audited)`,
      rung.id,
      a.unenforced,
    );
  }
  return a;
}

/** Picks the rung a probe selects: `forced` when valid, otherwise the first available non-diagnostic rung. */
export function selectRung(
  rungs: readonly { readonly id: string; readonly available: boolean; readonly diagnostic?: boolean }[],
  forced: string | null,
  fallback: string,
): { best: string; selected: string } {
  const best = rungs.find((r) => r.available && !r.diagnostic)?.id ?? fallback;
  return { best, selected: forced ?? best };
}
