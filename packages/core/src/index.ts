import type { Logger } from '@codex/supervisor';
import type { PluginRunResult } from '@codex/wasm-plugin';
import type { AgentOptions, Agents, GuardedSessionOptions } from './agents.js';
import type { GuardedOnceOptions } from './exec-once.js';
import type { GuardedCommand, GuardedResult } from './guarded.js';
import type { PermissionProxyOptions, PermissionProxyRun } from './mcp-proxy.js';
import type { GuardedShell, GuardedShellOptions, ServeGuardedShellOptions } from './mcp-serve.js';
import type { PluginOnceOptions } from './plugin-once.js';
import type {
  GuardedWorkerOptions,
  GuardedWorkerStart,
  QueueEngineModule,
  QueueKeySource,
  QueueModuleLike,
} from './queue.js';
import type { OpenedResearchProvider, ResearchProviderOptions } from './research.js';
import type { PlanEngine, PlanRun, PlanRunOptions } from './supervise.js';
import type { WorkerGuard, WorkerGuardOptions } from './worker-guard.js';

export {
  APPROVAL_MODES,
  type ApprovalMode,
  DEFAULT_APPROVAL_MODE,
  parseApprovalMode,
} from '@codex/security-profile';
export { approvalPrefix, MAX_APPROVAL_WORDS, type SavedApproval, saveApproval } from './approvals.js';
export { backendForPlatform } from './backend.js';
export { type CheckCommandOptions, checkCommand } from './check.js';
export {
  codexHome,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  resolveWorkspace,
  type Workspace,
} from './config.js';
export {
  AGENT_ONLY_KEYS,
  applyOverrides,
  profileForSandboxMode,
  SANDBOX_MODES,
  translateOriginalConfig,
} from './config-compat.js';
export {
  APPROVAL_ENV,
  effectiveApprovalMode,
  effectiveProfile,
  type ProfileChoice,
  type ProfileSource,
  resolveSettings,
  type Settings,
  type SettingsChoice,
} from './effective.js';
export { createEngine } from './engine.js';
export { AgentRunError, ApprovalsError, CwdOutsideWorkspaceError, PolicyUnreadableError } from './errors.js';
export {
  type ApprovalAnswer,
  type ApprovalRequest,
  type Approver,
  type AuditSinkLike,
  containment,
  DENIAL_OPERATION,
  exitCodeOf,
  GUARDED_EXIT,
  type GuardEnvironment,
  type GuardedCommand,
  type GuardedResult,
  isUnlistedOnly,
  mechanismText,
  runGuardedCommand,
  sandboxPolicyFor,
} from './guarded.js';
export {
  detectPresets,
  type InitFile,
  type InitOptions,
  type InitResult,
  initProject,
  type Preset,
  renderConfig,
  renderProjectPolicy,
} from './init.js';
export {
  ADMIN_POLICY,
  APPROVALS_FILE,
  collectPolicyLayers,
  type LayerSources,
  projectPolicyPath,
  readPolicyLayer,
} from './layers.js';
export {
  describeDryRun,
  describeMerge,
  describeRunReport,
  type PlanTextOptions,
  planHeader,
  planProgress,
  TASK_MARKS,
} from './plan-text.js';
export { pluginCacheDir } from './plugin-run.js';
export { reportJson } from './report.js';
export {
  maskedSecretPaths,
  runSandboxOnly,
  type SandboxOnlyOptions,
  type SandboxStatus,
  sandboxStatus,
} from './sandbox-run.js';
export {
  type PolicyPin,
  TRUSTED_POLICIES_FILE,
  trustedDigests,
  trustPolicy,
  trustPolicyFile,
} from './trust.js';

import type { AgentRegistryLike } from './worker-agents.js';

export { type AgentRegistryLike, type ProfileAgentSet, standardAgentsFor } from './worker-agents.js';
export type {
  AgentOptions,
  Agents,
  GuardedOnceOptions,
  GuardedSessionOptions,
  GuardedShell,
  GuardedShellOptions,
  GuardedWorkerOptions,
  GuardedWorkerStart,
  OpenedResearchProvider,
  PermissionProxyOptions,
  PermissionProxyRun,
  PlanEngine,
  PlanRun,
  PlanRunOptions,
  PluginOnceOptions,
  QueueEngineModule,
  QueueKeySource,
  QueueModuleLike,
  ResearchProviderOptions,
  ServeGuardedShellOptions,
  WorkerGuard,
  WorkerGuardOptions,
};

/** The agent types {@link createStandardAgents} registers. */
export const AGENT_TYPES = ['command', 'plugin', 'research', 'mcp'] as const;

/**
 * The standard supervisor agents (`command`, `plugin`, `research`, `mcp`); loaded on first use so
 * that one-shot commands do not pay for the supervisor, WASM and MCP packages.
 */
export async function createStandardAgents(options: AgentOptions): Promise<Agents> {
  return (await import('./agents.js')).createStandardAgents(options);
}

/** The `codex mcp serve` guarded shell (an MCP server with `run_command` and `check_command`). */
export async function createGuardedShell(options: GuardedShellOptions): Promise<GuardedShell> {
  return (await import('./mcp-serve.js')).createGuardedShell(options);
}

/**
 * `codex mcp serve` as a library: the guarded shell on stdio or loopback HTTP until the client
 * leaves (stdio) or `signal` aborts, then closed.
 */
export async function serveGuardedShell(options: ServeGuardedShellOptions): Promise<void> {
  return (await import('./mcp-serve.js')).serveGuardedShell(options);
}
export type { CoreErrorCode } from './errors.js';

/**
 * `codex supervise` as a library: the standard agents on a supervisor (optionally on a queue
 * engine, with OTLP metrics), and plans parsed and validated against them.
 */
export async function createPlanRun(options: PlanRunOptions): Promise<PlanRun> {
  return (await import('./supervise.js')).createPlanRun(options);
}

/**
 * A `codex research` search provider (local files, a SearXNG-style API or an MCP server through the
 * permission proxy) with its cache and audit log; loaded on first use.
 */
export async function openResearchProvider(
  options: ResearchProviderOptions,
): Promise<OpenedResearchProvider> {
  return (await import('./research.js')).openResearchProvider(options);
}

/**
 * `codex plugin run` as a library: one run of a WASM plugin on this thread, every run and
 * violation in the config's audit log (closed before it returns); loaded on first use.
 */
export async function runPluginOnce(path: string, options: PluginOnceOptions): Promise<PluginRunResult> {
  return (await import('./plugin-once.js')).runPluginOnce(path, options);
}

/** `codex mcp proxy` as a library: an audited MCP permission proxy in front of one server. */
export async function runPermissionProxy(options: PermissionProxyOptions): Promise<PermissionProxyRun> {
  return (await import('./mcp-proxy.js')).runPermissionProxy(options);
}

/**
 * What a queue worker (`codex worker`) runs tasks under: its id, the audit log, the standard agents
 * per profile and OTLP metrics, as options for the queue's `QueueWorker.start`; loaded on first use.
 */
export async function openWorkerGuard<A>(
  options: WorkerGuardOptions,
  newRegistry: () => AgentRegistryLike<A>,
): Promise<WorkerGuard<A>> {
  return (await import('./worker-guard.js')).openWorkerGuard(options, newRegistry);
}

/**
 * `codex worker` as a library: the job-signing key, the worker guard and the queue's worker,
 * started from the queue module given (`@codex/supervisor-queue`); loaded on first use.
 */
export async function startGuardedWorker<A, W extends { close(o: { abort: boolean }): Promise<void> }>(
  q: QueueModuleLike<A, W>,
  options: GuardedWorkerOptions,
): Promise<{ readonly worker: W; readonly host: string; close(): Promise<void> }> {
  return (await import('./queue.js')).startGuardedWorker(q, options);
}

/**
 * `codex supervise --queue` as a library: the queue engine (of the queue module given), with the
 * job-signing key from `keyFile` or the environment; loaded on first use.
 */
export async function connectQueueEngine<E>(
  q: QueueEngineModule<E>,
  options: QueueKeySource & { readonly url: string; readonly logger?: Logger | undefined },
): Promise<E> {
  return (await import('./queue.js')).connectQueueEngine(q, options);
}

/**
 * `codex exec` as a library: one command through the pipeline with its own policy engine and the
 * config's audit log (closed before it returns); loaded on first use.
 */
export async function runGuardedOnce(
  command: GuardedCommand,
  options: GuardedOnceOptions,
): Promise<GuardedResult> {
  return (await import('./exec-once.js')).runGuardedOnce(command, options);
}
