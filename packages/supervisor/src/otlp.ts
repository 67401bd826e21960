import { importOptional } from '@codex/security-profile';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';

/** The OpenTelemetry packages OTLP metric export loads (optional peers of this package). */
export const OTLP_METRICS_PACKAGES = [
  '@opentelemetry/api@~1.9.1',
  '@opentelemetry/sdk-metrics@2.12.0',
  '@opentelemetry/exporter-metrics-otlp-http@0.223.0',
  '@opentelemetry/resources@2.12.0',
] as const;

export interface OtlpMetricsHandle {
  readonly meterProvider: MeterProvider;
  /** Where metrics are posted (`<endpoint>/v1/metrics`). */
  readonly url: string;
  /** Collects and exports now. */
  forceFlush(): Promise<void>;
  /** Exports what is pending and stops the periodic export. */
  shutdown(): Promise<void>;
}

export interface OtlpMetricsOptions {
  /** Base OTLP/HTTP endpoint; default `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint?: string;
  /** Full metrics URL; default `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else `<endpoint>/v1/metrics`. */
  readonly url?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Export interval; default 10 s (`OTEL_METRIC_EXPORT_INTERVAL`). */
  readonly intervalMs?: number;
  readonly serviceName?: string;
  /** Also register as the global meter provider (default true). */
  readonly global?: boolean;
}

/**
 * Starts OTLP/HTTP (JSON) metric export when an endpoint is configured, else returns `undefined`.
 * The OpenTelemetry SDK is loaded only here, so runs without an endpoint never pay for it; its
 * packages are optional peers, and when they are missing this throws
 * `OptionalDependencyMissingError` (`OPTIONAL_DEPENDENCY_MISSING`) naming them.
 */
export async function startOtlpMetrics(
  options: OtlpMetricsOptions = {},
): Promise<OtlpMetricsHandle | undefined> {
  const env = options.env ?? process.env;
  const url =
    options.url ??
    env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ??
    withPath(options.endpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!url) return undefined;
  const [
    { metrics },
    { MeterProvider, PeriodicExportingMetricReader },
    { OTLPMetricExporter },
    { resourceFromAttributes },
  ] = await importOptional(`OTLP metric export (to ${url})`, OTLP_METRICS_PACKAGES, () =>
    Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
      import('@opentelemetry/resources'),
    ]),
  );
  const interval = options.intervalMs ?? (Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 10_000);
  const exporter = new OTLPMetricExporter({ url });
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    // a collector that is down delays exit by at most this much
    exportTimeoutMillis: Math.min(interval, 5_000),
  });
  const meterProvider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'codex',
    }),
    readers: [reader],
  });
  if (options.global !== false) metrics.setGlobalMeterProvider(meterProvider);
  return {
    meterProvider,
    url,
    forceFlush: () => meterProvider.forceFlush(),
    shutdown: async () => {
      await meterProvider.shutdown();
      if (options.global !== false) metrics.disable();
    },
  };
}

function withPath(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  return `${endpoint.replace(/\/+$/, '')}/v1/metrics`;
}
