// A command is declared once, as data: its actions, positional arguments, flags and their help.
// Parsing, the usage errors, `--help` and the shell completion are all read from that one
// declaration, so they cannot disagree (a flag the help shows is a flag the parser takes).
import { parseArgs } from 'node:util';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { table } from './output.js';

export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's name in the help (`MS`, `FILE`); string flags only. */
  readonly arg?: string;
  /** An integer flag (`_` separators allowed): read as a number in `min`..`max` (default 1..). */
  readonly int?: { readonly min?: number; readonly max?: number };
  /** One line (or a few) for the options table; a flag without it is accepted but not shown. */
  readonly help?: string;
}
export type Flags = Readonly<Record<string, Flag>>;

/** What the parser read for `F`: booleans, numbers (`int`), strings or string lists. */
export type Values<F extends Flags> = {
  readonly [K in keyof F]?: F[K] extends { type: 'boolean' }
    ? boolean
    : F[K] extends { int: object }
      ? number
      : F[K] extends { multiple: true }
        ? string[]
        : string;
};

export interface Input<F extends Flags> {
  readonly values: Values<F>;
  /** The positional arguments (the action's name removed). */
  readonly args: string[];
  /** The words after `--`. */
  readonly rest: string[];
}

export interface Action<F extends Flags = Flags> {
  /** Positional arguments for the synopsis and the count check: `<file>`, `[<tool>]`, `[<file>…]`. */
  readonly args?: string;
  /** Words after `--`: `<cmd…>` (required) or `[<cmd…>]`; absent, none are accepted. */
  readonly command?: string;
  readonly flags?: F;
  /** A line in the help under the synopsis. */
  readonly about?: string;
  /** The flags part of the synopsis, when not every flag is to be listed (`[run options]`). */
  readonly synopsis?: string;
  /** The values a shell may complete for its positional arguments (`bash`, `zsh`, `fish`). */
  readonly complete?: readonly string[];
  run(ctx: CliContext, input: Input<F>): Promise<number> | number;
}

export interface Command {
  /** The rest of `--help`: what the command does, its exit codes. */
  readonly help: string;
  /** One action, or named ones (`codex audit tail`); `default` runs when none is named. */
  readonly action?: Action;
  readonly actions?: Readonly<Record<string, Action>>;
  readonly default?: string;
}

/** A flag with a value (`--out FILE`); `short` is its one-letter form. */
export const str = (arg: string, help?: string, short?: string) =>
  ({ type: 'string', arg, ...(help ? { help } : {}), ...(short ? { short } : {}) }) as const;
/** A repeatable flag with a value (`--policy FILE`…). */
export const list = (arg: string, help?: string) => ({ ...str(arg, help), multiple: true }) as const;
/** An integer flag, checked against `min`..`max` (default 1..). */
export const int = (arg: string, help?: string, range: { min?: number; max?: number } = {}, short?: string) =>
  ({ ...str(arg, help, short), int: range }) as const;
/** A flag without a value (`--force`). */
export const bool = (help?: string, short?: string) =>
  ({ type: 'boolean', ...(help ? { help } : {}), ...(short ? { short } : {}) }) as const;

/** Keeps each action's flag types for its `run` (a plain object literal would widen them). */
export const action = <F extends Flags>(a: Action<F>): Action => a as unknown as Action;

/** Options every command accepts, before or after the subcommand name. */
export const GLOBAL_FLAGS = {
  profile: str('NAME', 'offline (default), net-read-only, workspace-write, workspace-net, trusted', 'p'),
  sandbox: str(
    'MODE',
    "the original CLI's modes: read-only (offline), workspace-write,\ndanger-full-access (trusted); profile names work too",
    's',
  ),
  config: str('FILE', 'config file (default: $CODEX_HOME/config.toml, CODEX_HOME=~/.codex)'),
  set: {
    ...list('KEY=VALUE', 'override a config key (dotted, TOML value), e.g. -c approval.mode=untrusted'),
    short: 'c',
  },
  'ask-for-approval': str(
    'MODE',
    'untrusted, on-request (default) or never: when a command the policy does not\nallow outright is asked about (exec, supervise, worker, mcp serve)',
    'a',
  ),
  json: bool('machine-readable output on stdout; errors as JSON on stderr'),
  'no-color': bool('no ANSI colour (also NO_COLOR=1)'),
  debug: bool('print stack traces on errors'),
  help: bool('help for codex or a command', 'h'),
} as const satisfies Flags;

export type GlobalValues = Values<typeof GLOBAL_FLAGS>;

export function actionsOf(c: Command): [string | undefined, Action][] {
  return c.actions ? Object.entries(c.actions) : [[undefined, c.action!]];
}

/**
 * Where the words of a command begin: the index of the first positional argument or `--` in
 * `argv`, skipping the values of string flags (global ones and `flags`); -1 if none.
 */
export function firstWord(argv: readonly string[], flags: Flags): number {
  // The globals' spellings and the command's, each kept: a command flag of a global's name
  // (audit's --profile) does not take away the global's short form.
  const takesValue = new Set([...spellings(GLOBAL_FLAGS, takesAValue), ...spellings(flags, takesAValue)]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-')) return i;
    if (takesValue.has(arg)) i++;
  }
  return -1;
}

/** `--long` and `-s` of every flag in `flags` that `keep` accepts. */
export function spellings(flags: Flags, keep: (f: Flag) => boolean = () => true): string[] {
  return Object.entries<Flag>(flags).flatMap(([long, f]) =>
    keep(f) ? [`--${long}`, ...(f.short ? [`-${f.short}`] : [])] : [],
  );
}

export const takesAValue = (f: Flag) => f.type === 'string';

/** The action `argv` names and `argv` without that name. */
export function pickAction(name: string, c: Command, argv: readonly string[]): [Action, string[], string?] {
  if (!c.actions) return [c.action!, [...argv]];
  const all = Object.assign({}, ...Object.values(c.actions).map((a) => a.flags ?? {})) as Flags;
  const at = firstWord(argv, all);
  const word = at === -1 || argv[at] === '--' ? c.default : argv[at];
  const rest = at === -1 || argv[at] === '--' ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 1)];
  const names = Object.keys(c.actions);
  const list = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  if (word === undefined) throw new UsageError(`missing action for "codex ${name}"; use ${list}`);
  if (!Object.hasOwn(c.actions, word))
    throw new UsageError(`unknown action "${word}" for "codex ${name}"; use ${list}`);
  return [c.actions[word]!, rest, word];
}

/**
 * Strict parsing of `argv` (global flags and the action's) with one-line errors, then the count of
 * positional arguments and the words after `--` checked against the action's declaration.
 */
export function parseInput(
  label: string,
  a: Action,
  argv: readonly string[],
  others: Readonly<Record<string, Action>> = {},
): Input<Flags> & { globals: GlobalValues } {
  const dashdash = argv.indexOf('--');
  const head = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const rest = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  const flags: Flags = { ...GLOBAL_FLAGS, ...a.flags };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...head], options: flags, allowPositionals: true, strict: true });
  } catch (error) {
    // node's messages are multi-line and mention `--` tricks; keep the first sentence.
    const first = String((error as Error).message).split('\n')[0]!;
    const message = first.replace(/\. To specify a positional argument.*$/, '');
    const unknown = /^Unknown option '(--?[^'=]+)/.exec(message);
    // A flag of another action of the same command (`plugin inspect --fuel`) says where it belongs.
    const owner =
      unknown && Object.entries(others).find(([, o]) => spellings(o.flags ?? {}).includes(unknown[1]!));
    if (owner)
      throw new UsageError(`${unknown![1]} applies to "codex ${label.split(' ')[0]} ${owner[0]}" only`);
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option'));
  }
  const values: Record<string, unknown> = { ...parsed.values };
  for (const [name, f] of Object.entries(flags)) {
    if (f.int && values[name] !== undefined) values[name] = intFlag(name, values[name], f.int, f.short);
  }
  checkCount(label, a, parsed.positionals, rest);
  // An action's flag of a global's name is that global re-described for its help (`-a`), unless
  // it takes another kind of value (`codex audit query --profile P…` filters; it sets no profile).
  const globals: Record<string, unknown> = {};
  for (const [name, g] of Object.entries<Flag>(GLOBAL_FLAGS)) {
    const own = a.flags?.[name];
    if (!own || (own.type === g.type && own.multiple === g.multiple)) globals[name] = values[name];
  }
  return {
    values: values as Values<Flags>,
    globals: globals as GlobalValues,
    args: parsed.positionals,
    rest,
  };
}

function checkCount(label: string, a: Action, args: readonly string[], rest: readonly string[]): void {
  const words = (a.args ?? '').split(/ +/).filter(Boolean);
  const required = words.filter((w) => w.startsWith('<'));
  const max = words.some((w) => w.endsWith('…') || w.endsWith('…]')) ? Infinity : words.length;
  if (args.length < required.length)
    throw new UsageError(`missing ${required[args.length]} for "codex ${label}"`);
  if (args.length > max) {
    // One argument that may hold spaces (a question, a file name), or a command that belongs after --.
    const one =
      words.length === 1 && words[0]!.startsWith('<') ? ` (quote ${words[0]} if it has spaces)` : '';
    const hint = a.command && words.length === 0 ? '; put the command after --' : one;
    throw new UsageError(`unexpected argument "${args[max]}"${hint}`);
  }
  if (a.command === undefined && rest.length > 0) throw new UsageError(`"codex ${label}" takes no command`);
  if (a.command?.startsWith('<') && (rest.length === 0 || rest[0] === ''))
    throw new UsageError(`missing command: codex ${label} [options] -- ${a.command}`);
}

/**
 * The integer value of flag `--name`; anything else, or a value outside `min`..`max`, is a usage
 * error.
 */
export function intFlag(
  name: string,
  raw: unknown,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
  short?: string,
): number {
  const digits = String(raw).replace(/_/g, '');
  const n = Number(digits);
  if (/^\d+$/.test(digits) && Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const unbounded = max === Number.MAX_SAFE_INTEGER;
  const range =
    unbounded && min <= 1
      ? `a ${min === 1 ? 'positive' : 'non-negative'} integer`
      : unbounded
        ? `an integer of at least ${min}`
        : `an integer from ${min} to ${max}`;
  throw new UsageError(`${short ? `-${short}/` : ''}--${name} must be ${range}, got "${String(raw)}"`);
}

/** `-s, --sandbox MODE`, as the synopsis and the options table name a flag. */
function flagName(long: string, f: Flag): string {
  const value = f.type === 'string' ? ` ${f.arg ?? 'VALUE'}` : '';
  return `${f.short ? `-${f.short}, ` : '    '}--${long}${value}`;
}

function synopsisFlag(long: string, f: Flag): string {
  const name = f.short ? `-${f.short}` : `--${long}`;
  return `[${name}${f.type === 'string' ? ` ${f.arg ?? 'VALUE'}` : ''}]${f.multiple ? '…' : ''}`;
}

/** The options table: every flag with help, its help's lines aligned under the first. */
export function optionsTable(flags: Flags): string {
  const shown = Object.entries(flags).filter(([, f]) => f.help);
  const width = Math.max(...shown.map(([long, f]) => flagName(long, f).length + 2));
  const rows: string[][] = [];
  for (const [long, f] of shown) {
    // The help column wrapped so that a line stays within 100 columns (at least 40 for the help).
    const [first, ...more] = f.help!.split('\n').flatMap((l) => fill(l.split(' '), Math.max(40, 98 - width)));
    rows.push([`  ${flagName(long, f)}`, first!], ...more.map((l) => ['', l]));
  }
  return table(rows);
}

/**
 * Words joined by spaces into lines of at most `width` columns (a longer word stands alone), the
 * lines after the first starting with `indent`.
 */
function fill(words: readonly string[], width: number, indent = ''): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current);
      current = indent + word;
    } else current = current ? `${current} ${word}` : word;
  }
  return [...out, current];
}

/** `codex <cmd> --help`: a synopsis line per action, the options, then the command's own text. */
export function helpFor(name: string, c: Command): string {
  const lines: string[] = [];
  const described: Record<string, Flag> = {};
  for (const [word, a] of actionsOf(c)) {
    const parts = [`codex ${name}${word ? ` ${word}` : ''}`, ...(a.args ? [a.args] : [])];
    if (a.synopsis) parts.push(a.synopsis);
    for (const [long, f] of Object.entries(a.flags ?? {})) {
      // A flag without help (an old spelling: --timeout-ms) is accepted but not shown.
      if (!f.help) continue;
      if (!a.synopsis) parts.push(synopsisFlag(long, f));
      described[long] = f;
    }
    if (a.command) parts.push(a.command.startsWith('[') ? `[-- ${a.command.slice(1)}` : `-- ${a.command}`);
    // Continuation lines start under the first word after `codex <name> [<action>]`.
    const lead = `${lines.length === 0 ? 'Usage: ' : '       '}${parts[0]}`;
    lines.push(...fill([lead, ...parts.slice(1)], 100, ' '.repeat(lead.length + 1)));
    if (a.about) lines.push(`         ${a.about}`);
  }
  const options = Object.keys(described).length > 0 ? `\n\nOptions:\n${optionsTable(described)}` : '';
  return `${lines.join('\n')}${options}\n\n${c.help}\n\nGlobal options (codex --help) apply too.`;
}

/** `o` without its undefined properties (options are typed with exactOptionalPropertyTypes). */
export function defined<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
