// pnpm --filter @codex/wasm-plugin build && pnpm --filter @codex/wasm-plugin bench
// Builds the plugins from source (clang/wat2wasm), then measures against baselines taken in the
// same run (ratios; absolute times on a shared machine are noise):
//   - call overhead: a small json-format run through the host on a warm PluginPool worker
//     (message to the worker, fresh instance, capability host, fuel/memory instrumentation,
//     result back) vs WebAssembly.instantiate + _start of the same *uninstrumented* core module
//     with a minimal in-process preview1 shim. Target: host ≤ 5× direct.
//   - fuel metering: the CPU-bound plugin, instrumented vs not, both in-process with the same shim.
//     Target: metered ≤ 1.3× unmetered (tinybench ratio and interleaved medians).
//   - one-shot runs (a fresh worker per run, what runPlugin does) and 100 runs through a pool vs
//     100 one-shot runs, recorded under `extra`;
//   - loads: in-memory hit as a task; cold loads (build cache miss) and disk hits are timed
//     separately and recorded under `extra`;
//   - deadline: how long after its deadline an infinite loop is stopped (target ≤ 50 ms).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from '../../../scripts/bench-lib.mjs';
import { buildPlugins } from '../scripts/build-plugins.mjs';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const { clearCompiledCache, loadPlugin, PluginPool, runPlugin, TimeoutError } = await import(
  join(packageDir, 'dist', 'index.js')
);
const { buildPlugin } = await import(join(packageDir, 'dist', 'pipeline.js'));

const plugins = await buildPlugins(mkdtempSync(join(tmpdir(), 'codex-bench-plugins-')));
const cacheDir = mkdtempSync(join(tmpdir(), 'codex-bench-cache-'));

// --- cold loads: transpile cache miss (fresh cache dir, empty in-process cache) -------------
const coldMs = [];
for (let i = 0; i < 3; i++) {
  clearCompiledCache();
  const t = performance.now();
  await loadPlugin(plugins['json-format'], { cacheDir: mkdtempSync(join(tmpdir(), 'codex-bench-cold-')) });
  coldMs.push(performance.now() - t);
}
const diskHitMs = [];
for (let i = 0; i < 3; i++) {
  clearCompiledCache();
  const t = performance.now();
  await loadPlugin(plugins['json-format'], { cacheDir });
  diskHitMs.push(performance.now() - t);
}

// --- minimal preview1 shim for the in-process baselines --------------------------------------
function preview1(input) {
  const bytes = new TextEncoder().encode(input);
  let pos = 0;
  let memory;
  let out = 0;
  const iov = (ptr, n, fn) => {
    const v = new DataView(memory.buffer);
    let total = 0;
    for (let i = 0; i < n; i++)
      total += fn(v.getUint32(ptr + 8 * i, true), v.getUint32(ptr + 8 * i + 4, true));
    return total;
  };
  const imports = {
    fd_read: (_fd, iovs, n, nread) => {
      const total = iov(iovs, n, (p, l) => {
        const k = Math.min(l, bytes.length - pos);
        new Uint8Array(memory.buffer, p, k).set(bytes.subarray(pos, pos + k));
        pos += k;
        return k;
      });
      new DataView(memory.buffer).setUint32(nread, total, true);
      return 0;
    },
    fd_write: (_fd, iovs, n, nwritten) => {
      const total = iov(iovs, n, (_p, l) => l);
      out += total;
      new DataView(memory.buffer).setUint32(nwritten, total, true);
      return 0;
    },
    fd_close: () => 0,
    fd_seek: () => 0,
    fd_fdstat_get: () => 0,
    environ_get: () => 0,
    environ_sizes_get: (a, b) => {
      new DataView(memory.buffer).setUint32(a, 0, true);
      new DataView(memory.buffer).setUint32(b, 0, true);
      return 0;
    },
    proc_exit: (code) => {
      throw { exit: code };
    },
  };
  return { imports, setMemory: (m) => (memory = m), written: () => out };
}

async function runInProcess(module, input) {
  const shim = preview1(input);
  const fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, 10n ** 15n);
  const instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: shim.imports,
    codex_host: {
      fuel,
      fuel_exhausted: () => {
        throw new Error('fuel');
      },
      memory_limit: () => {
        throw new Error('memory');
      },
    },
  });
  shim.setMemory(instance.exports.memory);
  try {
    instance.exports._start();
  } catch (e) {
    if (e?.exit === undefined) throw e;
  }
  if (shim.written() === 0) throw new Error('plugin wrote nothing');
}

const jsonRaw = new WebAssembly.Module(readFileSync(plugins['json-format']));
const cpuRawBytes = readFileSync(plugins['cpu-bound']);
const cpuRaw = new WebAssembly.Module(cpuRawBytes);
// Exactly what the host runs: the pipeline's output (fuel + memory.grow instrumentation, caps).
const cpuBuilt = await buildPlugin(cpuRawBytes, {
  kind: 'module',
  memoryPages: 160,
  tableEntries: 65_536,
  label: 'cpu-bound',
});
const cpuMetered = new WebAssembly.Module(cpuBuilt.core[0][1]);
const CPU_ROUNDS = '300000';
const smallJson = '{"name":"codex","tags":["a","b"],"n":[1,2,3]}';

const pool = new PluginPool({ size: 1, defaults: { cacheDir } });
const jsonPooled = await pool.load(plugins['json-format']);
const jsonOneShot = await loadPlugin(plugins['json-format'], { cacheDir });
const memoryHit = () => loadPlugin(plugins['json-format'], { cacheDir });

// --- 100 runs: one pool vs a fresh worker per run (what a plan of 100 plugin tasks costs) -------
async function timed(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}
const hundredPooledMs = await timed(async () => {
  const p = new PluginPool({ size: 1, defaults: { cacheDir } });
  for (let i = 0; i < 100; i++) await p.run(plugins['json-format'], { input: smallJson });
  await p.close();
});
const hundredOneShotMs = await timed(async () => {
  for (let i = 0; i < 100; i++) await runPlugin(plugins['json-format'], { input: smallJson, cacheDir });
});

// --- deadline latency --------------------------------------------------------------------------
const loop = await pool.load(plugins['infinite-loop'], { limits: { fuel: 1e15, timeoutMs: 200 } });
const stopMs = [];
for (let i = 0; i < 5; i++) {
  const err = await loop.run().catch((e) => e);
  if (!(err instanceof TimeoutError)) throw new Error(`expected TIMEOUT, got ${err}`);
  stopMs.push(err.stoppedAfterDeadlineMs);
}

// --- fuel overhead, interleaved (robust against load changes on a shared machine) --------------
const rawMs = [];
const meteredMs = [];
for (let i = 0; i < 21; i++) {
  let t = performance.now();
  await runInProcess(cpuRaw, CPU_ROUNDS);
  rawMs.push(performance.now() - t);
  t = performance.now();
  await runInProcess(cpuMetered, CPU_ROUNDS);
  meteredMs.push(performance.now() - t);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fuelRatio = median(meteredMs) / median(rawMs);
const FUEL_TARGET = 1.3;

const round = (xs) => xs.map((x) => Math.round(x * 10) / 10);
await runSuite({
  packageDir,
  name: '@codex/wasm-plugin',
  time: 1500,
  tasks: {
    'run json-format via host (warm pool worker, fuel+caps)': async () => {
      const r = await jsonPooled.run({ input: smallJson });
      if (r.exitCode !== 0) throw new Error('json-format failed');
    },
    'run json-format via host, one-shot (fresh worker)': async () => {
      const r = await jsonOneShot.run({ input: smallJson });
      if (r.exitCode !== 0) throw new Error('json-format failed');
    },
    'direct WebAssembly.instantiate json-format (uninstrumented)': () => runInProcess(jsonRaw, smallJson),
    'cpu-bound metered (in-process)': () => runInProcess(cpuMetered, CPU_ROUNDS),
    'cpu-bound unmetered (in-process)': () => runInProcess(cpuRaw, CPU_ROUNDS),
    'load: in-memory cache hit': memoryHit,
  },
  targets: [
    {
      task: 'cpu-bound metered (in-process)',
      baseline: 'cpu-bound unmetered (in-process)',
      minRatio: 1 / FUEL_TARGET,
      note: 'fuel metering costs at most 1.3x on a CPU-bound plugin',
    },
    {
      task: 'run json-format via host (warm pool worker, fuel+caps)',
      baseline: 'direct WebAssembly.instantiate json-format (uninstrumented)',
      minRatio: 0.2,
      note: 'a run through the host costs at most 5x a direct instantiate + call',
    },
    {
      task: 'run json-format via host, one-shot (fresh worker)',
      baseline: 'run json-format via host (warm pool worker, fuel+caps)',
      note: 'what a warm worker saves over starting a thread per run; informational',
    },
  ],
  extra: {
    fuelOverheadInterleaved: {
      rounds: Number(CPU_ROUNDS),
      unmeteredMedianMs: Math.round(median(rawMs) * 100) / 100,
      meteredMedianMs: Math.round(median(meteredMs) * 100) / 100,
      slowdown: Math.round(fuelRatio * 1000) / 1000,
      target: `at most ${FUEL_TARGET}x`,
      pass: fuelRatio <= FUEL_TARGET,
    },
    hundredRuns: {
      pooledMs: Math.round(hundredPooledMs),
      oneShotMs: Math.round(hundredOneShotMs),
      speedup: Math.round((hundredOneShotMs / hundredPooledMs) * 100) / 100,
      note: 'json-format x100, sequential: one PluginPool (size 1, incl. its start) vs runPlugin per run',
    },
    coldLoadMs: { buildCacheMiss: round(coldMs), diskCacheHit: round(diskHitMs) },
    deadline: {
      timeoutMs: 200,
      stoppedAfterDeadlineMs: round(stopMs),
      maxMs: Math.max(...round(stopMs)),
      targetMs: 50,
      pass: Math.max(...stopMs) <= 50,
    },
  },
}).then(async (out) => {
  await pool.close();
  console.log(
    `cold load (cache miss) ms: ${round(coldMs).join(', ')}; disk cache hit ms: ${round(diskHitMs).join(', ')}`,
  );
  console.log(
    `${out.deadline.pass ? 'PASS' : 'MISS'} infinite loop stopped ${round(stopMs).join(', ')} ms after its deadline (target <= 50 ms)`,
  );
  console.log(
    `${fuelRatio <= FUEL_TARGET ? 'PASS' : 'MISS'} fuel metering slowdown (interleaved medians): ${fuelRatio.toFixed(3)}x (target <= ${FUEL_TARGET}x)`,
  );
  console.log(
    `100 json-format runs: ${Math.round(hundredPooledMs)} ms through one pool vs ${Math.round(hundredOneShotMs)} ms with a fresh worker per run`,
  );
  if (!out.targets.every((t) => t.pass) || !out.deadline.pass || fuelRatio > FUEL_TARGET)
    process.exitCode = 1;
});
