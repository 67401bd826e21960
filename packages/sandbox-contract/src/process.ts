/**
 * `@codex/sandbox-contract/process`: the Node-only part shared by the backends: spawn a launcher
 * (sandbox-exec, the Windows helper, …), keep at most `maxOutputBytes` of each stream, enforce the
 * timeout and the abort signal by killing the whole tree. The main entry of this package stays
 * free of `node:` imports; only this subpath uses them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { CapturedRun, OutputStream } from './contract.js';
import { SandboxSetupError } from './errors.js';

export type { CapturedRun } from './contract.js';

export interface CapturedRunOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly stdin?: 'ignore' | 'inherit';
  readonly onOutput?: (stream: OutputStream, chunk: Uint8Array) => void;
  readonly signal?: AbortSignal;
  /**
   * How to kill everything the command started. Default: on POSIX the process group (the child
   * is spawned detached, so it leads its own group); on Windows the process itself (a launcher
   * that holds a kill-on-close Job Object takes its tree with it).
   */
  readonly killTree?: (child: ChildProcess) => void | Promise<void>;
  /** Open descriptors the child gets as fds 3, 4, … (the parent keeps and closes its own). */
  readonly extraFds?: readonly number[];
  /**
   * The launcher waits for a go-ahead before it runs the command (`codex-sandbox-helper --gate`):
   * the child gets a socket as the descriptor after `extraFds`, and one byte "g" is written to it
   * when this promise fulfils. The timeout starts then. When it rejects, the socket is closed and
   * the tree killed before the command starts, and `runCaptured` rejects with that reason once
   * the child has exited.
   */
  readonly gate?: Promise<unknown>;
  /** Passed to spawn (Windows): do not re-quote argv, it is already a quoted command line. */
  readonly windowsVerbatimArguments?: boolean;
}

/** How long the runner waits for the output pipes to close after the command has exited. */
const DRAIN_GRACE_MS = 2000;

function drained(stream: Readable | null): Promise<void> {
  if (!stream || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((r) => stream.once('close', () => r()));
}

function defaultKill(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Spawns `argv` and resolves when it has exited and its output is drained (or 2 s later). */
export async function runCaptured(argv: readonly string[], o: CapturedRunOptions): Promise<CapturedRun> {
  if (argv.length === 0 || !argv[0]) throw new SandboxSetupError('empty launcher command');
  // hrtime, not `performance.now()`: the `performance` global loads perf_hooks (~1 ms per run).
  let started = process.hrtime.bigint();
  const extra = o.extraFds ?? [];
  const child: ChildProcess = spawn(argv[0], argv.slice(1), {
    cwd: o.cwd,
    env: o.env,
    detached: process.platform !== 'win32', // own process group: the whole tree can be killed
    stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe', ...extra, ...(o.gate ? (['pipe'] as const) : [])],
    windowsHide: true,
    ...(o.windowsVerbatimArguments ? { windowsVerbatimArguments: true } : {}),
  });
  const kept = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const size = { stdout: 0, stderr: 0 };
  const truncated = { stdout: false, stderr: false };
  const collect = (stream: OutputStream) => (chunk: Buffer) => {
    const room = o.maxOutputBytes - size[stream];
    if (room <= 0) {
      truncated[stream] = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (chunk.length > room) truncated[stream] = true;
    kept[stream].push(part);
    size[stream] += part.length;
    o.onOutput?.(stream, part);
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));

  let timedOut = false;
  const killAll = async () => {
    await (o.killTree ?? defaultKill)(child);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      timedOut = true;
      void killAll();
    }, o.timeoutMs);
  };
  let exited = false;
  let cancelled: { readonly reason: unknown } | undefined;
  // The go-ahead socket: the descriptor after extraFds.
  const gate = o.gate ? (child.stdio[3 + extra.length] as Writable | null) : null;
  if (o.gate) {
    gate?.on('error', () => {}); // the launcher may be gone already (setup failed): its exit says why
    o.gate.then(
      () => {
        if (exited) return;
        started = process.hrtime.bigint();
        arm();
        gate?.end('g');
      },
      (reason: unknown) => {
        cancelled = { reason };
        gate?.destroy();
        if (!exited) void killAll();
      },
    );
  } else arm();
  const onAbort = () => void killAll();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // A signal aborted before the spawn never fires 'abort' again: kill at once.
  if (o.signal?.aborted) onAbort();

  const { code, signal, error } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: Error;
  }>((resolveExit) => {
    child.once('error', (e) => resolveExit({ code: null, signal: null, error: e }));
    child.once('exit', (c, s) => resolveExit({ code: c, signal: s }));
  });
  exited = true;
  clearTimeout(timer);
  o.signal?.removeEventListener('abort', onAbort);
  // The command is done: nothing it started may outlive it.
  await killAll();
  // Wait for the pipes to drain, but at most 2 s (a grandchild that escaped the kill could hold
  // them open). The grace timer is cleared as soon as they close: a pending timer would keep a
  // one-shot process alive for the full 2 s after the command has exited.
  let grace: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all([drained(child.stdout), drained(child.stderr)]),
    new Promise((r) => {
      grace = setTimeout(r, DRAIN_GRACE_MS);
    }),
  ]);
  clearTimeout(grace);
  child.stdout?.destroy();
  child.stderr?.destroy();
  gate?.destroy();
  if (error) throw new SandboxSetupError(`cannot start ${argv[0]}: ${error.message}`);
  if (cancelled) throw cancelled.reason;
  return {
    exitCode: code,
    signal,
    stdout: Buffer.concat(kept.stdout).toString('utf8'),
    stderr: Buffer.concat(kept.stderr).toString('utf8'),
    stdoutTruncated: truncated.stdout,
    stderrTruncated: truncated.stderr,
    timedOut,
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
  };
}
