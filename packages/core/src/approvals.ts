import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ApprovalsError } from './errors.js';
import { APPROVALS_FILE } from './layers.js';

/** At most this many words of a command are remembered by "always". */
export const MAX_APPROVAL_WORDS = 3;

/**
 * The prefix an "always" answer remembers, and the one the prompt shows: the command's first
 * {@link MAX_APPROVAL_WORDS} words (`npm exec foo --x` → `npm exec foo`, `npm -y exec foo` →
 * `npm -y exec`), never the bare program name when the command has arguments.
 */
export function approvalPrefix(argv: readonly string[]): string[] {
  return argv.slice(0, MAX_APPROVAL_WORDS);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `work` holding `<file>.lock` (O_EXCL); a lock whose owner process is gone is broken. */
export function withLock<T>(file: string, work: () => T, timeoutMs = 5000): T {
  const lock = `${file}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ApprovalsError(`cannot lock ${file}: ${(error as Error).message}`, { cause: error });
      }
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(lock, 'utf8').trim() || 'NaN');
      } catch (e) {
        // Released between our attempt and this read: try again at once.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new ApprovalsError(`cannot read the lock ${lock}: ${(e as Error).message}`, { cause: e });
      }
      if (Number.isInteger(owner) && !pidAlive(owner)) {
        rmSync(lock, { force: true }); // its owner is gone (a crash): break it
        continue;
      }
      if (Date.now() > deadline) throw new ApprovalsError(`timed out waiting for the lock ${lock}`);
      Atomics.wait(sleeper, 0, 0, 10);
    }
  }
  try {
    return work();
  } finally {
    unlinkSync(lock);
  }
}

export interface SavedApproval {
  readonly file: string;
  readonly id: string;
  /** False when the same prefix was already saved (nothing was appended). */
  readonly added: boolean;
}

/**
 * Saves `prefix` as an allow rule in `$CODEX_HOME/policy/approved.toml`, a user policy layer
 * read by `codex exec`, `codex policy check/explain`, `codex supervise` and `codex mcp serve`.
 * Appends under a file lock; a prefix already saved is not written twice.
 */
export function saveApproval(codexHome: string, prefix: readonly string[], now = new Date()): SavedApproval {
  if (prefix.length === 0 || prefix.some((w) => typeof w !== 'string' || w.length === 0)) {
    throw new ApprovalsError('an approval prefix needs at least one non-empty word');
  }
  const file = join(codexHome, APPROVALS_FILE);
  mkdirSync(dirname(file), { recursive: true });
  const id = `approved-${createHash('sha256').update(JSON.stringify(prefix)).digest('hex').slice(0, 16)}`;
  return withLock(file, () => {
    let existing = '';
    try {
      existing = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (existing.includes(`id = "${id}"`)) return { file, id, added: false };
    const rule = [
      '[[rule]]',
      `id = "${id}"`,
      `prefix = ${JSON.stringify(prefix)}`,
      'decision = "allow"',
      `justification = ${JSON.stringify(`approved with "always" on ${now.toISOString()}`)}`,
    ];
    appendFileSync(file, `${existing && !existing.endsWith('\n\n') ? '\n' : ''}${rule.join('\n')}\n`);
    return { file, id, added: true };
  });
}
