import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts, before or after the subcommand name. */
export const GLOBAL_OPTIONS = {
  profile: { type: 'string', short: 'p' },
  sandbox: { type: 'string', short: 's' },
  config: { type: 'string' },
  set: { type: 'string', short: 'c', multiple: true },
  'ask-for-approval': { type: 'string', short: 'a' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export type GlobalValues = {
  profile?: string | undefined;
  sandbox?: string | undefined;
  config?: string | undefined;
  set?: string[] | undefined;
  'ask-for-approval'?: string | undefined;
  json?: boolean | undefined;
  debug?: boolean | undefined;
  'no-color'?: boolean | undefined;
  help?: boolean | undefined;
};

/**
 * Strict parsing with one-line errors. Everything after `--` is returned untouched in `rest`.
 */
export function parse<O extends Options>(
  argv: readonly string[],
  options: O,
): {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  rest: string[];
} {
  const dashdash = argv.indexOf('--');
  const head = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const rest = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  try {
    const { values, positionals } = parseArgs({
      args: [...head],
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals, rest };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // node's messages are multi-line and mention `--` tricks; keep the first sentence.
    const first = message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(first.replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option'));
  }
}

/**
 * Where a command's own words begin: the index of the first positional argument or `--` in
 * `argv`, skipping the values of the string options (global ones and `options`); -1 if none.
 */
export function firstWord(argv: readonly string[], options: Options): number {
  const takesValue = new Set<string>();
  const all: Options = { ...GLOBAL_OPTIONS, ...options };
  for (const [long, o] of Object.entries(all)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${long}`);
    if (o.short !== undefined) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--' || !arg.startsWith('-')) return i;
    if (takesValue.has(arg)) i++;
  }
  return -1;
}

/**
 * The integer value of flag `--name` (`_` separators allowed: `1_000_000`), or `undefined` when
 * it was not given; anything else, or a value outside `min`..`max`, is a usage error.
 */
export function intFlag(
  name: string,
  raw: unknown,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const digits = String(raw).replace(/_/g, '');
  const n = Number(digits);
  if (/^\d+$/.test(digits) && Number.isSafeInteger(n) && n >= min && n <= max) return n;
  const range =
    min === 1 && max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from ${min} to ${max}`;
  throw new UsageError(`--${name} must be ${range}, got "${String(raw)}"`);
}
