import { readFileSync } from 'node:fs';
import { componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CapabilityDeniedError,
  FuelExhaustedError,
  MemoryLimitError,
  OutputLimitError,
  PluginHostError,
  PluginPool,
  PluginTrapError,
  runPlugin,
  TimeoutError,
} from '../src/index.js';
import { freshCacheDir, MemoryAuditSink, NO_PLUGINS, plugin, ROOT, text } from './helpers.js';

const cacheDir = freshCacheDir();
const pools: PluginPool[] = [];
function pool(size = 1, audit?: MemoryAuditSink): PluginPool {
  const p = new PluginPool({ size, defaults: { cacheDir, ...(audit ? { audit } : {}) } });
  pools.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe.skipIf(NO_PLUGINS)('warm pool: no state survives a run', () => {
  it('a plugin that writes a wasm global and linear memory never sees the previous run (same worker)', async () => {
    const p = pool(1);
    const outputs: string[] = [];
    for (let i = 0; i < 5; i++) outputs.push(text((await p.run(plugin('counter'))).stdout));
    expect(outputs).toEqual(Array(5).fill('g=0 m=0\n'));
    // The runs really shared one warm worker: reuse happened, so a leak would have shown.
    expect(p.stats()).toMatchObject({ spawned: 1, retired: 0, runs: 5, reusedRuns: 4, loads: 1 });
  });

  it('the same holds for a WASI 0.2 component (jco glue re-instantiated per run)', async () => {
    const core = readFileSync(plugin('counter'));
    const adapter = readFileSync(`${ROOT}/vendor/wasi_snapshot_preview1.command.wasm`);
    const component = await componentNew(core, [['wasi_snapshot_preview1', adapter]]);
    const p = pool(1);
    const loaded = await p.load(component, { label: 'counter.component.wasm' });
    expect(loaded.compiled.kind).toBe('component');
    const outputs: string[] = [];
    for (let i = 0; i < 4; i++) outputs.push(text((await loaded.run()).stdout));
    expect(outputs).toEqual(Array(4).fill('g=0 m=0\n'));
    expect(p.stats()).toMatchObject({ spawned: 1, reusedRuns: 3 });
  });

  it('serves several plugins from one worker, each with its own grant and input', async () => {
    const p = pool(1);
    for (let i = 0; i < 3; i++) {
      expect(text((await p.run(plugin('json-format'), { input: `[${i}]` })).stdout)).toBe(`[\n  ${i}\n]\n`);
      expect(text((await p.run(plugin('counter'))).stdout)).toBe('g=0 m=0\n');
      const env = await p.run(plugin('probe'), {
        input: 'env',
        allow: ['env:A'],
        env: { A: String(i), B: 'x' },
      });
      expect(text(env.stdout)).toContain(`env.entry A=${i}\n`);
      expect(text(env.stdout)).not.toContain('B=x');
    }
    expect(p.stats()).toMatchObject({ spawned: 1, loads: 3, runs: 9 });
  });
});

describe.skipIf(NO_PLUGINS)('warm pool: deadlines and violations', () => {
  it('kills a runaway run at its deadline and replaces the worker', async () => {
    const p = pool(1);
    expect(text((await p.run(plugin('json-format'), { input: '[]' })).stdout)).toBe('[]\n');
    const started = performance.now();
    const err = await p
      .run(plugin('infinite-loop'), { limits: { fuel: 1e15, timeoutMs: 200 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect((err as TimeoutError).stoppedAfterDeadlineMs).toBeLessThan(1_000);
    // The runaway's thread is gone and a fresh one took its place.
    expect(p.stats()).toMatchObject({ size: 1, live: 1, spawned: 2, retired: 1 });
    expect(text((await p.run(plugin('json-format'), { input: '{}' })).stdout)).toBe('{}\n');
  });

  it('keeps every precise error, and retires the worker after each violation', async () => {
    const audit = new MemoryAuditSink();
    const p = pool(1, audit);
    const cases: [string, Parameters<PluginPool['run']>[1], new (...a: never[]) => Error, string][] = [
      ['infinite-loop', {}, FuelExhaustedError, 'FUEL_EXHAUSTED'],
      ['memory-bomb', {}, MemoryLimitError, 'MEMORY_LIMIT'],
      ['grow-bomb', {}, MemoryLimitError, 'MEMORY_LIMIT'],
      ['deep-recursion', {}, PluginTrapError, 'PLUGIN_TRAP'],
      ['corrupt', {}, PluginTrapError, 'PLUGIN_TRAP'],
      ['probe', { input: 'clock' }, CapabilityDeniedError, 'CAPABILITY_DENIED'],
      ['json-format', { input: '[1,2,3]', limits: { maxOutputBytes: 4 } }, OutputLimitError, 'OUTPUT_LIMIT'],
      ['infinite-loop', { limits: { fuel: 1e15, timeoutMs: 100 } }, TimeoutError, 'PLUGIN_TIMEOUT'],
      ['ungranted-import', {}, CapabilityDeniedError, 'CAPABILITY_DENIED'],
    ];
    for (const [name, options, type, code] of cases) {
      const err = await p.run(plugin(name), options).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(type);
      expect((err as { code: string }).code, name).toBe(code);
    }
    // 8 violations happened in a worker (ungranted-import is refused before any worker runs it).
    expect(p.stats()).toMatchObject({ retired: 8, live: 1 });
    expect(audit.events.map((e) => e.details?.code)).toEqual(cases.map((c) => c[3]));
    const corrupt = await p.run(plugin('corrupt')).catch((e: unknown) => e);
    expect((corrupt as Error).message).toMatch(/out of bounds memory access in fd_write/);
    const ungranted = await p.run(plugin('ungranted-import')).catch((e: unknown) => e);
    expect((ungranted as Error).message).toMatch(
      /wasi_snapshot_preview1\.sock_open.*not a preview1 function/,
    );
    expect(text((await p.run(plugin('json-format'), { input: '[]' })).stdout)).toBe('[]\n');
  });

  it('runs in parallel up to its size and queues the rest', async () => {
    const p = pool(2);
    const inputs = Array.from({ length: 8 }, (_, i) => `{"n":${i}}`);
    const results = await Promise.all(inputs.map((input) => p.run(plugin('json-format'), { input })));
    expect(results.map((r) => text(r.stdout))).toEqual(
      inputs.map((i) => `{\n  "n": ${JSON.parse(i).n}\n}\n`),
    );
    expect(p.stats()).toMatchObject({ size: 2, spawned: 2, runs: 8 });
  });

  it('close() stops every worker and leaves no handles; later runs are refused', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const baseline = ports();
    const p = new PluginPool({ size: 2, defaults: { cacheDir } });
    await p.run(plugin('json-format'), { input: '[]' });
    expect(ports()).toBeGreaterThan(baseline);
    await p.close();
    expect(ports()).toBe(baseline);
    await expect(p.run(plugin('json-format'), { input: '[]' })).rejects.toThrow(/pool is closed/);
  });

  it('a run in progress when the pool closes fails with PLUGIN_HOST_ERROR', async () => {
    const p = new PluginPool({ size: 1, defaults: { cacheDir } });
    const run = p.run(plugin('infinite-loop'), { limits: { fuel: 1e15, timeoutMs: 10_000 } });
    while (p.stats().runs === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PluginHostError);
    expect((err as Error).message).toMatch(/pool was closed during the run/);
  });
});

describe.skipIf(NO_PLUGINS)('inline runs (one-shot, on the calling thread)', () => {
  it('give the same results as a worker run, and keep every precise error', async () => {
    const inline = await runPlugin(plugin('json-format'), { input: '{"x":[1]}', cacheDir, inline: true });
    const worker = await runPlugin(plugin('json-format'), { input: '{"x":[1]}', cacheDir });
    expect(text(inline.stdout)).toBe(text(worker.stdout));
    expect(inline.fuelUsed).toBe(worker.fuelUsed);
    expect(text((await runPlugin(plugin('counter'), { cacheDir, inline: true })).stdout)).toBe('g=0 m=0\n');
    const cases: [string, Parameters<typeof runPlugin>[1], string][] = [
      ['infinite-loop', {}, 'FUEL_EXHAUSTED'],
      ['memory-bomb', {}, 'MEMORY_LIMIT'],
      ['deep-recursion', {}, 'PLUGIN_TRAP'],
      ['corrupt', {}, 'PLUGIN_TRAP'],
      ['probe', { input: 'clock' }, 'CAPABILITY_DENIED'],
      ['json-format', { input: '[1,2,3]', limits: { maxOutputBytes: 4 } }, 'OUTPUT_LIMIT'],
    ];
    for (const [name, options, code] of cases) {
      const err = await runPlugin(plugin(name), { ...options, cacheDir, inline: true }).catch(
        (e: unknown) => e,
      );
      expect((err as { code?: string }).code, name).toBe(code);
    }
  });

  it('are stopped at the deadline by the V8 watchdog, and the thread carries on', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = ports();
    const started = performance.now();
    const err = await runPlugin(plugin('infinite-loop'), {
      cacheDir,
      inline: true,
      limits: { fuel: 1e15, timeoutMs: 250 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect((err as TimeoutError).stoppedAfterDeadlineMs).toBeLessThan(1_000);
    // No thread was started for it, and this thread still runs plugins.
    expect(ports()).toBe(before);
    expect(
      text((await runPlugin(plugin('json-format'), { input: '[]', cacheDir, inline: true })).stdout),
    ).toBe('[]\n');
  });
});

describe.skipIf(NO_PLUGINS)('a sleeping plugin', () => {
  it('needs the clock grant, and never sleeps past its deadline (inline or on a worker)', async () => {
    await expect(runPlugin(plugin('sleeper'), { input: '0', cacheDir, inline: true })).rejects.toBeInstanceOf(
      CapabilityDeniedError,
    );
    expect(
      text((await runPlugin(plugin('sleeper'), { input: '0', cacheDir, allow: ['clock'] })).stdout),
    ).toBe('woke\n');
    for (const inline of [true, false]) {
      const started = performance.now();
      const err = await runPlugin(plugin('sleeper'), {
        input: '30',
        cacheDir,
        inline,
        allow: ['clock'],
        limits: { timeoutMs: 300 },
      }).catch((e: unknown) => e);
      expect(err, `inline: ${inline}`).toBeInstanceOf(TimeoutError);
      expect(performance.now() - started, `inline: ${inline}`).toBeLessThan(10_000);
    }
  });
});
