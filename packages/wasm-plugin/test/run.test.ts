import { readFileSync } from 'node:fs';
import { componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  FuelExhaustedError,
  InvalidPluginError,
  inspectPlugin,
  loadPlugin,
  MemoryLimitError,
  OutputLimitError,
  PluginTrapError,
  runPlugin,
  TimeoutError,
} from '../src/index.js';
import { freshCacheDir, MemoryAuditSink, NO_PLUGINS, plugin, ROOT, text } from './helpers.js';

const cacheDir = freshCacheDir();

describe.skipIf(NO_PLUGINS)('json-format (a useful plugin)', () => {
  const samples = [
    '{"a":[1,2,{"b":null}],"c":"x"}',
    '[]',
    '{}',
    '  [true,false,null,-15,"q\\"uote\\\\",{"nested":{"deeper":[[],{}]}}]  ',
    '"just a string"',
  ];
  for (const input of samples) {
    it(`formats ${JSON.stringify(input).slice(0, 40)} exactly like JSON.stringify(…, null, 2)`, async () => {
      const r = await runPlugin(plugin('json-format'), { input, cacheDir });
      expect(r.exitCode).toBe(0);
      expect(text(r.stdout)).toBe(`${JSON.stringify(JSON.parse(input), null, 2)}\n`);
      expect(r.fuelUsed).toBeGreaterThan(0);
      expect(r.fuelUsed).toBeLessThan(DEFAULT_LIMITS.fuel);
    });
  }

  it('keeps number spellings and string escapes verbatim (the value is unchanged)', async () => {
    const input = '{"unicode":"h\\u00e9llo","n":-1.5e3}';
    const r = await runPlugin(plugin('json-format'), { input, cacheDir });
    expect(text(r.stdout)).toBe('{\n  "unicode": "h\\u00e9llo",\n  "n": -1.5e3\n}\n');
    expect(JSON.parse(text(r.stdout))).toEqual(JSON.parse(input));
  });

  it('reports malformed input with exit code 1 and a message on stderr', async () => {
    const r = await runPlugin(plugin('json-format'), { input: '{"a": [1, 2', cacheDir });
    expect(r.exitCode).toBe(1);
    expect(text(r.stderr)).toMatch(/json-format: expected ',' or '\]' at byte|unexpected end of input/);
  });

  it('runs the same plugin given as a WASI 0.2 component', async () => {
    const core = readFileSync(plugin('json-format'));
    const adapter = readFileSync(`${ROOT}/vendor/wasi_snapshot_preview1.command.wasm`);
    const component = await componentNew(core, [['wasi_snapshot_preview1', adapter]]);
    const loaded = await loadPlugin(component, { cacheDir, label: 'json-format.component.wasm' });
    expect(loaded.compiled.kind).toBe('component');
    const r = await loaded.run({ input: '{"k":[1]}' });
    expect(text(r.stdout)).toBe('{\n  "k": [\n    1\n  ]\n}\n');
  });
});

describe.skipIf(NO_PLUGINS)('fuel', () => {
  it('stops an infinite loop with FUEL_EXHAUSTED', async () => {
    const err = await runPlugin(plugin('infinite-loop'), { cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FuelExhaustedError);
    expect((err as FuelExhaustedError).code).toBe('FUEL_EXHAUSTED');
    expect((err as FuelExhaustedError).fuel).toBe(1_000_000);
  });

  it('charges one unit per loop iteration: fuel used grows linearly with the work', async () => {
    const p = await loadPlugin(plugin('cpu-bound'), { cacheDir });
    const a = await p.run({ input: '1000' });
    const b = await p.run({ input: '3000' });
    expect(text(a.stdout)).not.toBe(text(b.stdout));
    // 2000 more outer iterations cost about 2000 more fuel (the inner loop is unrolled by clang).
    expect(b.fuelUsed - a.fuelUsed).toBeGreaterThanOrEqual(2000);
    expect(b.fuelUsed - a.fuelUsed).toBeLessThan(2100);
  });

  it('honours a configured limit just below and just above what a run needs', async () => {
    const need = (await runPlugin(plugin('cpu-bound'), { input: '5000', cacheDir })).fuelUsed;
    await expect(
      runPlugin(plugin('cpu-bound'), { input: '5000', cacheDir, limits: { fuel: need - 1 } }),
    ).rejects.toBeInstanceOf(FuelExhaustedError);
    const ok = await runPlugin(plugin('cpu-bound'), { input: '5000', cacheDir, limits: { fuel: need } });
    expect(ok.exitCode).toBe(0);
    expect(ok.fuelUsed).toBe(need);
  });
});

describe.skipIf(NO_PLUGINS)('time', () => {
  it('terminates a plugin that outlives its deadline with TIMEOUT', async () => {
    const started = performance.now();
    const err = await runPlugin(plugin('infinite-loop'), {
      cacheDir,
      limits: { fuel: 1e15, timeoutMs: 300 },
    }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('PLUGIN_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(300);
    // Loose functional bound (the precise latency target lives in the benchmark).
    expect((err as TimeoutError).stoppedAfterDeadlineMs).toBeLessThan(1_000);
  });
});

describe.skipIf(NO_PLUGINS)('memory', () => {
  it('stops a malloc bomb with MEMORY_LIMIT at the default 10 MB', async () => {
    const err = await runPlugin(plugin('memory-bomb'), { cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MemoryLimitError);
    expect((err as MemoryLimitError).limitBytes).toBe(10 * 1024 * 1024);
  });

  it('stops a raw memory.grow loop (no libc) with MEMORY_LIMIT', async () => {
    await expect(runPlugin(plugin('grow-bomb'), { cacheDir })).rejects.toBeInstanceOf(MemoryLimitError);
  });

  it('caps at the configured size: json-format works with 1 MB but not below its initial memory', async () => {
    const ok = await runPlugin(plugin('json-format'), {
      input: '[1]',
      cacheDir,
      limits: { memoryBytes: 1 << 20 },
    });
    expect(ok.exitCode).toBe(0);
    const err = await loadPlugin(plugin('json-format'), { cacheDir, limits: { memoryBytes: 65_536 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MemoryLimitError);
    expect((err as Error).message).toMatch(/starts at \d+ pages, above the cap of 1 pages/);
  });

  it('the cap is the configured size: the same input fails under 1 MB and works under 16 MB', async () => {
    // ~1.3 MB of JSON: json-format reads stdin into a buffer that doubles, so it needs > 1 MB.
    const input = JSON.stringify(Array.from({ length: 200_000 }, (_, i) => i));
    const limits = { fuel: 1e10, maxOutputBytes: 64 << 20 };
    const small = await runPlugin(plugin('json-format'), {
      input,
      cacheDir,
      limits: { ...limits, memoryBytes: 1 << 20 },
    }).catch((e: unknown) => e);
    expect(small).toBeInstanceOf(MemoryLimitError);
    expect((small as MemoryLimitError).limitBytes).toBe(1 << 20);
    const big = await runPlugin(plugin('json-format'), {
      input,
      cacheDir,
      limits: { ...limits, memoryBytes: 16 << 20 },
    });
    expect(big.exitCode).toBe(0);
    expect(JSON.parse(text(big.stdout))).toHaveLength(200_000);
  });
});

describe.skipIf(NO_PLUGINS)('other failures', () => {
  it('turns unbounded recursion into PLUGIN_TRAP', async () => {
    await expect(runPlugin(plugin('deep-recursion'), { cacheDir })).rejects.toBeInstanceOf(PluginTrapError);
  });

  it('caps output with OUTPUT_LIMIT', async () => {
    const input = JSON.stringify(Array.from({ length: 2000 }, (_, i) => i));
    await expect(
      runPlugin(plugin('json-format'), { input, cacheDir, limits: { maxOutputBytes: 1000 } }),
    ).rejects.toBeInstanceOf(OutputLimitError);
  });

  it('refuses bytes that are not WebAssembly, and modules importing non-WASI functions', async () => {
    await expect(runPlugin(new TextEncoder().encode('not wasm at all'), { cacheDir })).rejects.toBeInstanceOf(
      InvalidPluginError,
    );
    // (module (import "env" "steal" (func)) (func (export "_start")))
    const foreign = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 2, 13, 1, 3, 101, 110, 118, 5, 115, 116, 101, 97, 108,
      0, 0, 3, 2, 1, 0, 7, 10, 1, 6, 95, 115, 116, 97, 114, 116, 0, 1, 10, 4, 1, 2, 0, 11,
    ]);
    const err = await runPlugin(foreign, { cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPluginError);
    expect((err as Error).message).toMatch(
      /imports env\.steal; plugins may import only wasi_snapshot_preview1/,
    );
  });

  it('refuses a component that is not a WASI command (no wasi:cli/run export)', async () => {
    const { parse } = await import('@bytecodealliance/jco-transpile/wasm-tools');
    const empty = await parse('(component)');
    const err = await runPlugin(empty, { cacheDir, label: 'empty.wasm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPluginError);
    expect((err as Error).message).toMatch(/must export wasi:cli\/run/);
  });

  it('rejects limits outside their range before doing anything', async () => {
    await expect(runPlugin(plugin('json-format'), { cacheDir, limits: { fuel: 0 } })).rejects.toThrow(
      /limit fuel must be an integer between 1/,
    );
  });
});

describe.skipIf(NO_PLUGINS)('audit', () => {
  it('writes a plugin_run entry for a run and for every violation', async () => {
    const audit = new MemoryAuditSink();
    await runPlugin(plugin('json-format'), { input: '[]', cacheDir, audit, sessionId: 's1', taskId: 't1' });
    await runPlugin(plugin('infinite-loop'), { cacheDir, audit }).catch(() => {});
    await runPlugin(plugin('memory-bomb'), { cacheDir, audit }).catch(() => {});
    await runPlugin(plugin('infinite-loop'), {
      cacheDir,
      audit,
      limits: { fuel: 1e15, timeoutMs: 100 },
    }).catch(() => {});
    await runPlugin(plugin('probe'), { input: 'clock', cacheDir, audit }).catch(() => {});
    expect(
      audit.events.map((e) => [e.operation, e.decision, e.details?.code ?? e.details?.exit_code]),
    ).toEqual([
      ['plugin_run', 'allowed', 0],
      ['plugin_run', 'denied', 'FUEL_EXHAUSTED'],
      ['plugin_run', 'denied', 'MEMORY_LIMIT'],
      ['plugin_run', 'denied', 'PLUGIN_TIMEOUT'],
      ['plugin_run', 'denied', 'CAPABILITY_DENIED'],
    ]);
    const first = audit.events[0]!;
    expect(first).toMatchObject({
      profile: 'offline',
      target: 'json-format.wasm',
      session_id: 's1',
      task_id: 't1',
      agent_type: 'wasm-plugin',
    });
    expect(first.details?.capabilities).toBe('stdio');
    expect(typeof first.details?.sha256).toBe('string');
  });
});

describe.skipIf(NO_PLUGINS)('inspect', () => {
  it('lists imports, exports and the capabilities they imply', async () => {
    const probe = await inspectPlugin(plugin('probe'), { cacheDir });
    expect(probe.kind).toBe('module');
    expect(probe.exports).toContain('wasi:cli/run');
    expect(probe.imports).toEqual(
      expect.arrayContaining(['wasi:clocks/wall-clock', 'wasi:random/random', 'wasi:filesystem/preopens']),
    );
    expect(probe.capabilities.requested).toEqual(expect.arrayContaining(['stdio', 'env', 'clock', 'random']));
    expect(probe.capabilities.stubbed).toContain('fs');
    expect(probe.coreImports).toContain('wasi_snapshot_preview1.sock_accept');
    const sockets = await inspectPlugin(plugin('socket-probe'), { cacheDir });
    expect(sockets.kind).toBe('component');
    expect(sockets.imports).toContain('wasi:sockets/tcp-create-socket');
    expect(sockets.capabilities.stubbed).toEqual(['sockets']);
    const json = await inspectPlugin(plugin('json-format'), { cacheDir });
    expect(json.capabilities.requested).not.toContain('clock');
    expect(json.capabilities.requested).not.toContain('random');
  });
});

describe.skipIf(NO_PLUGINS)('keepWarm', () => {
  it('runs on a prepared spare worker with the same results and limits, and releases it on close', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const baseline = ports();
    const warm = await loadPlugin(plugin('json-format'), { cacheDir, keepWarm: true });
    const cold = await loadPlugin(plugin('json-format'), { cacheDir });
    for (const input of ['{"a":1}', '[1,[2,[3]]]', '"s"']) {
      const [w, c] = [await warm.run({ input }), await cold.run({ input })];
      expect(text(w.stdout)).toBe(text(c.stdout));
      expect(w.fuelUsed).toBe(c.fuelUsed);
    }
    const loop = await loadPlugin(plugin('infinite-loop'), {
      cacheDir,
      keepWarm: true,
      limits: { fuel: 1e15, timeoutMs: 200 },
    });
    await expect(loop.run()).rejects.toBeInstanceOf(TimeoutError);
    await expect(loop.run()).rejects.toBeInstanceOf(TimeoutError);
    const fuel = await loadPlugin(plugin('infinite-loop'), { cacheDir, keepWarm: true });
    await expect(fuel.run()).rejects.toBeInstanceOf(FuelExhaustedError);
    // Three spares are waiting (each holds message ports); close() releases all of them.
    expect(ports()).toBeGreaterThan(baseline);
    await Promise.all([warm.close(), loop.close(), fuel.close()]);
    expect(ports()).toBe(baseline);
    // After close, runs still work (cold).
    expect(text((await warm.run({ input: '[]' })).stdout)).toBe('[]\n');
  });
});
