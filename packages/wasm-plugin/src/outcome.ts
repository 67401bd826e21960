import {
  CapabilityDeniedError,
  FuelExhaustedError,
  MemoryLimitError,
  OutputLimitError,
  PluginHostError,
  PluginTrapError,
  TimeoutError,
  type WasmPluginError,
} from './errors.js';
import type { PluginLimits } from './limits.js';
import type { RunOutcome } from './workers.js';

/** The typed error for a run that did not end in an exit, or undefined for an exit. */
export function outcomeError(
  label: string,
  limits: PluginLimits,
  outcome: RunOutcome,
): WasmPluginError | undefined {
  if (outcome.kind === 'timeout')
    return new TimeoutError(label, limits.timeoutMs, outcome.stoppedAfterDeadlineMs);
  if (outcome.kind === 'crash') return new PluginHostError(label, outcome.message);
  const o = outcome.result.outcome;
  switch (o.kind) {
    case 'exit':
      return undefined;
    case 'fuel':
      return new FuelExhaustedError(label, limits.fuel);
    case 'memory':
      return new MemoryLimitError(label, limits.memoryBytes, 'memory.grow beyond the cap was refused');
    case 'capability':
      return new CapabilityDeniedError(label, o.capability, `not granted (called ${o.detail})`);
    case 'output':
      return new OutputLimitError(label, limits.maxOutputBytes);
    case 'trap':
      return new PluginTrapError(label, o.message);
    case 'deadline':
      return new TimeoutError(label, limits.timeoutMs, 0);
    case 'host-error':
      return new PluginHostError(label, o.message);
  }
}
