// The standard agents for a queue worker (`codex worker`), one set per profile a task runs under.
// The queue package is not a dependency of core: the worker passes its own registry class, and
// agents register on it as they do on a supervisor.
import type { SecurityProfile } from '@codex/security-profile';
import type { Supervisor } from '@codex/supervisor';
import type { AgentOptions } from './agents.js';

/** A registry agents register on (`AgentRegistry` of `@codex/supervisor-queue`) and tasks look up. */
export interface AgentRegistryLike<A> {
  get(type: string): A | undefined;
}

/** The agents of one profile, as a queue worker uses them: look one up by type; close them all. */
export interface ProfileAgentSet<A> {
  get(type: string): A | undefined;
  close(): Promise<void>;
}

/**
 * For each profile, the standard guarded agents (as `codex supervise` runs them in-process),
 * registered on a fresh registry from `newRegistry`. The agents are loaded on first use.
 */
export function standardAgentsFor<A>(
  options: Omit<AgentOptions, 'profile'>,
  newRegistry: () => AgentRegistryLike<A>,
): (profile: SecurityProfile) => Promise<ProfileAgentSet<A>> {
  return async (profile) => {
    const { createStandardAgents } = await import('./agents.js');
    const agents = createStandardAgents({ ...options, profile });
    const registry = newRegistry();
    // The registry has the supervisor's register(type, handler, { input }), which is all agents use.
    agents.register(registry as unknown as Supervisor);
    return { get: (type) => registry.get(type), close: () => agents.close() };
  };
}
