import { WindowsCommandNotFoundError, WindowsQuotingError } from './errors.js';

/**
 * Quotes one argument so that the Microsoft C runtime and `CommandLineToArgvW` give it back
 * unchanged: no quotes when it has no space, tab, newline, vertical tab or `"` and is not empty;
 * otherwise wrapped in `"`, with each `"` preceded by a backslash and every run of backslashes
 * that precedes a `"` (or the closing quote) doubled.
 */
export function quoteWindowsArg(arg: string): string {
  if (arg.includes('\0')) throw new WindowsQuotingError('an argument contains a NUL character', arg);
  if (arg !== '' && !/[ \t\n\v"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') out += `${'\\'.repeat(slashes * 2 + 1)}"`;
    else out += '\\'.repeat(slashes) + ch;
    slashes = 0;
  }
  return `${out}${'\\'.repeat(slashes * 2)}"`;
}

/**
 * The program name follows other rules: it ends at the first space or tab unless quoted, and
 * backslashes are never escapes, so it cannot contain `"`.
 */
export function quoteWindowsProgram(program: string): string {
  if (program === '') throw new WindowsQuotingError('empty program name', program);
  if (program.includes('"') || program.includes('\0'))
    throw new WindowsQuotingError(`program name ${JSON.stringify(program)} cannot contain a quote`, program);
  return /[ \t]/.test(program) ? `"${program}"` : program;
}

/** Characters cmd.exe interprets even inside quotes (BatBadBut, CVE-2024-27980 class). */
const CMD_META = /["%!^&|<>()\r\n]/;

export function isBatchFile(program: string): boolean {
  return /\.(bat|cmd)$/i.test(program);
}

/**
 * Builds the command line for CreateProcessW from argv. A `.bat`/`.cmd` program runs through
 * `cmd.exe /d /s /c`, whose parsing cannot be quoted safely: any argument with a cmd.exe
 * metacharacter is refused ({@link WindowsQuotingError}) rather than passed.
 */
export function buildWindowsCommandLine(argv: readonly string[], options: { comspec?: string } = {}): string {
  if (argv.length === 0) throw new WindowsQuotingError('empty command', '');
  const [program, ...args] = argv as [string, ...string[]];
  if (isBatchFile(program)) {
    for (const a of args) {
      if (CMD_META.test(a))
        throw new WindowsQuotingError(
          `argument ${JSON.stringify(a)} to batch file ${program} contains a cmd.exe metacharacter; refusing (it could run other commands)`,
          a,
        );
    }
    const inner = [quoteWindowsProgram(program), ...args.map(quoteWindowsArg)].join(' ');
    const comspec = options.comspec ?? 'C:\\Windows\\System32\\cmd.exe';
    return `${quoteWindowsProgram(comspec)} /d /s /c "${inner}"`;
  }
  return [quoteWindowsProgram(program), ...args.map(quoteWindowsArg)].join(' ');
}

/**
 * Splits a command line the way `CommandLineToArgvW` does (the inverse of
 * {@link buildWindowsCommandLine} for non-batch programs). Used by tests and diagnostics.
 */
export function parseWindowsCommandLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  // Program name: up to the first space/tab, or between quotes; no escapes.
  let program = '';
  if (line[0] === '"') {
    const end = line.indexOf('"', 1);
    program = end < 0 ? line.slice(1) : line.slice(1, end);
    i = end < 0 ? line.length : end + 1;
  } else {
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') program += line[i++];
  }
  out.push(program);
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    while (i < line.length) {
      const ch = line[i]!;
      if (!quoted && (ch === ' ' || ch === '\t')) break;
      if (ch === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(n);
        }
        continue;
      }
      if (ch === '"') {
        if (quoted && line[i + 1] === '"') {
          // `""` inside quotes: a literal quote (CommandLineToArgvW, msvcrt 2008+).
          arg += '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        i++;
        continue;
      }
      arg += ch;
      i++;
    }
    out.push(arg);
  }
  return out;
}

/**
 * Resolves a command to an absolute path the way a careful shell would on Windows: an absolute
 * or explicitly relative path is taken as is (with PATHEXT tried when it has no extension); a
 * bare name is looked up in PATH only, never in the current directory (a workspace must not be
 * able to plant `git.exe`).
 */
export function resolveWindowsCommand(
  command: string,
  env: Readonly<Record<string, string | undefined>>,
  exists: (path: string) => boolean,
): string {
  const get = (name: string) => Object.entries(env).find(([k]) => k.toUpperCase() === name)?.[1];
  const exts = (get('PATHEXT') ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean);
  const hasExt = /\.[^\\/.]+$/.test(command);
  const candidates = (base: string) => (hasExt ? [base] : exts.map((e) => base + e.toLowerCase()));
  if (/[\\/]/.test(command) || /^[A-Za-z]:/.test(command)) {
    const found = candidates(command).find(exists);
    if (found) return found;
    throw new WindowsCommandNotFoundError(command);
  }
  for (const dir of (get('PATH') ?? '').split(';').filter(Boolean)) {
    const base = `${dir.replace(/[\\/]+$/, '')}\\${command}`;
    const found = candidates(base).find(exists);
    if (found) return found;
  }
  throw new WindowsCommandNotFoundError(command);
}
