/**
 * Running a preview1 module on the calling thread, for one-shot callers (a CLI process) that would
 * otherwise pay a worker thread's start-up for a single run. The deadline is enforced by V8's
 * watchdog (`vm` timeout → TerminateExecution), which interrupts running wasm like
 * `worker.terminate()` does; a clock sleep never passes the deadline. The event loop is blocked
 * for the length of the run (at most the time limit), so long-lived hosts use a `PluginPool`.
 */
import { createContext, Script } from 'node:vm';
import { nowMs } from './clock.js';
import { CORE_MODULE_FILE } from './constants.js';
import { runModule, type WorkerJob, type WorkerResult } from './execute.js';
import type { RunnablePlugin, RunOutcome } from './workers.js';

const call = new Script('run()', { filename: 'codex-plugin-inline.js' });

export function runInline(plugin: RunnablePlugin, job: WorkerJob, timeoutMs: number): RunOutcome {
  const module = plugin.modules.get(CORE_MODULE_FILE);
  if (plugin.glue !== undefined || !module) {
    return { kind: 'crash', message: 'only preview1 modules can run inline' };
  }
  const deadlineAt = nowMs() + timeoutMs;
  try {
    const result = call.runInContext(
      createContext({ run: (): WorkerResult => runModule(module, job, deadlineAt) }),
      { timeout: timeoutMs },
    ) as WorkerResult;
    if (result.outcome.kind === 'deadline') {
      return { kind: 'timeout', stoppedAfterDeadlineMs: nowMs() - deadlineAt };
    }
    return { kind: 'done', result };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      return { kind: 'timeout', stoppedAfterDeadlineMs: nowMs() - deadlineAt };
    }
    return { kind: 'crash', message: error instanceof Error ? error.message : String(error) };
  }
}
