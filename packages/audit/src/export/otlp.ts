import { hostname } from 'node:os';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type { AuditExportSink } from '../checkpoint-writer.js';
import { InvalidAuditOptionsError } from '../errors.js';
import { OTLP_ATTRIBUTES } from './attributes.js';

export { OTLP_ATTRIBUTES } from './attributes.js';

export interface OtlpAuditExporterOptions {
  /** The OTLP/HTTP logs endpoint, e.g. `http://collector:4318/v1/logs`. */
  readonly url: string;
  /** `host.name` of the resource. Default `os.hostname()`. */
  readonly host?: string;
  /** Name of the log on that host (`codex.audit.log`). Default `audit.jsonl`. */
  readonly log?: string;
  readonly headers?: Record<string, string>;
  /** Batch delay (ms) of the SDK's BatchLogRecordProcessor. Default 1000. */
  readonly scheduledDelayMillis?: number;
}

export interface OtlpAuditExporter extends AuditExportSink {
  /** Sends everything queued so far. */
  flush(): Promise<void>;
  /** Flushes and stops. */
  shutdown(): Promise<void>;
}

/**
 * An export sink that sends every written entry and checkpoint to an OpenTelemetry Collector
 * over OTLP/HTTP (protobuf), with the OpenTelemetry JS logs SDK. Each record's body is the exact
 * line as written and its attributes carry seq, hash and prev, so the store can re-verify each
 * host's chain (`verifyExport`). Pass it as the logger's `export` option.
 */
export function createOtlpAuditExporter(options: OtlpAuditExporterOptions): OtlpAuditExporter {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new InvalidAuditOptionsError(`otlp exporter: url: not a URL: "${options.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidAuditOptionsError(`otlp exporter: url: expected http(s), got ${url.protocol}`);
  const host = options.host ?? hostname();
  const log = options.log ?? 'audit.jsonl';
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'host.name': host, 'service.name': 'codex-audit' }),
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: url.href, headers: options.headers ?? {} }),
        scheduledDelayMillis: options.scheduledDelayMillis ?? 1000,
        maxQueueSize: 100_000,
        maxExportBatchSize: 512,
      }),
    ],
  });
  const logger = provider.getLogger('@codex/audit');
  const emit = (kind: 'entry' | 'checkpoint', line: string) => {
    const f = JSON.parse(line) as {
      seq: number;
      hash: string;
      prev?: string;
      timestamp?: string;
      time?: string;
    };
    logger.emit({
      eventName: `codex.audit.${kind}`,
      body: line,
      timestamp: new Date(f.timestamp ?? f.time ?? Date.now()),
      attributes: {
        [OTLP_ATTRIBUTES.kind]: kind,
        [OTLP_ATTRIBUTES.log]: log,
        [OTLP_ATTRIBUTES.seq]: f.seq,
        [OTLP_ATTRIBUTES.hash]: f.hash,
        ...(f.prev === undefined ? {} : { [OTLP_ATTRIBUTES.prev]: f.prev }),
      },
    });
  };
  return {
    entries(lines) {
      for (const l of lines) emit('entry', l);
    },
    checkpoint(line) {
      emit('checkpoint', line);
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
