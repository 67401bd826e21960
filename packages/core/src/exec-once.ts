// `codex exec` without the terminal: one command through the guarded pipeline, with its own policy
// engine (every layer, as `codex policy check` sees them) and the config's audit log, written at
// once and closed before the result is returned.
import { randomUUID } from 'node:crypto';
import { createAuditLoggerFromConfig } from '@codex/audit';
import type { ApprovalMode, CodexConfig } from '@codex/security-profile';
import { createEngine } from './engine.js';
import { type Approver, type GuardedCommand, type GuardedResult, runGuardedCommand } from './guarded.js';

export interface GuardedOnceOptions {
  readonly config: CodexConfig;
  readonly codexHome: string;
  /** The environment the audit log's HMAC key is read from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Extra `--policy` layers. */
  readonly policies?: readonly string[];
  readonly approvalMode?: ApprovalMode;
  /** Asks about `prompt` decisions; without one they are refused (see `unattended`). */
  readonly approver?: Approver;
  /** Why there is no approver, for the audit log ("without a TTY"; default "with no approver"). */
  readonly unattended?: string;
  /** The audit entries' agent type (default `codex-exec`); the session id is `exec-<uuid>`. */
  readonly agentType?: string;
  /** Called before the policy engine loads its bash parser (see `PolicyEngineOptions`). */
  readonly beforeParserLoad?: () => void;
}

/** Runs `command` once: exec policy → approval → the OS sandbox → the audit log. */
export async function runGuardedOnce(
  command: GuardedCommand,
  options: GuardedOnceOptions,
): Promise<GuardedResult> {
  const { config, codexHome, env, approver } = options;
  const audit = createAuditLoggerFromConfig(config.audit, { home: codexHome, env, flushIntervalMs: 0 });
  // Created when the pipeline asks for it, after the sandbox launch has started (a failure is
  // reported by the pipeline as a fail-safe denial).
  const engine = () =>
    createEngine(
      {
        ...{ config, codexHome, cwd: command.cwd, workspace: command.workspace.workspaceRoots[0]! },
        extra: options.policies ?? [],
      },
      options.beforeParserLoad ? { beforeParserLoad: options.beforeParserLoad } : {},
    );
  try {
    return await runGuardedCommand(command, {
      ...{ engine, audit, sessionId: `exec-${randomUUID()}`, agentType: options.agentType ?? 'codex-exec' },
      codexHome,
      ...(options.approvalMode === undefined ? {} : { approvalMode: options.approvalMode }),
      ...(approver ? { approver } : {}),
      ...(options.unattended === undefined ? {} : { unattended: options.unattended }),
    });
  } finally {
    await audit.close();
  }
}
