import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** The generated protobufjs code of the official OTLP .proto files (opentelemetry-proto). */
interface MessageType {
  decode(data: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(o: object): object;
  toObject(m: object, options: object): Record<string, unknown>;
  verify(m: object): string | null;
}
const root = createRequire(import.meta.url)('otlp-proto-defs/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { logs: { v1: Record<string, MessageType> } } } };
};
const { ExportLogsServiceRequest, ExportLogsServiceResponse } = root.opentelemetry.proto.collector.logs
  .v1 as {
  ExportLogsServiceRequest: MessageType;
  ExportLogsServiceResponse: MessageType;
};

export interface Receiver {
  readonly url: string;
  readonly requests: () => number;
  readonly rejected: () => number;
  close(): Promise<void>;
}

/**
 * A real OTLP/HTTP logs receiver on loopback: POST /v1/logs with application/x-protobuf, decoded
 * with the official proto definitions. Each request is appended to `exportFile` as one JSON line
 * (its protobuf JSON form), as the Collector's file exporter writes it. Anything else is refused:
 * wrong path or method (404/405), wrong content type (415), bytes that do not decode (400).
 */
export async function startOtlpReceiver(exportFile: string): Promise<Receiver> {
  let requests = 0;
  let rejected = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const refuse = (status: number) => {
        rejected++;
        res.writeHead(status);
        res.end();
      };
      if (req.url !== '/v1/logs') return refuse(404);
      if (req.method !== 'POST') return refuse(405);
      if (req.headers['content-type'] !== 'application/x-protobuf') return refuse(415);
      let json: Record<string, unknown>;
      try {
        const msg = ExportLogsServiceRequest.decode(Buffer.concat(chunks));
        const problem = ExportLogsServiceRequest.verify(msg);
        if (problem) throw new Error(problem);
        json = ExportLogsServiceRequest.toObject(msg, { longs: String, enums: Number, bytes: String });
      } catch {
        return refuse(400);
      }
      if (!Array.isArray(json.resourceLogs)) return refuse(400);
      requests++;
      appendFileSync(exportFile, `${JSON.stringify(json)}\n`);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(
        Buffer.from(ExportLogsServiceResponse.encode(ExportLogsServiceResponse.fromObject({})).finish()),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/logs`,
    requests: () => requests,
    rejected: () => rejected,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
