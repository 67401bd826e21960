import type { PolicyEngine, PolicyEngineOptions } from '@codex/execpolicy';
import { collectPolicyLayers, type LayerSources } from './layers.js';

/**
 * A policy engine over every layer {@link collectPolicyLayers} finds (saved approvals included).
 * Its bash parser loads on demand (use `evaluateAsync`): argv and plain scripts never pay for it.
 */
export async function createEngine(
  sources: LayerSources,
  options: Pick<PolicyEngineOptions, 'beforeParserLoad'> = {},
): Promise<PolicyEngine> {
  const layers = await collectPolicyLayers(sources);
  const { createPolicyEngine } = await import('@codex/execpolicy');
  return createPolicyEngine({ layers, parser: 'on-demand', ...options });
}
