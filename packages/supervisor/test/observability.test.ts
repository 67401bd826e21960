import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, METRIC_NAMES, Supervisor, startOtlpMetrics, TaskDeniedError } from '../src/index.js';
import { deferred, until } from './helpers.js';

interface Received {
  url: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: OtlpJson;
}
interface Attr {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface DataPoint {
  attributes?: Attr[];
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: DataPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints: DataPoint[] };
  histogram?: { dataPoints: DataPoint[] };
}
interface OtlpJson {
  resourceMetrics: { resource: { attributes: Attr[] }; scopeMetrics: { metrics: OtlpMetric[] }[] }[];
}

/** A real OTLP/HTTP JSON receiver on loopback: decodes every export request it gets. */
async function startReceiver(): Promise<{ server: Server; endpoint: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        received.push({
          url: req.url ?? '',
          method: req.method ?? '',
          headers: req.headers,
          body: JSON.parse(text) as OtlpJson,
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      } catch {
        res.writeHead(400);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${port}`, received };
}

const attrs = (p: DataPoint) =>
  Object.fromEntries(
    (p.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue]),
  );
const num = (v: string | number | undefined) => Number(v ?? Number.NaN);

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

describe('OTLP metric export', () => {
  it('is off without an endpoint, and derives the metrics URL from OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    expect(await startOtlpMetrics({ env: {} })).toBeUndefined();
    const h = await startOtlpMetrics({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1/' },
      global: false,
    });
    expect(h?.url).toBe('http://127.0.0.1:1/v1/metrics');
    await h?.meterProvider.shutdown({ timeoutMillis: 100 }).catch(() => {});
  });

  it('exports the five metrics to a real OTLP/HTTP receiver on loopback', async () => {
    const rx = await startReceiver();
    server = rx.server;
    const otlp = await startOtlpMetrics({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint },
      intervalMs: 600_000, // only explicit flushes export
      global: false,
      serviceName: 'supervisor-test',
    });
    if (!otlp) throw new Error('expected an exporter');
    try {
      const sup = new Supervisor({
        maxConcurrent: 2,
        profile: 'workspace-write',
        meter: otlp.meterProvider.getMeter('@codex/supervisor'),
      });
      const gate = deferred();
      const started = deferred();
      sup.register<string, string>('ok', async (x) => x.toUpperCase());
      sup.register('held', async () => {
        started.resolve();
        await gate.promise;
        return 'done';
      });
      sup.register('broken', async () => {
        throw new Error('kaput');
      });
      sup.register('denier', async (_i, ctx) => {
        ctx.decision('denied', 'network tool under offline');
        throw new TaskDeniedError('network tool under offline');
      });
      const run = sup.run({
        failure: 'skip-dependents',
        tasks: [
          { id: 'a', agent: 'ok', input: 'a' },
          { id: 'b', agent: 'ok', input: 'b' },
          { id: 'h', agent: 'held' },
          { id: 'x', agent: 'broken' },
          { id: 'd', agent: 'denier' },
          { id: 'after-x', agent: 'ok', input: 'z', dependsOn: ['x'] },
        ],
      });
      await started.promise;
      // while `h` holds a permit, the active-agents gauge reads at least 1
      await otlp.forceFlush();
      await until(() => rx.received.length >= 1, 10_000, 'first export');
      const during = metricsOf(rx.received[0]!.body);
      const activeDuring = during.get(METRIC_NAMES.activeAgents)?.gauge?.dataPoints ?? [];
      expect(num(activeDuring[0]?.asInt ?? activeDuring[0]?.asDouble)).toBeGreaterThanOrEqual(1);
      gate.resolve();
      const report = await run;
      expect(report.status).toBe('failed');
      await otlp.forceFlush();
      await until(() => rx.received.length >= 2, 10_000, 'second export');

      const last = rx.received.at(-1)!;
      expect(last.method).toBe('POST');
      expect(last.url).toBe('/v1/metrics');
      expect(last.headers['content-type']).toMatch(/application\/json/);
      const resource = attrsOf(last.body.resourceMetrics[0]!.resource.attributes);
      expect(resource['service.name']).toBe('supervisor-test');
      const m = metricsOf(last.body);
      for (const name of Object.values(METRIC_NAMES)) expect(m.has(name), name).toBe(true);

      const tasks = m.get(METRIC_NAMES.tasks)!.sum!;
      expect(tasks.isMonotonic).toBe(true);
      const byStatus = Object.fromEntries(
        tasks.dataPoints.map((p) => [
          `${attrs(p).agent_type}/${attrs(p).status}`,
          num(p.asInt ?? p.asDouble),
        ]),
      );
      expect(byStatus).toEqual({
        'ok/succeeded': 2,
        'held/succeeded': 1,
        'broken/failed': 1,
        'denier/denied': 1,
        'ok/skipped': 1,
      });
      expect(tasks.dataPoints.every((p) => attrs(p).profile === 'workspace-write')).toBe(true);

      const hist = m.get(METRIC_NAMES.taskDuration)!;
      expect(hist.unit).toBe('ms');
      const histCount = hist.histogram!.dataPoints.reduce((n, p) => n + num(p.count), 0);
      expect(histCount).toBe(6);

      const errors = Object.fromEntries(
        m.get(METRIC_NAMES.errors)!.sum!.dataPoints.map((p) => [attrs(p).code, num(p.asInt ?? p.asDouble)]),
      );
      expect(errors).toEqual({ TASK_FAILED: 1, TASK_DENIED: 1, DEPENDENCY_FAILED: 1 });

      const denials = m.get(METRIC_NAMES.denials)!.sum!.dataPoints;
      expect(denials.map((p) => [attrs(p).agent_type, num(p.asInt ?? p.asDouble)])).toEqual([['denier', 1]]);

      const active = m.get(METRIC_NAMES.activeAgents)!.gauge!.dataPoints;
      expect(num(active[0]?.asInt ?? active[0]?.asDouble)).toBe(0);
    } finally {
      await otlp.shutdown();
    }
  });
});

describe('structured logs', () => {
  it('pino lines carry task_id, agent, profile and decision', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const sup = new Supervisor({
      profile: 'offline',
      logger: createLogger({ destination: sink, level: 'debug' }),
    });
    sup.register('guard', async (cmd: string, ctx) => {
      if (cmd.startsWith('curl')) {
        ctx.decision('denied', 'network tool');
        throw new TaskDeniedError('network tool');
      }
      ctx.decision('allowed', 'known safe');
      return cmd;
    });
    await sup.run({
      failure: 'skip-dependents',
      tasks: [
        { id: 'safe', agent: 'guard', input: 'ls' },
        { id: 'net', agent: 'guard', input: 'curl example' },
      ],
    });
    await until(() => lines.some((l) => l.msg === 'run failed'), 5_000, 'run log line');
    const decisions = lines.filter((l) => 'decision' in l);
    expect(decisions.map((l) => [l.task_id, l.agent, l.agent_type, l.profile, l.decision])).toEqual([
      ['safe', 'safe', 'guard', 'offline', 'allowed'],
      ['net', 'net', 'guard', 'offline', 'denied'],
    ]);
    const ends = lines.filter((l) => l.event === 'task_end');
    expect(ends.map((l) => [l.task_id, l.status, l.code])).toEqual([
      ['safe', 'succeeded', undefined],
      ['net', 'denied', 'TASK_DENIED'],
    ]);
    expect(ends.every((l) => typeof l.run_id === 'string' && typeof l.duration_ms === 'number')).toBe(true);
  });
});

function attrsOf(list: Attr[]): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, a.value.stringValue]));
}

function metricsOf(body: OtlpJson): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const rm of body.resourceMetrics)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}

describe('metric attributes', () => {
  it('metricAttributes (a queue worker: worker_id, host) go on every data point', async () => {
    const rx = await startReceiver();
    server = rx.server;
    const otlp = await startOtlpMetrics({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.endpoint },
      intervalMs: 600_000,
      global: false,
    });
    if (!otlp) throw new Error('expected an exporter');
    try {
      const sup = new Supervisor({
        meter: otlp.meterProvider.getMeter('@codex/supervisor'),
        metricAttributes: { worker_id: 'w9', host: 'h9' },
      });
      sup.register('ok', async () => 1);
      sup.register('no', async () => {
        throw new TaskDeniedError('nope');
      });
      await sup.run({
        failure: 'skip-dependents',
        tasks: [
          { id: 'a', agent: 'ok' },
          { id: 'b', agent: 'no' },
        ],
      });
      await otlp.forceFlush();
      await until(() => rx.received.length >= 1, 10_000, 'an export');
      const m = metricsOf(rx.received.at(-1)!.body);
      const points = [METRIC_NAMES.tasks, METRIC_NAMES.errors, METRIC_NAMES.denials].flatMap(
        (n) => m.get(n)?.sum?.dataPoints ?? [],
      );
      points.push(...(m.get(METRIC_NAMES.taskDuration)?.histogram?.dataPoints ?? []));
      points.push(...(m.get(METRIC_NAMES.activeAgents)?.gauge?.dataPoints ?? []));
      expect(points.length).toBeGreaterThanOrEqual(5);
      for (const p of points)
        expect(attrs(p)).toMatchObject({ worker_id: 'w9', host: 'h9', profile: 'offline' });
    } finally {
      await otlp.shutdown();
    }
  });
});
