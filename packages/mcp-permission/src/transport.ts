import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import spawn from 'cross-spawn';
import { DEFAULT_MAX_MESSAGE_BYTES } from './config.js';
import { UpstreamError } from './errors.js';
import { encodeMessage, type FramingProblem, LineDecoder } from './framing.js';

/** An SDK transport that also reports lines it could not deliver (too large, not JSON-RPC). */
export interface FramedTransport extends Transport {
  onproblem?: ((problem: FramingProblem) => void) | undefined;
}

/**
 * Newline-delimited JSON-RPC over a pair of byte streams (stdio, pipes, sockets), with a size cap on
 * every incoming line. Implements the SDK's `Transport`.
 */
export class StreamTransport implements FramedTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  onproblem?: ((problem: FramingProblem) => void) | undefined;
  readonly #input: Readable;
  readonly #output: Writable;
  readonly #decoder: LineDecoder;
  #closed = false;
  #started = false;

  constructor(input: Readable, output: Writable, options: { maxMessageBytes?: number } = {}) {
    this.#input = input;
    this.#output = output;
    this.#decoder = new LineDecoder(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, {
      message: (m) => this.onmessage?.(m),
      problem: (p) => this.onproblem?.(p),
    });
  }

  readonly #onData = (chunk: Buffer | string): void => {
    try {
      this.#decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  };
  readonly #onEnd = (): void => {
    void this.close();
  };
  readonly #onError = (error: Error): void => {
    this.onerror?.(error);
  };

  async start(): Promise<void> {
    if (this.#started) throw new Error('StreamTransport already started');
    this.#started = true;
    this.#input.on('data', this.#onData);
    this.#input.on('end', this.#onEnd);
    this.#input.on('error', this.#onError);
    this.#output.on('error', this.#onError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new UpstreamError('transport is closed'));
    return new Promise((resolve, reject) => {
      const ok = this.#output.write(encodeMessage(message), (error) => {
        if (error) reject(error);
      });
      if (ok) resolve();
      else this.#output.once('drain', () => resolve());
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.off('data', this.#onData);
    this.#input.off('end', this.#onEnd);
    this.onclose?.();
  }
}

export interface ChildProcessTransportOptions {
  readonly command: string;
  readonly args?: readonly string[];
  /** The child's environment. Default: only HOME, LOGNAME, PATH, SHELL, TERM, USER (no secrets). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly maxMessageBytes?: number;
  /** Where the server's stderr goes. Default: this process's stderr (never stdout). */
  readonly stderr?: 'inherit' | 'ignore' | 'pipe';
}

const SAFE_ENV = [
  'HOME',
  'LOGNAME',
  'PATH',
  'SHELL',
  'TERM',
  'USER',
  'TMPDIR',
  'LANG',
  'SYSTEMROOT',
  'APPDATA',
  'USERPROFILE',
];

/** The environment a server gets by default: a short list of harmless variables. */
export function defaultServerEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SAFE_ENV) {
    const v = env[k];
    if (v !== undefined && !v.startsWith('()')) out[k] = v;
  }
  return out;
}

/**
 * Spawns an MCP server and speaks to it over its stdin/stdout. Uses cross-spawn, so `npx` and other
 * `.cmd` shims work on Windows without a shell.
 */
export class ChildProcessTransport implements FramedTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;
  onproblem?: ((problem: FramingProblem) => void) | undefined;
  readonly options: ChildProcessTransportOptions;
  #child: ChildProcess | undefined;
  #stream: StreamTransport | undefined;
  #closed = false;

  constructor(options: ChildProcessTransportOptions) {
    this.options = options;
  }

  /** Set when the server process has exited. */
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get stderr(): Readable | null {
    return this.#child?.stderr ?? null;
  }

  async start(): Promise<void> {
    const { command, args = [], env, cwd } = this.options;
    const child = spawn(command, [...args], {
      env: { ...(env ?? defaultServerEnvironment()) },
      ...(cwd !== undefined ? { cwd } : {}),
      stdio: ['pipe', 'pipe', this.options.stderr ?? 'inherit'],
      shell: false,
      windowsHide: true,
    });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) =>
        reject(new UpstreamError(`cannot start MCP server "${command}": ${error.message}`, { cause: error })),
      );
    });
    child.on('error', (error) => this.onerror?.(error));
    child.on('exit', (code, signal) => {
      this.exitStatus = { code, signal };
      void this.close();
    });
    const stream = new StreamTransport(child.stdout!, child.stdin!, {
      ...(this.options.maxMessageBytes !== undefined
        ? { maxMessageBytes: this.options.maxMessageBytes }
        : {}),
    });
    stream.onmessage = (m) => this.onmessage?.(m);
    stream.onproblem = (p) => this.onproblem?.(p);
    stream.onerror = (e) => this.onerror?.(e);
    stream.onclose = () => void this.close();
    this.#stream = stream;
    await stream.start();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (!this.#stream) return Promise.reject(new UpstreamError('server not started'));
    return this.#stream.send(message);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGTERM'), 2000);
      const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      clearTimeout(hard);
    }
    await this.#stream?.close();
    this.onclose?.();
  }
}
