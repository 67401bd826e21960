import {
  AuditError,
  type AuditFilter,
  type AuditRecord,
  auditStats,
  type CorruptLine,
  DECISIONS,
  followEntries,
  logFiles,
  OPERATIONS,
  PROFILES,
  parseTimeSpec,
  readEntries,
  resolveAuditPath,
  type VerifyResult,
  verify,
} from '@codex/audit';
import { CodexError } from '@codex/security-profile';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, table } from '../output.js';

/** Exit codes of `codex audit verify` beyond the shared ones (see docs/audit.md). */
export const AUDIT_EXIT = {
  /** Tampering or corruption found (also any other failure). */
  TAMPERED: 1,
  /** Only a torn final line: a writer crashed mid-line. Not tampering. */
  TORN_TAIL: 3,
  /** A log file could not be read (missing, permissions). */
  UNREADABLE: 4,
} as const;

const USAGE = `Usage: codex audit tail [-f] [-n <N>] [--file <log>] [--json]
       codex audit query [--decision <d>]… [--operation <op>]… [--profile <p>]… [--session <id>]…
                         [--task <id>]… [--since <time>] [--until <time>] [--file <log>] [--json]
       codex audit verify [<file>…] [--key-env <VAR>] [--partial] [--json]
       codex audit stats [--since <time>] [--until <time>] [--file <log>] [--json]

The log is [audit].path of the config (default $CODEX_HOME/audit/audit.jsonl), with its rotated
files (<log>.1, <log>.2, …) read oldest first; --file names another log.
<time> is a duration back from now (90s, 15m, 1h, 2d, 1w) or an ISO 8601 date.
--json prints one JSON object per line (tail, query) or one JSON document (verify, stats).

verify checks the hash chain across the given files (default: the whole rotated log). The HMAC
key is read from the variable named by --key-env or by [audit].hmac_key_env.
Exit codes: 0 intact, 1 tampered or corrupt, 2 usage or configuration error,
            3 only a torn final line (a writer crashed; not tampering), 4 a file could not be read,
            130 interrupted (tail -f).`;

const FILTER_OPTIONS = {
  decision: { type: 'string', multiple: true },
  operation: { type: 'string', multiple: true },
  profile: { type: 'string', multiple: true },
  session: { type: 'string', multiple: true },
  task: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  file: { type: 'string' },
} as const;

export const command: Command = {
  summary: 'Read, query and verify the tamper-evident audit log (tail, query, verify, stats).',
  usage: USAGE,
  async run(ctx, argv) {
    const action = argv.find((a) => !a.startsWith('-'));
    const pipe = watchPipe(ctx);
    try {
      switch (action) {
        case 'tail':
          return await tail(ctx, argv, pipe);
        case 'query':
          return await query(ctx, argv, pipe);
        case 'verify':
          return await verifyCommand(ctx, argv);
        case 'stats':
          return await stats(ctx, argv);
        case undefined:
          throw new UsageError('missing action for "codex audit"; use tail, query, verify or stats');
        default:
          throw new UsageError(
            `unknown action "${action}" for "codex audit"; use tail, query, verify or stats`,
          );
      }
    } catch (error) {
      if (error instanceof AuditError) {
        // Bad --since/--until values are usage errors; a missing HMAC key is a configuration error.
        if (error.code === 'AUDIT_INVALID_TIME') throw new UsageError(error.message);
        if (error.code === 'AUDIT_MISSING_KEY') throw new CodexError('INVALID_CONFIG', error.message);
        throw new CodexError(error.code, error.message, { cause: error });
      }
      throw error;
    }
  },
};

/**
 * `codex audit query | head -1`: once the reader of stdout goes away, writes fail with EPIPE.
 * Like other Unix tools we stop quietly with exit 0 instead of crashing with a stack trace.
 */
interface PipeWatch {
  readonly signal: AbortSignal;
  readonly gone: () => boolean;
}
function watchPipe(ctx: CliContext): PipeWatch {
  const ac = new AbortController();
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      ac.abort();
      return;
    }
    // Any other write error: report it once, on stderr, and stop writing.
    if (!ac.signal.aborted) line(ctx.stderr, `codex: error: cannot write output (${error.code ?? error.message})`);
    ac.abort();
  };
  // Left attached after the command returns: the EPIPE of its last writes arrives later.
  ctx.stdout.on('error', onError);
  return { signal: ac.signal, gone: () => ac.signal.aborted };
}

function positionalsAfterAction(positionals: readonly string[]): string[] {
  return positionals.slice(1);
}

function noExtra(positionals: readonly string[]): void {
  const extra = positionalsAfterAction(positionals)[0];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
}

/** The configured log, or --file. */
function logPath(ctx: CliContext, file: unknown): string {
  if (typeof file === 'string') return resolveAuditPath({ path: file }, ctx.cwd);
  return resolveAuditPath(ctx.config.audit, ctx.codexHome);
}

function oneOf<T extends string>(flag: string, values: unknown, allowed: readonly T[]): T[] | undefined {
  if (values === undefined) return undefined;
  const list = (values as string[]).flatMap((v) => v.split(',')).filter((v) => v !== '');
  for (const v of list) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw new UsageError(`invalid --${flag} "${v}"; valid values: ${allowed.join(', ')}`);
    }
  }
  return list as T[];
}

function filterFrom(values: Record<string, unknown>): AuditFilter {
  const now = Date.now();
  const filter: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
  const decision = oneOf('decision', values.decision, DECISIONS);
  const operation = oneOf('operation', values.operation, OPERATIONS);
  const profile = oneOf('profile', values.profile, PROFILES);
  if (decision) filter.decision = decision;
  if (operation) filter.operation = operation;
  if (profile) filter.profile = profile;
  if (values.session) filter.session = values.session as string[];
  if (values.task) filter.task = values.task as string[];
  if (typeof values.since === 'string') filter.since = parseTimeSpec(values.since, now);
  if (typeof values.until === 'string') filter.until = parseTimeSpec(values.until, now);
  return filter;
}

async function filesOf(ctx: CliContext, path: string): Promise<string[]> {
  const files = await logFiles(path);
  if (files.length === 0) line(ctx.stderr, paint(ctx, 'dim', `codex: no audit log at ${path}`));
  return files;
}

function warnCorrupt(ctx: CliContext, c: CorruptLine): void {
  line(
    ctx.stderr,
    paint(ctx, 'yellow', `codex: warning: ${c.file}:${c.line}: ${c.kind}: ${c.message} (skipped)`),
  );
}

function printRecord(ctx: CliContext, r: AuditRecord): void {
  const e = r.entry;
  if (ctx.json) {
    line(ctx.stdout, JSON.stringify(e));
    return;
  }
  const style = e.decision === 'denied' ? 'red' : e.decision === 'allowed' ? 'green' : 'yellow';
  const who = [e.session_id, e.task_id, e.agent_type].filter((x) => x !== null).join('/') || '-';
  line(
    ctx.stdout,
    `${e.timestamp}  #${e.seq}  ${paint(ctx, style, e.decision.padEnd(17))}  ${e.operation.padEnd(14)}  ${e.profile.padEnd(
      15,
    )}  ${who}  ${e.target}${e.reason ? paint(ctx, 'dim', `  (${e.reason})`) : ''}`,
  );
}

async function tail(ctx: CliContext, argv: readonly string[], pipe: PipeWatch): Promise<number> {
  const { values, positionals } = parse(argv, {
    follow: { type: 'boolean', short: 'f' },
    lines: { type: 'string', short: 'n' },
    file: { type: 'string' },
  });
  noExtra(positionals);
  const count = values.lines === undefined ? 10 : Number(values.lines);
  if (!Number.isInteger(count) || count < 0)
    throw new UsageError(`invalid -n "${String(values.lines)}"; expected a whole number`);
  const path = logPath(ctx, values.file);
  const files = await logFiles(path);
  const last: AuditRecord[] = [];
  const reported = new Set<string>();
  const warnOnce = (c: CorruptLine) => {
    const key = `${c.file}:${c.line}`;
    if (reported.has(key)) return;
    reported.add(key);
    warnCorrupt(ctx, c);
  };
  let lastSeq = 0;
  for await (const r of readEntries(files, {}, { onCorrupt: warnOnce })) {
    lastSeq = Math.max(lastSeq, r.entry.seq);
    if (count === 0) continue;
    last.push(r);
    if (last.length > count) last.shift();
  }
  for (const r of last) {
    if (pipe.gone()) return EXIT.OK;
    printRecord(ctx, r);
  }
  if (!values.follow || pipe.gone()) {
    if (files.length === 0) line(ctx.stderr, paint(ctx, 'dim', `codex: no audit log at ${path}`));
    return EXIT.OK;
  }
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  pipe.signal.addEventListener('abort', stop, { once: true });
  try {
    // Follow from the start of the live file and skip what was already shown (seq is the chain's
    // order), so entries appended between reading the history and starting to follow are not lost.
    for await (const r of followEntries(path, { signal: ac.signal, fromStart: true, onCorrupt: warnOnce })) {
      if (r.entry.seq <= lastSeq) continue;
      lastSeq = r.entry.seq;
      printRecord(ctx, r);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    pipe.signal.removeEventListener('abort', stop);
  }
  return pipe.gone() ? EXIT.OK : EXIT.INTERRUPTED;
}

async function query(ctx: CliContext, argv: readonly string[], pipe: PipeWatch): Promise<number> {
  const { values, positionals } = parse(argv, FILTER_OPTIONS);
  noExtra(positionals);
  const filter = filterFrom(values);
  const files = await filesOf(ctx, logPath(ctx, values.file));
  let n = 0;
  for await (const r of readEntries(files, filter, { onCorrupt: (c) => warnCorrupt(ctx, c) })) {
    if (pipe.gone()) return EXIT.OK;
    printRecord(ctx, r);
    n++;
  }
  if (!ctx.json) line(ctx.stderr, paint(ctx, 'dim', `${n} entr${n === 1 ? 'y' : 'ies'}`));
  return EXIT.OK;
}

async function stats(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, FILTER_OPTIONS);
  noExtra(positionals);
  const filter = filterFrom(values);
  const files = await filesOf(ctx, logPath(ctx, values.file));
  const s = await auditStats(files, filter);
  for (const c of s.corrupt) warnCorrupt(ctx, c);
  if (ctx.json) {
    line(ctx.stdout, JSON.stringify(s, null, 2));
    return EXIT.OK;
  }
  const rows: string[][] = [
    ['files', String(s.files.length)],
    ['entries', String(s.entries)],
    ['corrupt lines', String(s.corrupt.length)],
    ['first', s.first ?? '-'],
    ['last', s.last ?? '-'],
    ['sessions', String(s.sessions)],
    ['tasks', String(s.tasks)],
  ];
  for (const [title, counts] of [
    ['decision', s.byDecision],
    ['operation', s.byOperation],
    ['profile', s.byProfile],
  ] as const) {
    for (const [k, v] of Object.entries(counts).sort((a, b) => b[1] - a[1]))
      rows.push([`${title} ${k}`, String(v)]);
  }
  line(ctx.stdout, table(rows));
  return EXIT.OK;
}

async function verifyCommand(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'key-env': { type: 'string' },
    partial: { type: 'boolean' },
  });
  const given = positionalsAfterAction(positionals);
  const files =
    given.length > 0
      ? given.map((f) => resolveAuditPath({ path: f }, ctx.cwd))
      : await logFiles(resolveAuditPath(ctx.config.audit, ctx.codexHome));
  if (files.length === 0) {
    const path = resolveAuditPath(ctx.config.audit, ctx.codexHome);
    return report(ctx, {
      ok: false,
      intact: false,
      status: 'tampered',
      files: [path],
      entries: 0,
      problem: { kind: 'unreadable', file: path, line: 0, message: `no audit log at ${path}` },
    });
  }
  const keyEnv = (values['key-env'] as string | undefined) ?? ctx.config.audit.hmac_key_env;
  let hmacKey: string | undefined;
  if (keyEnv !== undefined) {
    hmacKey = ctx.env[keyEnv];
    if (!hmacKey)
      throw new CodexError('INVALID_CONFIG', `the HMAC key variable ${keyEnv} is not set or empty`);
  }
  const result = await verify(files, {
    ...(hmacKey === undefined ? {} : { hmacKey }),
    ...(values.partial ? { partial: true } : {}),
  });
  return report(ctx, result);
}

function report(ctx: CliContext, r: VerifyResult): number {
  const code =
    r.status === 'ok'
      ? EXIT.OK
      : r.status === 'torn-tail'
        ? AUDIT_EXIT.TORN_TAIL
        : r.problem?.kind === 'unreadable'
          ? AUDIT_EXIT.UNREADABLE
          : AUDIT_EXIT.TAMPERED;
  if (ctx.json) {
    line(ctx.stdout, JSON.stringify({ ...r, exitCode: code }, null, 2));
    return code;
  }
  const span = r.entries > 0 ? ` (seq ${r.firstSeq}..${r.lastSeq}, ${r.chain} chain)` : '';
  const where = `${r.files.length} file${r.files.length === 1 ? '' : 's'}`;
  if (r.problem) {
    const p = r.problem;
    line(
      ctx.stdout,
      `${paint(ctx, 'red', p.kind === 'unreadable' ? 'UNREADABLE' : 'TAMPERED')}: ${p.file}:${p.line}: ${p.kind}: ${p.message}`,
    );
    line(ctx.stdout, `${r.entries} entries verified before the problem, in ${where}`);
  } else if (r.tornTail) {
    line(
      ctx.stdout,
      `${paint(ctx, 'yellow', 'TORN TAIL')}: ${r.tornTail.file}:${r.tornTail.line}: last line incomplete (${r.tornTail.bytes} bytes): a writer stopped mid-line; not tampering`,
    );
    line(ctx.stdout, `${r.entries} entries intact${span} in ${where}`);
  } else {
    line(ctx.stdout, `${paint(ctx, 'green', 'OK')}: ${r.entries} entries intact${span} in ${where}`);
  }
  return code;
}
