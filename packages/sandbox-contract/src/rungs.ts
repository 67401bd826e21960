// What every backend shares about rungs and runs: the switch that forces a rung, its parsing,
// and the default limits.
import { InvalidRungError } from './errors.js';

/** Environment switch that forces a rung (tests, diagnostics); the same name on every backend. */
export const FORCE_RUNG_ENV = 'CODEX_SANDBOX_RUNG';

/** A sandboxed run's default wall-clock limit (10 minutes), on every backend and in every report. */
export const DEFAULT_TIMEOUT_MS = 600_000;

/** How much of each of stdout and stderr a run keeps by default (1 MiB); the rest is cut and flagged. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * The rung `CODEX_SANDBOX_RUNG` forces, or `null` when it is unset or blank. A name that is not
 * one of `rungs` is an {@link InvalidRungError} naming the valid ones; `system` (`Linux`, `macOS`,
 * `Windows`) says whose rungs they are.
 */
export function forcedRung(
  env: Readonly<Record<string, string | undefined>>,
  rungs: readonly { readonly id: string }[],
  system: string,
): string | null {
  const forced = env[FORCE_RUNG_ENV]?.trim() || null;
  if (forced !== null && !rungs.some((r) => r.id === forced)) {
    throw new InvalidRungError(
      `${FORCE_RUNG_ENV}="${forced}" is not a ${system} rung; use one of ${rungs.map((r) => r.id).join(', ')}`,
    );
  }
  return forced;
}
