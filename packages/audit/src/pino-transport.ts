import { Writable } from 'node:stream';
import { AuditLogger } from './logger.js';
import type { AuditLoggerOptions } from './logger-options.js';
import { type AuditDestinationOptions, auditDestination } from './pino.js';

export type AuditTransportOptions = AuditLoggerOptions & Pick<AuditDestinationOptions, 'profile' | 'key'>;

/**
 * A pino transport (runs in pino's worker thread):
 *
 *   pino.transport({ target: '@codex/audit/pino-transport', options: { path, durability: 'batch', profile: 'offline' } })
 *
 * Log objects with audit fields become entries of the log at `path`; other lines are ignored.
 * Failures are printed to stderr (the worker has no other channel). The log is flushed and
 * closed when the transport ends.
 */
export default async function auditTransport(options: AuditTransportOptions): Promise<Writable> {
  const { profile, key, ...loggerOptions } = options;
  const logger = new AuditLogger(loggerOptions);
  const dest = auditDestination(logger, {
    ...(profile === undefined ? {} : { profile }),
    ...(key === undefined ? {} : { key }),
    onError: (error) => {
      process.stderr.write(
        `@codex/audit pino transport: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    },
  });
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      // Writes normally carry whole lines; keep an incomplete one for the next chunk anyway.
      const text = rest + chunk.toString();
      const end = text.lastIndexOf('\n');
      rest = end === -1 ? text : text.slice(end + 1);
      if (end !== -1) dest.write(text.slice(0, end + 1));
      callback();
    },
    final(callback) {
      if (rest !== '') dest.write(`${rest}\n`);
      dest
        .flush()
        .then(() => logger.close())
        .then(() => callback(), callback);
    },
  });
}
