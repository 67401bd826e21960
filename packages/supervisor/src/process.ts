import { spawn } from 'node:child_process';

export interface ProcessResult {
  readonly pid: number;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when stdout or stderr was cut at `maxOutputBytes`. */
  readonly truncated: boolean;
}

export interface RunProcessOptions {
  /** Kills the whole process group (SIGTERM, then SIGKILL after `killGraceMs`). */
  readonly signal?: AbortSignal;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** Per stream; default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Default 500 ms. */
  readonly killGraceMs?: number;
  /** Called with the child's pid once it is spawned. */
  readonly onSpawn?: (pid: number) => void;
}

/**
 * Runs a program in its own process group and collects its output. When `signal` aborts, the
 * whole group (the child and anything it started) is terminated, and the promise settles only
 * once the child has exited, so an aborted task leaves no process behind. POSIX only for the
 * group kill; elsewhere the child alone is killed.
 */
export function runProcess(
  file: string,
  args: readonly string[],
  options: RunProcessOptions = {},
): Promise<ProcessResult> {
  const max = options.maxOutputBytes ?? 1024 * 1024;
  const grace = options.killGraceMs ?? 500;
  return new Promise<ProcessResult>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const posix = process.platform !== 'win32';
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env,
      detached: posix,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    child.stdout?.on('data', (b: Buffer) => {
      if (outBytes < max) out.push(b.subarray(0, max - outBytes));
      else truncated = true;
      outBytes += b.length;
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (errBytes < max) err.push(b.subarray(0, max - errBytes));
      else truncated = true;
      errBytes += b.length;
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const kill = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        if (posix) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), grace);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      // The leader is gone; make sure nothing of its group outlives it.
      if (options.signal?.aborted) kill('SIGKILL');
      if (killTimer) clearTimeout(killTimer);
      const result: ProcessResult = {
        pid: child.pid ?? -1,
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        truncated: truncated || outBytes > max || errBytes > max,
      };
      if (options.signal?.aborted) reject(options.signal.reason);
      else resolve(result);
    });
  });
}
