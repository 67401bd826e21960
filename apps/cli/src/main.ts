import { CodexError } from '@codex/security-profile';
import { firstWord, type GlobalValues, parse } from './args.js';
import { COMMANDS } from './commands.js';
import type { CliContext } from './context.js';
import { EXIT, UsageError } from './errors.js';
import { line, type Output, table, wantColor } from './output.js';

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
  -p, --profile <name>  offline (default), net-read-only, workspace-write, workspace-net, trusted
  -s, --sandbox <mode>  the original CLI's modes: read-only (offline), workspace-write,
                        danger-full-access (trusted); profile names work too
      --config <file>   config file (default: $CODEX_HOME/config.toml, CODEX_HOME=~/.codex)
  -c, --set <key=value> override a config key (dotted, TOML value), e.g. -c approval.mode=untrusted
  -a, --ask-for-approval <mode>
                        untrusted, on-request (default) or never: when a command the policy
                        does not allow outright is asked about (exec, supervise, worker, mcp serve)
      --json            machine-readable output on stdout; errors as JSON on stderr
      --no-color        no ANSI colour (also NO_COLOR=1)
      --debug           print stack traces on errors
  -h, --help            help for codex or a command
  -V, --version         print the version

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
  const code = await run(argv, version, { stdout, stderr, color }, env, io.cwd ?? process.cwd()).catch(
    (error: unknown) => {
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
    },
  );
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
  out: Output,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  const { globals, name, rest } = splitCommand(argv);
  if (globals.includes('--version') || globals.includes('-V')) {
    line(out.stdout, `codex ${version}`);
    return EXIT.OK;
  }
  const parsed = parse(globals, {});
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  if (name === undefined || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined) return run([topic, '--help'], version, out, env, cwd);
    if (name === undefined && !parsed.values.help) {
      line(out.stderr, helpText(version));
      return EXIT.USAGE;
    }
    line(out.stdout, helpText(version));
    return EXIT.OK;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw new UsageError(`unknown command "${name}"${suggest(name)}`);

  const { command } = await entry.load();
  // Global flags may also follow the subcommand name; the subcommand re-parses its own argv.
  const dashdash = rest.indexOf('--');
  const own = dashdash === -1 ? rest : rest.slice(0, dashdash);
  if (own.includes('--help') || own.includes('-h') || parsed.values.help) {
    line(out.stdout, `${command.usage}\n\n${command.summary}`);
    return EXIT.OK;
  }
  const after = globalValuesFrom(own);
  const before = parsed.values as GlobalValues;
  const g = { ...before, ...after, set: [...(before.set ?? []), ...(after.set ?? [])] } as GlobalValues;
  const ctx = await contextFor(g, version, out, env, cwd);
  return command.run(ctx, rest);
}

/** Resolves the config and the effective profile: `--profile` > `CODEX_PROFILE` > config > default. */
async function contextFor(
  g: GlobalValues,
  version: string,
  out: Output,
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

/** Reads global flags that appear after the subcommand name, without judging the others. */
function globalValuesFrom(argv: readonly string[]): Partial<GlobalValues> {
  const values: Partial<GlobalValues> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    if (flag === '--profile' || flag === '-p') values.profile = inline ?? argv[++i];
    else if (flag === '--sandbox' || flag === '-s') values.sandbox = inline ?? argv[++i];
    else if (flag === '--set' || flag === '-c')
      values.set = [...(values.set ?? []), inline ?? argv[++i] ?? ''];
    else if (flag === '--config') values.config = inline ?? argv[++i];
    else if (flag === '--ask-for-approval' || flag === '-a') values['ask-for-approval'] = inline ?? argv[++i];
    else if (flag === '--json') values.json = true;
    else if (flag === '--debug') values.debug = true;
    else if (flag === '--no-color') values['no-color'] = true;
  }
  return values;
}
