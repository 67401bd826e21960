import type { Assessment, CapturedRun, ObservedDenial, SandboxResult } from './contract.js';
import { findObservedDenials } from './denials.js';

/**
 * The {@link SandboxResult} of a run, as every backend reports it: what the launch captured plus
 * the assessment it ran under, the variables env hygiene removed, the denials seen (default:
 * {@link findObservedDenials} on stderr) and how the process count was limited.
 */
export function assembleResult(
  run: CapturedRun,
  o: {
    readonly assessment: Assessment;
    readonly strippedEnv: readonly string[];
    readonly processLimit: string;
    readonly observedDenials?: readonly ObservedDenial[];
  },
): SandboxResult {
  return {
    ...run,
    assessment: o.assessment,
    strippedEnv: o.strippedEnv,
    observedDenials: o.observedDenials ?? findObservedDenials(run.stderr),
    processLimit: o.processLimit,
  };
}
