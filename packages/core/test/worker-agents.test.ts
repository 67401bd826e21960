import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { silentLogger } from '@codex/supervisor';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  AGENT_TYPES,
  connectQueueEngine,
  type GuardedWorkerStart,
  openWorkerGuard,
  standardAgentsFor,
  startGuardedWorker,
} from '../src/index.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-core-worker-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** A registry with the shape of the queue's AgentRegistry: register(type, handler, { input }), get(type). */
class Registry {
  readonly agents = new Map<string, { handler: unknown; input: unknown }>();
  register(type: string, handler: unknown, options: { input?: unknown } = {}) {
    this.agents.set(type, { handler, input: options.input });
    return this;
  }
  get(type: string) {
    return this.agents.get(type);
  }
}

it('standardAgentsFor registers the standard agents on a fresh registry per profile', async () => {
  const registries: Registry[] = [];
  const forProfile = standardAgentsFor(
    {
      ...{ config: defaultConfig(), codexHome: home, cwd: home, env: {}, explicitProfile: false },
      ...{ version: '0.0.0-test', sessionId: 'worker-w1', auditDetails: { worker_id: 'w1', host: 'h' } },
    },
    () => {
      const r = new Registry();
      registries.push(r);
      return r;
    },
  );
  const offline = await forProfile('offline');
  const write = await forProfile('workspace-write');
  expect(registries).toHaveLength(2);
  for (const type of AGENT_TYPES) expect(offline.get(type)?.handler).toBeTypeOf('function');
  expect(offline.get('command')?.input).toBeDefined();
  expect(offline.get('nope')).toBeUndefined();
  expect(write.get('command')).toBe(registries[1]!.get('command'));
  await offline.close();
  await write.close();
});

it('openWorkerGuard names the worker, opens the audit log and gives the agents per profile', async () => {
  const options = { config: defaultConfig(), codexHome: home, cwd: home, env: {}, explicitProfile: false };
  const guard = await openWorkerGuard({ ...options, version: '0.0.0-test' }, () => new Registry());
  expect(guard.worker.host).toBe(hostname());
  expect(guard.worker.workerId).toBe(`${hostname()}-${process.pid}`);
  expect(guard.worker.meter).toBeUndefined(); // no OTEL_EXPORTER_OTLP_ENDPOINT in env
  const agents = await guard.worker.agents('offline');
  for (const type of AGENT_TYPES) expect(agents.get(type)).toBeDefined();
  await guard.worker.audit.log({
    profile: 'offline',
    agent_type: 'worker',
    operation: 'other',
    target: 'job-1',
    decision: 'denied',
    reason: 'test',
  });
  await agents.close();
  await guard.close();
  const entries = readFileSync(join(home, 'audit', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n');
  expect(JSON.parse(entries.at(-1)!)).toMatchObject({ target: 'job-1', decision: 'denied' });
});

it('openWorkerGuard takes a given worker id and host', async () => {
  const options = { config: defaultConfig(), codexHome: home, cwd: home, env: {}, explicitProfile: false };
  const guard = await openWorkerGuard(
    { ...options, version: '0.0.0-test', workerId: 'w1', host: 'h1' },
    () => new Registry(),
  );
  expect(guard.worker).toMatchObject({ workerId: 'w1', host: 'h1' });
  await guard.close();
});

/** A queue module with the shape core uses: its worker records how it was started and closed. */
function fakeQueue(fail?: Error) {
  const events: string[] = [];
  const queue = {
    AgentRegistry: Registry,
    loadQueueKey: (o: { keyFile?: string }) => {
      events.push(`key ${o.keyFile ?? 'env'}`);
      return new Uint8Array(32);
    },
    QueueWorker: {
      async start(o: GuardedWorkerStart<unknown>) {
        events.push(`start ${o.url} ${o.ceiling} ${o.concurrency} ${o.workerId === undefined ? '' : 'id'}`);
        if (fail) throw fail;
        return { close: async (c: { abort: boolean }) => void events.push(`close abort=${c.abort}`) };
      },
    },
  };
  return { queue, events };
}

it('startGuardedWorker loads the key (a file relative to cwd), starts the worker on the guard, closes both', async () => {
  const { queue, events } = fakeQueue();
  const options = { config: defaultConfig(), codexHome: home, cwd: home, env: {}, explicitProfile: false };
  const started = await startGuardedWorker(queue, {
    ...{ ...options, version: '0.0.0-test', host: 'h1' },
    ...{ url: 'redis://127.0.0.1:6379/0', keyFile: 'queue.key', ceiling: 'offline', concurrency: 2 },
    logger: () => {
      events.push('logger');
      return silentLogger;
    },
  });
  expect(started.host).toBe('h1');
  await started.close();
  expect(events).toEqual([
    `key ${join(home, 'queue.key')}`,
    'logger',
    'start redis://127.0.0.1:6379/0 offline 2 id',
    'close abort=true',
  ]);
});

it('startGuardedWorker makes no logger without a key, and fails as the worker fails to start', async () => {
  const { queue, events } = fakeQueue(new Error('no redis'));
  const options = { config: defaultConfig(), codexHome: home, cwd: home, env: {}, explicitProfile: false };
  const start = (q: typeof queue) =>
    startGuardedWorker(q, {
      ...{ ...options, version: '0.0.0-test' },
      ...{ url: 'redis://127.0.0.1:1/0', ceiling: 'offline', concurrency: 1 },
      logger: () => {
        events.push('logger');
        return silentLogger;
      },
    });
  const noKey = () => {
    throw new Error('no key');
  };
  await expect(start({ ...queue, loadQueueKey: noKey })).rejects.toThrow('no key');
  expect(events).toEqual([]);
  // the guard it opened (the audit log) is closed again before the error is passed on
  await expect(start(queue)).rejects.toThrow('no redis');
  expect(events).toEqual(['key env', 'logger', 'start redis://127.0.0.1:1/0 offline 1 id']);
});

it('connectQueueEngine connects the engine with the key from a file relative to cwd, or from env', async () => {
  const seen: unknown[] = [];
  const queue = {
    loadQueueKey: (o: { keyFile?: string; env?: unknown }) => {
      seen.push(o);
      return new Uint8Array(32);
    },
    QueueEngine: {
      connect: async (o: { url: string; key: Uint8Array; logger?: unknown }) => ({ ...o, engine: true }),
    },
  };
  const engine = await connectQueueEngine(queue, {
    ...{ url: 'redis://127.0.0.1:6379/0', cwd: home, env: { A: '1' }, keyFile: 'k' },
    logger: silentLogger,
  });
  expect(engine).toMatchObject({ url: 'redis://127.0.0.1:6379/0', engine: true, logger: silentLogger });
  await connectQueueEngine(queue, { url: 'redis://h/0', cwd: home, env: {} });
  expect(seen).toEqual([{ env: { A: '1' }, keyFile: join(home, 'k') }, { env: {} }]);
});
