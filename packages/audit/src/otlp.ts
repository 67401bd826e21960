// `@codex/audit/otlp`: the OTLP/HTTP exporter (loads the OpenTelemetry logs SDK).
export {
  createOtlpAuditExporter,
  OTLP_ATTRIBUTES,
  type OtlpAuditExporter,
  type OtlpAuditExporterOptions,
} from './export/otlp.js';
