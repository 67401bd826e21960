import {
  AuditError,
  AuditExportFilesError,
  AuditExportKeysRequiredError,
  type AuditRecord,
  type AuditSetup,
  AuditTrustedKeyRequiredError,
  auditLogPath,
  auditStats,
  type CorruptLine,
  checkpointAudit,
  describeAuditEntry,
  describeAuditStats,
  describeExportVerify,
  describeVerify,
  type ExportVerifyResult,
  InvalidAuditFilterError,
  logFiles,
  parseAuditFilter,
  readEntries,
  tailEntries,
  verifyAudit,
  verifyExportJson,
  verifyLogJson,
} from '@codex/audit';
import { CodexError } from '@codex/security-profile';
import { parse } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { line, paint, styler, table } from '../output.js';

const USAGE = `Usage: codex audit tail [-f] [-n <N>] [--file <log>] [--json]
       codex audit query [--decision <d>]… [--operation <op>]… [--profile <p>]… [--session <id>]…
                         [--task <id>]… [--since <time>] [--until <time>] [--file <log>] [--json]
       codex audit verify [<file>…] [--key-env <VAR>] [--partial] [--pubkey <pem>]… [--checkpoints <file>] [--json]
       codex audit verify --export <otlp.jsonl> --pubkey <pem>… [--key-env <VAR>] [--json]
       codex audit checkpoint [--file <log>] [--key <pem>] [--key-env <VAR>] [--json]
       codex audit stats [--since <time>] [--until <time>] [--file <log>] [--json]

The log is [audit].path of the config (default $CODEX_HOME/audit/audit.jsonl), with its rotated
files (<log>.1, <log>.2, …) read oldest first; --file names another log.
<time> is a duration back from now (90s, 15m, 1h, 2d, 1w) or an ISO 8601 date.
--json prints one JSON object per line (tail, query) or one JSON document (verify, stats).

verify checks the hash chain across the given files (default: the whole rotated log). The HMAC
key is read from the variable named by --key-env or by [audit].hmac_key_env. With a trusted
checkpoint key (--pubkey, default $CODEX_HOME/audit/checkpoint-key.pub.pem) it also checks the
entries against the signed checkpoints in <log>.checkpoints (--checkpoints names another file).
checkpoint signs the log's current head now with the host key (created on first use; --key
names another P-256 private key PEM). --export verifies a merged OTLP export (JSON lines as an
OpenTelemetry Collector's file exporter writes them) host by host.
Exit codes: 0 intact, 1 tampered or corrupt, 2 usage or configuration error,
            3 only a torn final line (a writer crashed; not tampering), 4 a file could not be read,
            5 truncated (the log ends before its latest signed checkpoint),
            6 an entry covered by a signed checkpoint was edited, removed or inserted,
            7 missing checkpoint (a key is trusted but the log has no checkpoint),
            8 forged checkpoint (bad signature, unknown key, malformed or out of order),
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
  summary:
    'Read, query, checkpoint and verify the tamper-evident audit log (tail, query, verify, checkpoint, stats).',
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
        case 'checkpoint':
          return await checkpointCommand(ctx, argv);
        case 'stats':
          return await stats(ctx, argv);
        case undefined:
          throw new UsageError(
            'missing action for "codex audit"; use tail, query, verify, checkpoint or stats',
          );
        default:
          throw new UsageError(
            `unknown action "${action}" for "codex audit"; use tail, query, verify, checkpoint or stats`,
          );
      }
    } catch (error) {
      if (error instanceof AuditError) {
        // Bad --since/--until values are usage errors; a missing HMAC key is a configuration error.
        if (error.code === 'AUDIT_INVALID_TIME') throw new UsageError(error.message);
        if (error instanceof InvalidAuditFilterError)
          throw new UsageError(
            `invalid --${error.field} "${error.value}"; valid values: ${error.allowed.join(', ')}`,
          );
        if (error instanceof AuditTrustedKeyRequiredError)
          throw new UsageError('--checkpoints needs a trusted key (--pubkey <pem>)');
        if (error instanceof AuditExportFilesError) throw new UsageError('--export takes no log files');
        if (error instanceof AuditExportKeysRequiredError)
          throw new UsageError("--export needs the hosts' public keys (--pubkey <pem>, repeatable)");
        if (error.code === 'AUDIT_MISSING_KEY' || error.code === 'AUDIT_INVALID_OPTIONS')
          throw new CodexError('INVALID_CONFIG', error.message);
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
    if (!ac.signal.aborted)
      line(ctx.stderr, `codex: error: cannot write output (${error.code ?? error.message})`);
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

/** Where the log and its keys are found: the config, CODEX_HOME, the working directory, the environment. */
function setup(ctx: CliContext): AuditSetup {
  return { config: ctx.config.audit, home: ctx.codexHome, cwd: ctx.cwd, env: ctx.env };
}

/** The configured log, or --file. */
function logPath(ctx: CliContext, file: unknown): string {
  return auditLogPath(setup(ctx), file as string | undefined);
}

function filterFrom(values: Record<string, unknown>) {
  return parseAuditFilter(values as Parameters<typeof parseAuditFilter>[0]);
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
  line(ctx.stdout, ctx.json ? JSON.stringify(r.entry) : describeAuditEntry(r.entry, styler(ctx)));
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
  const tail = await tailEntries(path, { count, onCorrupt: (c) => warnCorrupt(ctx, c) });
  for (const r of tail.last) {
    if (pipe.gone()) return EXIT.OK;
    printRecord(ctx, r);
  }
  if (!values.follow || pipe.gone()) {
    if (tail.files.length === 0) line(ctx.stderr, paint(ctx, 'dim', `codex: no audit log at ${path}`));
    return EXIT.OK;
  }
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  pipe.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const r of tail.follow(ac.signal)) printRecord(ctx, r);
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
  line(ctx.stdout, table(describeAuditStats(s)));
  return EXIT.OK;
}

async function checkpointCommand(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    file: { type: 'string' },
    key: { type: 'string' },
    'key-env': { type: 'string' },
  });
  noExtra(positionals);
  const written = await checkpointAudit(setup(ctx), {
    file: values.file as string | undefined,
    key: values.key as string | undefined,
    keyEnv: values['key-env'] as string | undefined,
    onKeyCreated: (keyDir) =>
      line(ctx.stderr, paint(ctx, 'dim', `codex: created the checkpoint key in ${keyDir}`)),
  });
  if (ctx.json) line(ctx.stdout, JSON.stringify(written, null, 2));
  else
    line(
      ctx.stdout,
      `checkpoint: seq ${written.seq} ${written.hash.slice(0, 16)}… signed into ${written.file}`,
    );
  return EXIT.OK;
}

async function verifyCommand(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'key-env': { type: 'string' },
    partial: { type: 'boolean' },
    pubkey: { type: 'string', multiple: true },
    checkpoints: { type: 'string' },
    export: { type: 'string' },
  });
  const v = await verifyAudit(setup(ctx), {
    files: positionalsAfterAction(positionals),
    export: values.export as string | undefined,
    keyEnv: values['key-env'] as string | undefined,
    pubkeys: values.pubkey as string[] | undefined,
    partial: values.partial === true,
    checkpoints: values.checkpoints as string | undefined,
  });
  if (v.kind === 'export') return reportExport(ctx, v.result);
  if (ctx.json) line(ctx.stdout, JSON.stringify(verifyLogJson(v.result, v.exitCode, v.checkpoints), null, 2));
  else for (const l of describeVerify(v.result, v.exitCode, v.checkpoints, styler(ctx))) line(ctx.stdout, l);
  return v.exitCode;
}

/** A merged export: one line per host; the exit code is the most serious host's (see docs). */
function reportExport(ctx: CliContext, r: ExportVerifyResult): number {
  if (ctx.json) {
    const doc = verifyExportJson(r);
    line(ctx.stdout, JSON.stringify(doc, null, 2));
    return doc.exitCode;
  }
  const { lines, exitCode } = describeExportVerify(r, styler(ctx));
  for (const l of lines) line(ctx.stdout, l);
  return exitCode;
}
