import { createPolicyEngine, type EvaluationContext, type PolicyEngine } from '../src/index.js';

export const WS = '/home/me/proj';

export function ctx(profile: string, extra: Partial<EvaluationContext> = {}): EvaluationContext {
  return { profile, cwd: WS, workspaceRoots: [WS], home: '/home/me', platform: 'linux', ...extra };
}

let engine: Promise<PolicyEngine> | undefined;
export function defaultEngine(): Promise<PolicyEngine> {
  engine ??= createPolicyEngine();
  return engine;
}
