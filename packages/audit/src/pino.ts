import type { AuditEventInput, AuditSink, SecurityProfile } from '@codex/security-profile';

export interface AuditDestinationOptions {
  /** Profile used when a log object has none. Without it, such objects are errors. */
  readonly profile?: SecurityProfile;
  /**
   * Where the audit fields are: at the top level of the log object (default), or under this key
   * (e.g. `'audit'` for `logger.info({ audit: { … } }, 'msg')`).
   */
  readonly key?: string;
  /** Called when a line cannot be turned into an event or the sink rejects it. Default: a process warning. */
  readonly onError?: (error: unknown, line: string) => void;
}

type Json = Record<string, unknown>;

/**
 * Maps one pino log object to an audit event, or `undefined` if it carries no audit fields
 * (`operation`, `decision` and `target`): ordinary log lines pass through untouched. `reason`
 * falls back to pino's `msg`.
 */
export function pinoObjectToEvent(
  obj: Json,
  options: Pick<AuditDestinationOptions, 'profile' | 'key'> = {},
): AuditEventInput | undefined {
  const src = options.key === undefined ? obj : obj[options.key];
  if (typeof src !== 'object' || src === null) return undefined;
  const a = src as Json;
  if (a.operation === undefined || a.decision === undefined || a.target === undefined) return undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const event: { -readonly [K in keyof AuditEventInput]: AuditEventInput[K] } = {
    profile: (a.profile ?? options.profile) as SecurityProfile,
    operation: a.operation as AuditEventInput['operation'],
    target: a.target as string,
    decision: a.decision as AuditEventInput['decision'],
    reason: str(a.reason) ?? str(obj.msg) ?? '',
  };
  const session = str(a.session_id);
  const task = str(a.task_id);
  const agent = str(a.agent_type);
  if (session !== undefined) event.session_id = session;
  if (task !== undefined) event.task_id = task;
  if (agent !== undefined) event.agent_type = agent;
  if (a.details !== undefined) event.details = a.details as NonNullable<AuditEventInput['details']>;
  return event;
}

/**
 * A pino destination: `pino(options, auditDestination(logger))`. Each log line that carries audit
 * fields becomes an audit entry (masked, chained); other lines are ignored. Combine with a normal
 * destination through `pino.multistream` to keep ordinary logs too.
 */
export function auditDestination(sink: AuditSink, options: AuditDestinationOptions = {}): AuditDestination {
  return new AuditDestination(sink, options);
}

export class AuditDestination {
  /** Marks this object as a stream, so `pino(auditDestination(…))` works without options too. */
  readonly writable = true;
  /** Lines turned into audit events. */
  accepted = 0;
  /** Lines without audit fields. */
  ignored = 0;
  /** Lines that failed (bad JSON, invalid event, sink rejected). */
  failed = 0;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly sink: AuditSink,
    private readonly options: AuditDestinationOptions,
  ) {}

  /** Called by pino with one or more newline-terminated JSON lines. */
  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      let event: AuditEventInput | undefined;
      try {
        event = pinoObjectToEvent(JSON.parse(line) as Json, this.options);
      } catch (error) {
        this.fail(error, line);
        continue;
      }
      if (event === undefined) {
        this.ignored++;
        continue;
      }
      this.accepted++;
      const p = this.sink.log(event).then(
        () => undefined,
        (error: unknown) => this.fail(error, line),
      );
      this.pending.add(p);
      p.finally(() => this.pending.delete(p));
    }
    return true;
  }

  /** Resolves when every event handed to the sink so far has been logged (or failed). */
  async flush(cb?: (error?: Error) => void): Promise<void> {
    await Promise.all([...this.pending]);
    const flushable = this.sink as AuditSink & { flush?: () => Promise<void> };
    if (typeof flushable.flush === 'function') await flushable.flush();
    cb?.();
  }

  /** pino calls this on `logger.flush()`/final; the sink is left open. */
  flushSync(): void {}

  end(): void {
    void this.flush();
  }

  private fail(error: unknown, line: string): void {
    this.failed++;
    if (this.options.onError) this.options.onError(error, line);
    else
      process.emitWarning(
        `@codex/audit pino destination: ${error instanceof Error ? error.message : String(error)}`,
      );
  }
}
