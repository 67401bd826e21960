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
import type { CliContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { interrupts, line, paint, print, styler, table } from '../output.js';
import { action, bool, type Command, type Flags, int, list, str, type Values } from '../spec.js';

const HELP = `The log is [audit].path of the config (default $CODEX_HOME/audit/audit.jsonl), with its rotated
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

const FILE = { file: str('LOG', 'another log than the configured one') } as const satisfies Flags;
const KEY_ENV = {
  'key-env': str('VAR', 'the variable holding the HMAC key (default [audit].hmac_key_env)'),
} as const;
const FILTER = {
  decision: list('D', 'only entries with this decision (repeatable)'),
  operation: list('OP', 'only entries of this operation (repeatable)'),
  profile: list('P', 'only entries under this profile (repeatable)'),
  session: list('ID', 'only entries of this session (repeatable)'),
  task: list('ID', 'only entries of this task (repeatable)'),
  since: str('TIME', 'only entries from TIME on'),
  until: str('TIME', 'only entries before TIME'),
  ...FILE,
} as const satisfies Flags;

const TAIL = {
  follow: bool('print entries as they are written', 'f'),
  lines: int('N', 'the last N entries (default 10)', { min: 0 }, 'n'),
  ...FILE,
} as const satisfies Flags;

export const command: Command = {
  help: HELP,
  actions: {
    tail: action({
      flags: TAIL,
      run: (ctx, { values }) => guard(() => tail(ctx, values)),
    }),
    query: action({
      flags: FILTER,
      run: (ctx, { values }) => guard(() => query(ctx, values)),
    }),
    verify: action({
      args: '[<file>…]',
      flags: {
        ...KEY_ENV,
        partial: bool('the files are the end of a log: trust the first line as the anchor'),
        pubkey: list('PEM', 'a trusted checkpoint key (default $CODEX_HOME/audit/checkpoint-key.pub.pem)'),
        checkpoints: str('FILE', 'the signed checkpoints (default <log>.checkpoints)'),
        export: str('OTLP.jsonl', 'verify a merged OTLP export host by host'),
      },
      run: (ctx, { values, args }) => guard(() => verifyCommand(ctx, values, args)),
    }),
    checkpoint: action({
      flags: {
        ...FILE,
        key: str('PEM', 'the P-256 private key to sign with (default: the host key)'),
        ...KEY_ENV,
      },
      run: (ctx, { values }) => guard(() => checkpointCommand(ctx, values)),
    }),
    stats: action({ flags: FILTER, run: (ctx, { values }) => guard(() => stats(ctx, values)) }),
  },
};

/** Runs an action; the audit library's errors about flags become usage errors (exit 2). */
async function guard(fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof AuditError)) throw error;
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
}

/** Where the log and its keys are found: the config, CODEX_HOME, the working directory, the environment. */
function setup(ctx: CliContext): AuditSetup {
  return { config: ctx.config.audit, home: ctx.codexHome, cwd: ctx.cwd, env: ctx.env };
}

/** The configured log, or --file. */
function logPath(ctx: CliContext, file: string | undefined): string {
  return auditLogPath(setup(ctx), file);
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

async function tail(ctx: CliContext, values: Values<typeof TAIL>): Promise<number> {
  const gone = ctx.stdoutGone;
  const count = values.lines ?? 10;
  const path = logPath(ctx, values.file);
  const tail = await tailEntries(path, { count, onCorrupt: (c) => warnCorrupt(ctx, c) });
  for (const r of tail.last) {
    if (gone.aborted) return EXIT.OK;
    printRecord(ctx, r);
  }
  if (!values.follow || gone.aborted) {
    if (tail.files.length === 0) line(ctx.stderr, paint(ctx, 'dim', `codex: no audit log at ${path}`));
    return EXIT.OK;
  }
  const stop = interrupts();
  try {
    for await (const r of tail.follow(AbortSignal.any([stop.signal, gone]))) printRecord(ctx, r);
  } finally {
    stop.done();
  }
  return gone.aborted ? EXIT.OK : EXIT.INTERRUPTED;
}

async function query(ctx: CliContext, values: Values<typeof FILTER>): Promise<number> {
  const filter = parseAuditFilter(values);
  const files = await filesOf(ctx, logPath(ctx, values.file));
  let n = 0;
  for await (const r of readEntries(files, filter, { onCorrupt: (c) => warnCorrupt(ctx, c) })) {
    if (ctx.stdoutGone.aborted) return EXIT.OK;
    printRecord(ctx, r);
    n++;
  }
  if (!ctx.json) line(ctx.stderr, paint(ctx, 'dim', `${n} entr${n === 1 ? 'y' : 'ies'}`));
  return EXIT.OK;
}

async function stats(ctx: CliContext, values: Values<typeof FILTER>): Promise<number> {
  const filter = parseAuditFilter(values);
  const files = await filesOf(ctx, logPath(ctx, values.file));
  const s = await auditStats(files, filter);
  for (const c of s.corrupt) warnCorrupt(ctx, c);
  print(ctx, s, () => table(describeAuditStats(s)));
  return EXIT.OK;
}

async function checkpointCommand(
  ctx: CliContext,
  values: { file?: string; key?: string; 'key-env'?: string },
): Promise<number> {
  const written = await checkpointAudit(setup(ctx), {
    ...{ file: values.file, key: values.key, keyEnv: values['key-env'] },
    onKeyCreated: (keyDir) =>
      line(ctx.stderr, paint(ctx, 'dim', `codex: created the checkpoint key in ${keyDir}`)),
  });
  print(
    ctx,
    written,
    () => `checkpoint: seq ${written.seq} ${written.hash.slice(0, 16)}… signed into ${written.file}`,
  );
  return EXIT.OK;
}

async function verifyCommand(
  ctx: CliContext,
  values: { 'key-env'?: string; partial?: boolean; pubkey?: string[]; checkpoints?: string; export?: string },
  files: string[],
): Promise<number> {
  const v = await verifyAudit(setup(ctx), {
    ...{ files, export: values.export, keyEnv: values['key-env'], pubkeys: values.pubkey },
    ...{ partial: values.partial === true, checkpoints: values.checkpoints },
  });
  if (v.kind === 'export') return reportExport(ctx, v.result);
  if (ctx.json) line(ctx.stdout, JSON.stringify(verifyLogJson(v.result, v.exitCode, v.checkpoints), null, 2));
  else for (const l of describeVerify(v.result, v.exitCode, v.checkpoints, styler(ctx))) line(ctx.stdout, l);
  return v.exitCode;
}

/** A merged export: one line per host; the exit code is the most serious host's (see docs). */
function reportExport(ctx: CliContext, r: ExportVerifyResult): number {
  const doc = verifyExportJson(r);
  print(ctx, doc, () => describeExportVerify(r, styler(ctx)).lines);
  return doc.exitCode;
}
