import type { Decision, Evaluation, PolicyEngine } from '@codex/execpolicy';
import {
  type Assessment,
  DEFAULT_TIMEOUT_MS,
  type ObservedDenial,
  type OutputStream,
  type SandboxBackend,
  type SandboxResult,
} from '@codex/sandbox-contract';
import { codexCacheDir } from '@codex/sandbox-contract/state';
import type { EgressSandboxRequest } from '@codex/sandbox-linux';
import {
  type ApprovalMode,
  type AuditEventInput,
  type AuditOperation,
  CodexError,
  DEFAULT_APPROVAL_MODE,
  type SandboxPolicy,
  type SecurityProfile,
  toSandboxPolicy,
} from '@codex/security-profile';
import { approvalPrefix, saveApproval } from './approvals.js';
import { backendForPlatform } from './backend.js';
import { codexHome, type Workspace } from './config.js';

/** Exit codes of a guarded run besides the command's own (as timeout(1) and env(1) use them). */
export const GUARDED_EXIT = { REFUSED: 125, TIMEOUT: 124 } as const;

export type ApprovalAnswer = 'yes' | 'no' | 'always';

export interface ApprovalRequest {
  /** The command as shown to the user. */
  readonly command: string;
  /** What "always" would save (argv commands only); `undefined` when only yes/no make sense. */
  readonly prefix?: readonly string[];
  /** Why the policy asks. */
  readonly reason: string;
  /** Why the sandbox alone was not enough to run it unasked (an unlisted command on a degraded rung…). */
  readonly notContained?: string;
  readonly evaluation: Evaluation;
}

/** Asks someone. `how` names the channel in the audit log ("on the terminal", "by --yes", …). */
export interface Approver {
  readonly how: string;
  ask(request: ApprovalRequest): Promise<ApprovalAnswer>;
}

/** Where audit entries go: an `AuditLogger` from `@codex/audit`, or anything with its `log`. */
export interface AuditSinkLike {
  log(event: AuditEventInput): Promise<void>;
  /**
   * Starts writing what was logged now. The pipeline calls it after each step instead of
   * relying on the logger's deferred flush: that one is an unref'd setImmediate, which does not
   * wake an event loop blocked in poll (a long-running server then waited for unrelated I/O or a
   * timer, seconds later, before the entry was written and the step could go on).
   */
  flush?(): Promise<void>;
}

export interface GuardedCommand {
  /** argv, or a bash script (`{ script }`, run as `bash -c script`). */
  readonly command: readonly string[] | { readonly script: string };
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly profile: SecurityProfile;
  /** The profile was asked for (flag, env, config): needed for `trusted`. */
  readonly explicitProfile?: boolean;
  readonly workspace: Workspace;
  readonly allowDegraded?: boolean;
  readonly requireFullIsolation?: boolean;
  readonly rung?: string;
  readonly timeoutMs?: number;
  readonly maxOutputBytes?: number;
  readonly maxProcesses?: number;
  readonly signal?: AbortSignal;
  readonly onOutput?: (stream: OutputStream, chunk: Uint8Array) => void;
  /** Called with the sandbox assessment before the command starts (to print the rung). */
  readonly onAssessment?: (assessment: Assessment) => void;
  /**
   * Proxied profiles: hosts a person allowed for this one command (`--allow-host`, or "run it
   * again with these hosts" at the prompt), audited with `egressGrantedBy`. A deny-listed host
   * stays refused; the grant ends with the command.
   */
  readonly egressGrants?: readonly string[];
  /** Who granted them, for the audit log ("on the terminal", "by --allow-host"). */
  readonly egressGrantedBy?: string;
}

export interface GuardEnvironment {
  /**
   * The policy engine, or a promise of it (created once, shared by many runs), or a function that
   * creates it: called only after the sandbox launch has started, so that a one-shot run sets the
   * sandbox up while the engine loads.
   */
  readonly engine: PolicyEngine | Promise<PolicyEngine> | (() => Promise<PolicyEngine>);
  readonly audit: AuditSinkLike;
  readonly sessionId: string;
  readonly agentType: string;
  readonly taskId?: string;
  /** Who asked (an MCP client's name): recorded in every entry's details. */
  readonly client?: string;
  /** Asks about `prompt` decisions; without one, `prompt` is refused (APPROVAL_REQUIRED). */
  readonly approver?: Approver;
  /**
   * How `prompt` decisions are handled (default `on-request`): `untrusted` asks about each;
   * `on-request` runs a command that is `prompt` only because no rule lists it without asking
   * when the sandbox rung fully enforces the profile, and asks about the rest; `never` runs those
   * contained commands too and refuses the rest without asking (APPROVAL_NEVER). See
   * {@link isUnlistedOnly} and {@link containment}.
   */
  readonly approvalMode?: ApprovalMode;
  /** Why there is no approver, for the audit log ("without a TTY"); default "with no approver". */
  readonly unattended?: string;
  /** Where "always" answers are saved (CODEX_HOME); without it "always" counts as "yes". */
  readonly codexHome?: string;
  /** Default: the backend for this OS. `null` refuses every run. */
  readonly backend?: SandboxBackend | null;
}

export interface GuardedResult {
  readonly outcome: 'ran' | 'refused';
  /** The command's exit code, 124 timeout, 125 refused, 128+N killed by signal N. */
  readonly exitCode: number;
  readonly decision: Decision;
  readonly reasons: readonly string[];
  readonly evaluation?: Evaluation;
  /** How a `prompt` decision was approved. */
  readonly approval?: string;
  /**
   * Why an unlisted command was asked about (or refused) instead of run unasked under
   * `on-request`/`never`: the rung does not fully enforce the profile, no sandbox… (see {@link containment}).
   */
  readonly notContained?: string;
  /** One line naming the hosts the egress proxy refused during the run (proxied profiles). */
  readonly egressRefused?: string;
  /** Refused hosts a person may grant for a run (not deny-listed, not private addresses). */
  readonly egressGrantable?: readonly string[];
  readonly refusal?: { readonly code: string; readonly message: string };
  readonly run?: SandboxResult;
  readonly assessment?: Assessment;
}

/** One mapping for every caller: which audit operation a denial seen in the output is. */
export const DENIAL_OPERATION: Readonly<Record<ObservedDenial['kind'], AuditOperation>> = {
  network: 'network_access',
  'read-only-filesystem': 'file_write',
  permission: 'other',
  'process-limit': 'process_spawn',
  'secret-read': 'file_read',
};

export function mechanismText(a: Assessment): string {
  return a.skipped ? 'no sandbox (trusted)' : `rung ${a.rung} (${a.mechanisms.join('+') || 'nothing'})`;
}

/** The exit code for a finished run. */
export function exitCodeOf(r: SandboxResult): number {
  if (r.timedOut) return GUARDED_EXIT.TIMEOUT;
  if (r.exitCode !== null) return r.exitCode;
  const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGSYS: 31, SIGSEGV: 11, SIGINT: 2 };
  return 128 + (signals[r.signal ?? ''] ?? 0);
}

type Entry = Omit<AuditEventInput, 'profile' | 'session_id' | 'agent_type' | 'target' | 'task_id'>;

class Run {
  readonly shown: string;
  evaluation: Evaluation | undefined;
  approval: string | undefined;

  constructor(
    readonly req: GuardedCommand,
    readonly env: GuardEnvironment,
  ) {
    this.shown = Array.isArray(req.command)
      ? (req.command as readonly string[]).join(' ')
      : (req.command as { script: string }).script;
  }

  record(e: Entry, flush = true): Promise<void> {
    const written = this.log(e);
    if (flush) void this.env.audit.flush?.().catch(() => {});
    return written;
  }

  private log(e: Entry): Promise<void> {
    const { client, taskId } = this.env;
    return this.env.audit.log({
      ...e,
      profile: this.req.profile,
      session_id: this.env.sessionId,
      agent_type: this.env.agentType,
      target: this.shown,
      ...(taskId === undefined ? {} : { task_id: taskId }),
      ...(client === undefined ? {} : { details: { ...e.details, client } }),
    });
  }

  async refuse(code: string, message: string, entry?: Entry, extra: Partial<GuardedResult> = {}) {
    if (entry) await this.record(entry);
    return {
      outcome: 'refused',
      exitCode: GUARDED_EXIT.REFUSED,
      decision: this.evaluation?.decision ?? 'forbidden',
      reasons: this.evaluation?.reasons ?? [message],
      ...(this.evaluation ? { evaluation: this.evaluation } : {}),
      ...(this.approval ? { approval: this.approval } : {}),
      refusal: { code, message },
      ...extra,
    } satisfies GuardedResult;
  }
}

/** Step 1: the exec policy. Any failure to evaluate is a denial (fail-safe), never an allow. */
async function decide(r: Run): Promise<GuardedResult | undefined> {
  const { req } = r;
  try {
    const { engine: e } = r.env;
    const engine = await (typeof e === 'function' ? e() : e);
    r.evaluation = await engine.evaluateAsync(Array.isArray(req.command) ? req.command : { ...req.command }, {
      profile: req.profile,
      cwd: req.cwd,
      workspaceRoots: req.workspace.workspaceRoots,
      extraWritableRoots: req.workspace.extraWritableRoots,
      platform: process.platform,
      ...(req.env?.HOME ? { home: req.env.HOME } : {}),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return r.refuse('POLICY_ERROR', `exec policy failed, so the command is denied: ${message}`, {
      operation: 'command_exec',
      decision: 'denied',
      reason: `execpolicy error (fail-safe deny): ${message}`,
      details: { stage: 'policy' },
    });
  }
  const ev = r.evaluation;
  const why = ev.reasons[0] ?? 'no reason given';
  const decision =
    ev.decision === 'allow' ? 'allowed' : ev.decision === 'forbidden' ? 'denied' : 'requires_approval';
  await r.record({
    operation: 'command_exec',
    decision,
    reason: `execpolicy ${ev.decision} under profile ${req.profile}: ${why}`,
    details: { stage: 'policy', rules: ev.matchedRules.map((m) => m.id).join(',') },
  });
  if (ev.decision === 'forbidden') {
    return r.refuse('POLICY_FORBIDDEN', `exec policy forbids this command: ${ev.reasons.join('; ')}`);
  }
  return ev.decision === 'prompt' ? approve(r, why) : undefined;
}

/**
 * True when an evaluation is `prompt` only because no rule lists the command (its program is
 * unknown, or its arguments are unlisted) — not for network use the profile lacks, a write the
 * write-target analysis flags, a rule that asks, or anything else. Such a command is what the
 * sandbox can contain on its own; see {@link containment}. Based on execpolicy's structured
 * `causes`, never on reason strings.
 */
export function isUnlistedOnly(evaluation: Pick<Evaluation, 'decision' | 'causes'>): boolean {
  return (
    evaluation.decision === 'prompt' &&
    evaluation.causes.length > 0 &&
    evaluation.causes.every((c) => c === 'unknown-command' || c === 'unlisted-arguments')
  );
}

/**
 * Whether the sandbox rung that would run this command fully enforces its profile: a sandbox
 * (not `trusted`'s skip), every guarantee the profile needs enforced (nothing NOT enforced,
 * nothing missing), and allowed by --require-full-isolation. `contained: false` says why not.
 */
export function containment(
  a: Assessment,
  requireFullIsolation = false,
): { readonly contained: boolean; readonly why: string } {
  if (a.skipped) return { contained: false, why: 'the profile runs without a sandbox' };
  if (a.unenforced.length > 0)
    return { contained: false, why: `${mechanismText(a)} does NOT enforce ${a.unenforced.join(', ')}` };
  if (a.missing.length > 0)
    return { contained: false, why: `${mechanismText(a)} does not enforce ${a.missing.join(', ')}` };
  if (requireFullIsolation && !a.full)
    return { contained: false, why: `${mechanismText(a)} is below the full rung required` };
  return { contained: true, why: `${mechanismText(a)} fully enforces profile ${a.profile}` };
}

/** The environment's backend: the one given (`null`: none), else the one for this OS. */
async function backendOf(r: Run): Promise<SandboxBackend | null> {
  return r.env.backend === undefined ? backendForPlatform() : r.env.backend;
}

/** The sandbox's assessment for this run, before anything is spawned (for {@link containment}). */
async function assessFor(r: Run): Promise<Assessment | string> {
  const backend = await backendOf(r);
  if (!backend) return `no sandbox backend for ${process.platform}`;
  try {
    return backend.assess(sandboxRequest(r).policy, await backend.probe(), r.req.rung);
  } catch (error) {
    if (!(error instanceof CodexError)) throw error;
    return `the sandbox cannot be assessed (${error.code}): ${error.message}`;
  }
}

/**
 * Step 2a: under `on-request` and `never`, a command that is `prompt` only because it is unlisted
 * runs without asking when the sandbox contains it; the auto-approval is audited with the mode
 * and the rung. Returns true when it did, why the sandbox does not contain it, or false when not eligible.
 */
async function autoApprove(r: Run, mode: ApprovalMode, why: string): Promise<boolean | string> {
  if (mode === 'untrusted' || !isUnlistedOnly(r.evaluation!)) return false;
  const a = await assessFor(r);
  if (typeof a === 'string') return a;
  const c = containment(a, r.req.requireFullIsolation === true);
  if (!c.contained) return c.why;
  r.approval = `auto-approved by approval mode ${mode}: the sandbox contains it, ${c.why}`;
  await r.record({
    operation: 'command_exec',
    decision: 'allowed',
    reason: `${r.approval}: ${why}`,
    details: { stage: 'approval', auto: true, mode, rung: a.rung, backend: a.backend },
  });
  return true;
}

/**
 * Step 2: a `prompt` decision is auto-approved when the approval mode lets the sandbox contain it
 * ({@link autoApprove}), refused without asking under `never`, and otherwise goes to the
 * approver; "always" is saved as the prefix shown.
 */
async function approve(r: Run, why: string): Promise<GuardedResult | undefined> {
  const mode = r.env.approvalMode ?? DEFAULT_APPROVAL_MODE;
  const auto = await autoApprove(r, mode, why);
  if (auto === true) return undefined;
  const notContained = typeof auto === 'string' ? `; not run unasked: ${auto}` : '';
  const extra = typeof auto === 'string' ? { notContained: auto } : {};
  if (mode === 'never') {
    return r.refuse(
      'APPROVAL_NEVER',
      `the policy asks before running this (${why}) and approval mode never asks${notContained}`,
      {
        operation: 'command_exec',
        decision: 'denied',
        reason: `prompt under approval mode never: denied without asking (${why})${notContained}`,
        details: { stage: 'approval', mode },
      },
      extra,
    );
  }
  const { approver, codexHome } = r.env;
  if (!approver) {
    const unattended = r.env.unattended ?? 'with no approver';
    return r.refuse(
      'APPROVAL_REQUIRED',
      `the policy asks before running this (${why}) and there is no one to ask`,
      {
        operation: 'command_exec',
        decision: 'denied',
        reason: `prompt ${unattended}: denied (${why})${notContained}`,
        details: { stage: 'approval', mode },
      },
      extra,
    );
  }
  const prefix = Array.isArray(r.req.command) ? approvalPrefix(r.req.command) : undefined;
  let answer: ApprovalAnswer;
  try {
    answer = await approver.ask({
      command: r.shown,
      reason: why,
      evaluation: r.evaluation!,
      ...(prefix ? { prefix } : {}),
      ...extra,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return r.refuse('APPROVAL_FAILED', `asking ${approver.how} failed: ${message}`, {
      operation: 'command_exec',
      decision: 'denied',
      reason: `prompt could not be asked ${approver.how}: ${message} (${why})`,
      details: { stage: 'approval' },
    });
  }
  if (answer === 'no') {
    return r.refuse('NOT_APPROVED', 'the command was declined', {
      operation: 'command_exec',
      decision: 'denied',
      reason: `prompt declined ${approver.how}: ${why}`,
      details: { stage: 'approval' },
    });
  }
  r.approval = `approved ${approver.how}`;
  if (answer === 'always' && prefix && codexHome) {
    const saved = saveApproval(codexHome, prefix);
    r.approval = `approved always for prefix "${prefix.join(' ')}" ${approver.how} (saved in ${saved.file})`;
  }
  await r.record({
    operation: 'command_exec',
    decision: 'allowed',
    reason: `${r.approval}: ${why}`,
    details: { stage: 'approval' },
  });
  return undefined;
}

function sandboxRequest(r: Run) {
  const { req } = r;
  const command = Array.isArray(req.command)
    ? req.command
    : ['bash', '-c', (req.command as { script: string }).script];
  const policy = sandboxPolicyFor(req.profile, req.workspace, req.explicitProfile === true);
  const env = Object.fromEntries(
    Object.entries(req.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return {
    policy,
    command,
    cwd: req.cwd,
    env,
    allowDegraded: req.allowDegraded === true,
    requireFullIsolation: req.requireFullIsolation === true,
    ...(req.rung ? { rung: req.rung } : {}),
    ...(req.timeoutMs ? { timeoutMs: req.timeoutMs } : {}),
    ...(req.maxOutputBytes ? { maxOutputBytes: req.maxOutputBytes } : {}),
    ...(req.maxProcesses ? { maxProcesses: req.maxProcesses } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.onOutput ? { onOutput: req.onOutput } : {}),
    ...(req.workspace.envAllow?.length ? { envHygiene: { allow: req.workspace.envAllow } } : {}),
  };
}

/**
 * The sandbox policy for a profile over a resolved workspace (roots, secrets to mask). Codex's own
 * home and cache (from `env`) stay read-only wherever they fall inside the workspace.
 */
export function sandboxPolicyFor(
  profile: SecurityProfile,
  workspace: Workspace,
  explicit: boolean,
  env: NodeJS.ProcessEnv = process.env,
): SandboxPolicy {
  return toSandboxPolicy(profile, {
    workspaceRoots: workspace.workspaceRoots,
    extraWritableRoots: workspace.extraWritableRoots,
    explicit,
    protectedPaths: [codexHome(env), codexCacheDir(env)],
    ...(workspace.denyRead ? { denyRead: workspace.denyRead } : {}),
    ...(workspace.allowRead ? { allowRead: workspace.allowRead } : {}),
    ...(workspace.egress ? { egress: workspace.egress } : {}),
  });
}

/**
 * A `proxied` profile (net-read-only, workspace-net) sends the network through the egress proxy:
 * one session per run, its decisions audited in the same log, with the command named.
 */
async function egressFor(r: Run, policy: SandboxPolicy) {
  if (policy.network.mode !== 'proxied' || policy.skipSandbox) return undefined;
  const { egressSessionFor } = await import('@codex/egress');
  const session = egressSessionFor(policy, {
    audit: r.env.audit,
    sessionId: r.env.sessionId,
    ...(r.env.taskId ? { taskId: r.env.taskId } : {}),
  });
  for (const host of r.req.egressGrants ?? []) session.grantOnce(host);
  return session;
}

/** Grants that are not host names or IP literals: refused before anything starts. */
async function badGrants(r: Run): Promise<GuardedResult | undefined> {
  const grants = r.req.egressGrants ?? [];
  if (grants.length === 0) return undefined;
  const { normaliseHost } = await import('@codex/egress');
  const bad = grants.filter((h) => normaliseHost(h) === null);
  if (bad.length === 0) return undefined;
  const message = `not a host name or IP literal: ${bad.join(', ')}`;
  return r.refuse('INVALID_GRANT', message, {
    operation: 'network_access',
    decision: 'denied',
    reason: `egress grant refused: ${message}`,
    details: { stage: 'approval' },
  });
}

/**
 * A launch started before the decision (see `SandboxRequest.startWhen`): on Linux bubblewrap,
 * the cgroup, every layer and, for `proxied` profiles, the run's egress proxy are set up while
 * the policy decides and the audit entry is written, and the command starts only on
 * {@link EarlyLaunch.go}. A cancelled launch closes its proxy before any connection was possible.
 */
interface EarlyLaunch {
  readonly backend: SandboxBackend;
  readonly request: ReturnType<typeof sandboxRequest>;
  readonly egress: Awaited<ReturnType<typeof egressFor>>;
  readonly run: Promise<SandboxResult>;
  started: boolean;
  go(): void;
  cancel(): void;
}

/** Starts the launch; `undefined` when there is no backend to launch with. */
async function launchEarly(r: Run): Promise<EarlyLaunch | undefined> {
  const backend = await backendOf(r);
  if (!backend) return undefined;
  const request = sandboxRequest(r);
  const egress = await egressFor(r, request.policy);
  let go!: () => void;
  let cancel!: (reason: unknown) => void;
  const startWhen = new Promise<void>((resolve, reject) => {
    go = resolve;
    cancel = reject;
  });
  startWhen.catch(() => {});
  const run = backend.run(
    egress ? ({ ...request, egress, startWhen } as EgressSandboxRequest) : { ...request, startWhen },
  );
  run.catch(() => {}); // awaited by the sandbox step, or after a cancel
  const launch: EarlyLaunch = {
    backend,
    request,
    egress,
    run,
    started: false,
    go: () => {
      launch.started = true;
      go();
    },
    cancel: () => cancel(new CodexError('RUN_NOT_STARTED', 'the command was not started')),
  };
  return launch;
}

/**
 * Step 3: the OS sandbox, launched before the decision ({@link launchEarly}): it refuses (before
 * the command starts) a profile it cannot enforce; without a launch there was no backend.
 */
async function sandbox(r: Run, early: EarlyLaunch | undefined): Promise<GuardedResult> {
  const { req } = r;
  if (!early) {
    return r.refuse('SANDBOX_UNAVAILABLE', `no sandbox backend for ${process.platform}`, {
      operation: 'process_spawn',
      decision: 'denied',
      reason: `no sandbox backend for ${process.platform}; refusing to run unsandboxed`,
      details: { stage: 'sandbox', code: 'SANDBOX_UNAVAILABLE' },
    });
  }
  const { backend, request, egress } = early;
  let assessment: Assessment | undefined;
  // Cancelled while the policy or the approval was pending: start nothing.
  req.signal?.throwIfAborted();
  try {
    assessment = backend.assess(request.policy, await backend.probe(), req.rung);
    req.onAssessment?.(assessment);
    if (req.egressGrants?.length && egress) {
      await r.record({
        operation: 'network_access',
        decision: 'allowed',
        reason: `egress grant for this command only, ${req.egressGrantedBy ?? 'by the caller'}: ${req.egressGrants.join(', ')}`,
        details: { stage: 'approval', hosts: req.egressGrants.join(',') },
      });
    }
    early.go();
    const run = await early.run;
    await outcome(r, run);
    const refusedHosts = egress?.refused() ?? [];
    const refused = egress ? (await import('@codex/egress')).summarizeRefused(refusedHosts) : null;
    const grantable = [...new Set(refusedHosts.filter((h) => h.grantable).map((h) => h.host))];
    return {
      ...(refused ? { egressRefused: refused } : {}),
      ...(grantable.length > 0 ? { egressGrantable: grantable } : {}),
      outcome: 'ran',
      exitCode: exitCodeOf(run),
      decision: r.evaluation!.decision,
      reasons: r.evaluation!.reasons,
      evaluation: r.evaluation!,
      ...(r.approval ? { approval: r.approval } : {}),
      run,
      assessment: run.assessment,
    };
  } catch (error) {
    if (!(error instanceof CodexError) || req.signal?.aborted) throw error;
    const a = assessment ? `, ${mechanismText(assessment)}` : '';
    return r.refuse(
      error.code,
      error.message,
      {
        operation: 'process_spawn',
        decision: 'denied',
        reason: `sandbox refused (${error.code}) for profile ${req.profile}${a}: ${error.message}`,
        details: { stage: 'sandbox', code: error.code },
      },
      assessment ? { assessment } : {},
    );
  }
}

/**
 * Step 4: audit how it ran, how it was enforced, and every denial visible in its output. The
 * entries are logged together, so they share one write (and one fsync) of the audit log.
 */
async function outcome(r: Run, run: SandboxResult): Promise<void> {
  const { profile } = r.req;
  const a = run.assessment;
  const entries: Entry[] = [];
  if (a.unenforced.length > 0) {
    entries.push({
      operation: 'process_spawn',
      decision: 'allowed',
      reason: `--allow-degraded: ran under profile ${profile} with ${mechanismText(a)}, which does NOT enforce ${a.unenforced.join(', ')}`,
      details: { stage: 'sandbox', rung: a.rung, degraded: true },
    });
  }
  const how = run.timedOut
    ? 'timed out, process tree killed'
    : run.exitCode !== null
      ? `exit ${run.exitCode}`
      : `killed by ${run.signal}`;
  const missing = a.missing.length ? `; not enforced: ${a.missing.join(', ')}` : '';
  entries.push({
    operation: 'process_spawn',
    decision: 'allowed',
    reason: `ran under profile ${profile}, ${mechanismText(a)}${missing}: ${how}`,
    details: {
      ...{ stage: 'outcome', rung: a.rung, exit: exitCodeOf(run), timedOut: run.timedOut },
      ...{ durationMs: Math.round(run.durationMs), strippedEnv: run.strippedEnv.length },
      ...{ processLimit: run.processLimit, degraded: a.unenforced.length > 0 },
    },
  });
  for (const d of run.observedDenials) {
    entries.push({
      operation: DENIAL_OPERATION[d.kind],
      decision: 'denied',
      reason: `sandbox denial observed (${d.kind}) under profile ${profile}, ${mechanismText(a)}: ${d.evidence}`,
      details: { stage: 'denial', kind: d.kind, rung: a.rung },
    });
  }
  if (run.timedOut) {
    entries.push({
      operation: 'process_spawn',
      decision: 'denied',
      reason: `timeout after ${r.req.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms under profile ${profile}: process tree killed`,
      details: { stage: 'limit' },
    });
  }
  const written = entries.map((e) => r.record(e, false));
  void r.env.audit.flush?.().catch(() => {});
  await Promise.all(written);
}

/**
 * The one guarded-exec pipeline: exec policy → approval (for `prompt`) → the OS sandbox for the
 * profile → the audit log, with every step audited before the next begins. Used by `codex exec`,
 * the `command` supervisor agent and `codex mcp serve`. Refusals are results (exit 125), not
 * exceptions; only an abort (`signal`) or an unexpected bug throws.
 */
export async function runGuardedCommand(req: GuardedCommand, env: GuardEnvironment): Promise<GuardedResult> {
  const r = new Run(req, env);
  const invalid = await badGrants(r);
  if (invalid) return invalid;
  const early: EarlyLaunch | undefined = await launchEarly(r);
  try {
    const stopped = await decide(r);
    if (stopped) return stopped;
    return await sandbox(r, early);
  } finally {
    // Refused, failed or aborted before the go-ahead: the prepared sandbox ends without running
    // anything, and its cleanup (cgroup, temporary files) is done before this returns.
    if (early && !early.started) {
      early.cancel();
      await early.run.catch(() => {});
    }
  }
}
