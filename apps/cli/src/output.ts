import type { Writable } from 'node:stream';
import type { Styler } from '@codex/security-profile';

export interface Output {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly color: boolean;
}

/**
 * Colour follows the usual conventions: `--no-color` or a non-empty `NO_COLOR` turns it off,
 * a non-empty `FORCE_COLOR` (other than `0`) turns it on, otherwise only when stdout is a TTY.
 */
export function wantColor(env: NodeJS.ProcessEnv, flagNoColor: boolean, isTTY: boolean): boolean {
  if (flagNoColor) return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Style = keyof typeof CODES;

export function paint(out: Output, style: Style, text: string): string {
  return out.color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

export function line(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

/**
 * `codex audit query | head -1`: once the reader of stdout goes away, writes fail with EPIPE. Like
 * other Unix tools, codex then stops quietly (the returned signal aborts; long commands check it)
 * instead of crashing with a stack trace. Any other write error is reported once, on stderr.
 */
export function watchStdout(out: Output): AbortSignal {
  const ac = new AbortController();
  // Left attached after the command returns: the EPIPE of its last writes arrives later.
  out.stdout.on('error', (error: NodeJS.ErrnoException) => {
    const closed = error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
    if (!closed && !ac.signal.aborted)
      line(out.stderr, `codex: error: cannot write output (${error.code ?? error.message})`);
    ac.abort();
  });
  return ac.signal;
}

/** Rows as an aligned plain-text table (the one the libraries' descriptions use too). */
export { textTable as table } from '@codex/security-profile';

const TONES = { ok: 'green', warning: 'yellow', error: 'red', dim: 'dim' } as const;

/** The libraries' text styles (`describeVerify`, `describeAssessment`…) as terminal colours. */
export function styler(out: Output): Styler {
  return (style, text) => paint(out, TONES[style], text);
}

/** `--json`: `doc` as one JSON document on stdout; otherwise the line or lines `text` gives. */
export function print(
  ctx: Output & { readonly json: boolean },
  doc: unknown,
  text: () => string | readonly string[],
): void {
  const t = ctx.json ? JSON.stringify(doc, null, 2) : text();
  for (const l of typeof t === 'string' ? [t] : t) line(ctx.stdout, l);
}

/** A signal that SIGINT or SIGTERM aborts (a long command's way to stop cleanly), until `done()`. */
export function interrupts(): { readonly signal: AbortSignal; done(): void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: ac.signal,
    done() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}
