import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { type LoadedPlugin, loadPlugin, PluginPool, runPlugin, WasmPluginError } from '../src/index.js';
import { freshCacheDir, NO_PLUGINS, plugin } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function resources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
}

describe.skipIf(NO_PLUGINS)('host health', () => {
  it('runs 100 hostile plugins in a row and returns to its baseline of handles and memory', async () => {
    const cacheDir = freshCacheDir();
    // Warm up: compile everything once and run one healthy plugin, so the baseline includes
    // the transpile cache and V8's compiled code, not the first-run costs.
    const hostile: [name: string, loaded: LoadedPlugin, input: string, expected: string][] = [
      ['infinite-loop', await loadPlugin(plugin('infinite-loop'), { cacheDir }), '', 'FUEL_EXHAUSTED'],
      [
        'infinite-loop (timeout)',
        await loadPlugin(plugin('infinite-loop'), { cacheDir, limits: { fuel: 1e15, timeoutMs: 60 } }),
        '',
        'PLUGIN_TIMEOUT',
      ],
      ['memory-bomb', await loadPlugin(plugin('memory-bomb'), { cacheDir }), '', 'MEMORY_LIMIT'],
      ['grow-bomb', await loadPlugin(plugin('grow-bomb'), { cacheDir }), '', 'MEMORY_LIMIT'],
      ['deep-recursion', await loadPlugin(plugin('deep-recursion'), { cacheDir }), '', 'PLUGIN_TRAP'],
      ['probe (clock)', await loadPlugin(plugin('probe'), { cacheDir }), 'clock', 'CAPABILITY_DENIED'],
      ['corrupt (bad pointer)', await loadPlugin(plugin('corrupt'), { cacheDir }), '', 'PLUGIN_TRAP'],
      [
        'json-format (output flood)',
        await loadPlugin(plugin('json-format'), { cacheDir, limits: { maxOutputBytes: 64 } }),
        JSON.stringify(Array.from({ length: 100 }, (_, i) => i)),
        'OUTPUT_LIMIT',
      ],
    ];
    await runPlugin(plugin('json-format'), { cacheDir, input: '[1]' });
    await settle();
    const baseResources = resources();
    const base = process.memoryUsage();

    const codes: string[] = [];
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      const [name, loaded, input, expected] = hostile[i % hostile.length]!;
      const err = await loaded.run({ input }).catch((e: unknown) => e);
      expect(err, `run ${i}: ${name}`).toBeInstanceOf(WasmPluginError);
      expect((err as WasmPluginError).code, `run ${i}: ${name}`).toBe(expected);
      codes.push((err as WasmPluginError).code);
    }
    const elapsed = performance.now() - started;

    // The host still works normally afterwards.
    const ok = await runPlugin(plugin('json-format'), { cacheDir, input: '{"still":"fine"}' });
    expect(new TextDecoder().decode(ok.stdout)).toBe('{\n  "still": "fine"\n}\n');

    await settle();
    const after = process.memoryUsage();
    // Handles: no worker, timer, message port or file handle left behind.
    expect(resources()).toEqual(baseResources);
    // Memory: stated bounds. Heap within 32 MB of baseline (no retained worker results),
    // RSS within 256 MB (V8 keeps freed pages around; a leak of one 10 MB memory per run would
    // be > 1 GB after 100 runs).
    expect(after.heapUsed - base.heapUsed).toBeLessThan(32 * 1024 * 1024);
    expect(after.rss - base.rss).toBeLessThan(256 * 1024 * 1024);
    expect(new Set(codes)).toEqual(
      new Set([
        'FUEL_EXHAUSTED',
        'PLUGIN_TIMEOUT',
        'MEMORY_LIMIT',
        'PLUGIN_TRAP',
        'CAPABILITY_DENIED',
        'OUTPUT_LIMIT',
      ]),
    );
    console.log(
      `100 hostile plugins in ${Math.round(elapsed)} ms; heap Δ ${((after.heapUsed - base.heapUsed) / 1048576).toFixed(1)} MB, rss Δ ${((after.rss - base.rss) / 1048576).toFixed(1)} MB, resources ${JSON.stringify(resources())}`,
    );
  }, 180_000);
});

describe.skipIf(NO_PLUGINS)('host health through a warm pool', () => {
  it('100 hostile runs on a pool: every worker that saw a violation is replaced, nothing is left after close', async () => {
    const cacheDir = freshCacheDir();
    const ports = () => resources().filter((r) => r === 'MessagePort').length;
    const before = ports();
    const pool = new PluginPool({ size: 2, defaults: { cacheDir } });
    const hostile: [string, Promise<LoadedPlugin>, string, string][] = [
      ['infinite-loop', pool.load(plugin('infinite-loop')), '', 'FUEL_EXHAUSTED'],
      [
        'timeout',
        pool.load(plugin('infinite-loop'), { limits: { fuel: 1e15, timeoutMs: 60 } }),
        '',
        'PLUGIN_TIMEOUT',
      ],
      ['memory-bomb', pool.load(plugin('memory-bomb')), '', 'MEMORY_LIMIT'],
      ['deep-recursion', pool.load(plugin('deep-recursion')), '', 'PLUGIN_TRAP'],
      ['corrupt', pool.load(plugin('corrupt')), '', 'PLUGIN_TRAP'],
      ['probe (clock)', pool.load(plugin('probe')), 'clock', 'CAPABILITY_DENIED'],
    ];
    for (let i = 0; i < 100; i++) {
      const [name, loaded, input, expected] = hostile[i % hostile.length]!;
      const err = await (await loaded).run({ input }).catch((e: unknown) => e);
      expect((err as WasmPluginError).code, `run ${i}: ${name}`).toBe(expected);
    }
    const ok = await pool.run(plugin('json-format'), { input: '[1]' });
    expect(new TextDecoder().decode(ok.stdout)).toBe('[\n  1\n]\n');
    expect(pool.stats()).toMatchObject({ size: 2, live: 2, retired: 100, runs: 101 });
    await pool.close();
    await settle();
    expect(ports()).toBe(before); // every worker (and its message port) is gone
  }, 180_000);
});
