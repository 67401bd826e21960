import { CodexError } from '@codex/security-profile';
import { COMMANDS } from './commands.js';
import type { CliContext } from './context.js';
import { EXIT, UsageError } from './errors.js';
import { line, type Output, table, wantColor, watchStdout } from './output.js';
import {
  bool,
  defined,
  firstWord,
  GLOBAL_FLAGS,
  type GlobalValues,
  helpFor,
  optionsTable,
  parseInput,
  pickAction,
} from './spec.js';

export interface MainIO {
  readonly stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr?: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

function helpText(version: string): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => [`  ${name}`, c.summary]);
  return `codex ${version}: run agent commands under a security profile, inside a real OS sandbox.

Usage: codex [global options] <command> [options] [-- args…]

Commands:
${table(rows)}

Global options:
${optionsTable({ ...GLOBAL_FLAGS, version: bool('print the version', 'V') })}

Exit codes: 0 success, 1 failure, 2 usage or configuration error, 130 interrupted.
Commands document further codes in their own help.
Docs: https://github.com/codex-security/codex/blob/main/docs/cli.md`;
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggest(name: string): string {
  const best = Object.keys(COMMANDS)
    .map((c) => [c, distance(name, c)] as const)
    .sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? `; did you mean "${best[0]}"?` : '; run "codex --help" for the list';
}

/** Splits leading global options from the subcommand and its arguments. */
function splitCommand(argv: readonly string[]): { globals: string[]; name?: string; rest: string[] } {
  const at = firstWord(argv, {});
  if (at === -1) return { globals: [...argv], rest: [] };
  if (argv[at] === '--') return { globals: argv.slice(0, at), rest: argv.slice(at) };
  return { globals: argv.slice(0, at), name: argv[at]!, rest: argv.slice(at + 1) };
}

export async function main(argv: readonly string[], version: string, io: MainIO = {}): Promise<number> {
  const stdout = (io.stdout ?? process.stdout) as Output['stdout'] & { isTTY?: boolean };
  const stderr = (io.stderr ?? process.stderr) as Output['stderr'];
  const env = io.env ?? process.env;
  const debug = argv.includes('--debug');
  const jsonErrors = argv.includes('--json');
  const color = wantColor(env, argv.includes('--no-color'), stdout.isTTY === true);
  const out = { stdout, stderr, color };
  const code = await run(
    argv,
    version,
    { ...out, stdoutGone: watchStdout(out) },
    env,
    io.cwd ?? process.cwd(),
  ).catch((error: unknown) => {
    const usage = error instanceof UsageError;
    const known = error instanceof CodexError;
    const message = error instanceof Error ? error.message : String(error);
    if (jsonErrors) {
      const errorCode = known ? error.code : 'INTERNAL';
      line(stderr, JSON.stringify({ error: { code: errorCode, message } }));
    } else {
      line(stderr, `codex: error: ${message}`);
    }
    if (debug && error instanceof Error && error.stack) line(stderr, error.stack);
    else if (!known && !jsonErrors) line(stderr, 'codex: run with --debug for the stack trace');
    if (usage) return EXIT.USAGE;
    if (known && (error.code === 'INVALID_CONFIG' || error.code === 'UNKNOWN_PROFILE')) return EXIT.USAGE;
    return EXIT.FAILURE;
  });
  if (io.stdout === undefined) {
    process.exitCode = code;
    if (ONE_SHOT.has(splitCommand(argv).name ?? '')) exitWhenFlushed(code);
  }
  return code;
}

/**
 * Commands whose work is over when they return (their audit log closed, their child reaped, a
 * plugin's worker pool closed): the process exits as soon as its output is written, instead of
 * waiting for Node to tear the heap down (about 30 ms after a `codex exec`, measured under
 * strace; about 13 ms after a warm `codex plugin run`).
 */
const ONE_SHOT = new Set(['exec', 'policy', 'sandbox', 'plugin']);

function exitWhenFlushed(code: number): void {
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  // A write's callback runs once everything written before it is out (pipes can be async).
  process.stdout.write('', done);
  process.stderr.write('', done);
}

async function run(
  argv: readonly string[],
  version: string,
  out: Output & { readonly stdoutGone: AbortSignal },
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  const { globals, name, rest } = splitCommand(argv);
  if (globals.includes('--version') || globals.includes('-V')) {
    line(out.stdout, `codex ${version}`);
    return EXIT.OK;
  }
  // Words before the command name are global options only; after it, the action's and globals.
  const pre = parseInput('', { run: () => 0 }, globals).globals;
  if (name === undefined || name === 'help') {
    const asked = pre.help === true;
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined) return run([topic, '--help'], version, out, env, cwd);
    line(name === undefined && !asked ? out.stderr : out.stdout, helpText(version));
    return name === undefined && !asked ? EXIT.USAGE : EXIT.OK;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw new UsageError(`unknown command "${name}"${suggest(name)}`);
  const { command } = await entry.load();
  const help = () => {
    line(out.stdout, helpFor(name, command));
    return EXIT.OK;
  };
  // Asked for before the flags are parsed (`codex verify --help` has no <file>), or inside a
  // group of short flags (`-yh`), which only the parse finds.
  const after = rest.indexOf('--') === -1 ? rest : rest.slice(0, rest.indexOf('--'));
  if (pre.help || after.includes('--help') || after.includes('-h')) return help();
  const [action, own, word] = pickAction(name, command, rest);
  const input = parseInput(word ? `${name} ${word}` : name, action, own, command.actions);
  if (input.globals.help) return help();
  const g = {
    ...defined(pre),
    ...defined(input.globals),
    set: [...(pre.set ?? []), ...(input.globals.set ?? [])],
  };
  return action.run(await contextFor(g, version, out, env, cwd), input);
}

/** Resolves the config and the effective profile: `--profile` > `CODEX_PROFILE` > config > default. */
async function contextFor(
  g: GlobalValues,
  version: string,
  out: Output & { readonly stdoutGone: AbortSignal },
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<CliContext> {
  // Loaded here, not at start: `codex help` and `codex --version` need no config (nor core).
  const { resolveSettings } = await import('@codex/core');
  const both = g.profile !== undefined && g.sandbox !== undefined;
  // CODEX_PROFILE is checked before the flags, as it always was.
  const settings = resolveSettings(env, {
    ...{ configFile: g.config, overrides: g.set ?? [] },
    ...(both ? {} : { profile: g.profile, sandbox: g.sandbox }),
  });
  if (both) throw new UsageError('--profile and -s/--sandbox both choose the profile; give one');
  return {
    ...out,
    color: out.color && !g['no-color'],
    ...{ version, env, cwd, ...settings },
    json: g.json === true,
    debug: g.debug === true,
    ...(g['ask-for-approval'] === undefined ? {} : { approvalFlag: g['ask-for-approval'] }),
  };
}
