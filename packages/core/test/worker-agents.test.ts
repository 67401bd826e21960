import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AGENT_TYPES, openWorkerGuard, standardAgentsFor } from '../src/index.js';

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
