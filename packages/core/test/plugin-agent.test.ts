// The supervisor's plugin agent: a violation inside a WASM plugin reaches the plan report with its
// precise error code, on an empty CODEX_HOME (the plugin is built on the spot) and on a warm one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodexError, defaultConfig } from '@codex/security-profile';
import { FuelExhaustedError, runPlugin, WasmPluginError } from '@codex/wasm-plugin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanRun } from '../src/index.js';
import { buildPlugin, clangMissing } from './wasm.js';

const MISSING = clangMissing();
let dir: string;
let loop: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-core-plugin-agent-'));
  if (!MISSING) loop = buildPlugin('infinite-loop', dir);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(MISSING)('plugin agent', () => {
  it('reports a fuel-exhausted plugin as FUEL_EXHAUSTED, with an empty and with a warm CODEX_HOME', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const plan = JSON.stringify({
      tasks: [{ id: 'loop', agent: 'plugin', input: { plugin: loop, limits: { fuel: 10_000 } } }],
    });
    for (const cache of ['empty', 'warm']) {
      const run = await createPlanRun({
        config: defaultConfig(),
        codexHome: home,
        cwd: dir,
        env: {},
        profile: 'offline',
        explicitProfile: false,
        version: '0.0.0-test',
      });
      try {
        const report = await run.supervisor.start(run.loadPlan(plan, 'plan.json')).done;
        expect(report.status, cache).toBe('failed');
        const task = report.tasks.find((t) => t.taskId === 'loop');
        expect(task?.status, cache).toBe('failed');
        expect(task?.error, cache).toMatchObject({
          code: 'FUEL_EXHAUSTED',
          message: 'plugin infinite-loop.wasm ran out of fuel (limit 10000); raise it with --fuel',
        });
        expect(task?.error, cache).toBeInstanceOf(FuelExhaustedError);
      } finally {
        await run.close();
      }
    }
  }, 60_000);

  it('the error a plugin run throws here is the CodexError class core and the supervisor see', async () => {
    const error = await runPlugin(loop, {
      cacheDir: mkdtempSync(join(dir, 'cache-')),
      limits: { fuel: 10_000 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FuelExhaustedError);
    expect(error).toBeInstanceOf(WasmPluginError);
    expect(error).toBeInstanceOf(CodexError);
    expect(error).toMatchObject({ code: 'FUEL_EXHAUSTED' });
  });
});
