import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CacheRefusedError,
  cacheEntries,
  clearCompiledCache,
  loadPlugin,
  pipelineFingerprint,
  runPlugin,
  TimeoutError,
} from '../src/index.js';
import { freshCacheDir, MemoryAuditSink, NO_PLUGINS, plugin, ROOT, text } from './helpers.js';

type Api = typeof import('../src/index.js');

const copiesRoot = join(ROOT, 'node_modules', '.codex-test-copies');
afterAll(() => rmSync(copiesRoot, { recursive: true, force: true }));

/**
 * A copy of the built package (dist/ next to the real node_modules), optionally with the fuel
 * charge in its pipeline changed: what a later version of the instrumenter looks like to a cache
 * that an earlier version filled.
 */
async function packageCopy(name: string, fuelPerUnit?: bigint): Promise<Api> {
  const dir = join(copiesRoot, `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  if (fuelPerUnit !== undefined) {
    const file = join(dir, 'dist', 'pipeline.js');
    const source = readFileSync(file, 'utf8');
    expect(source).toContain('FUEL_PER_UNIT = 1n;');
    writeFileSync(file, source.replace('FUEL_PER_UNIT = 1n;', `FUEL_PER_UNIT = ${fuelPerUnit}n;`));
  }
  return (await import(pathToFileURL(join(dir, 'dist', 'index.js')).href)) as Api;
}

function entryDir(cacheDir: string, key: string): string {
  return join(cacheDir, key);
}

describe.skipIf(NO_PLUGINS)('cache key: everything that shaped the output', () => {
  it('names the pipeline code (the instrumenter included) and jco in the key inputs of every entry', async () => {
    const dir = freshCacheDir();
    clearCompiledCache();
    const first = await loadPlugin(plugin('json-format'), { cacheDir: dir });
    expect(first.compiled.cache).toBe('miss');
    expect(cacheEntries(dir)).toEqual([first.compiled.key]);
    const entry = JSON.parse(readFileSync(join(dir, first.compiled.key, 'entry.json'), 'utf8'));
    const fp = pipelineFingerprint();
    expect(entry.inputs).toEqual({
      format: 2,
      plugin: first.compiled.sha256,
      pipeline: fp,
      memoryPages: 160,
      tableEntries: 65_536,
    });
    expect(fp.files).toEqual(expect.arrayContaining(['pipeline.ts', 'instrument.ts', 'binary.ts']));
    expect(fp.jco).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled.cache).toBe('memory');
    clearCompiledCache();
    const third = await loadPlugin(plugin('json-format'), { cacheDir: dir });
    expect(third.compiled.cache).toBe('disk');
    expect(text((await third.run({ input: '[1]' })).stdout)).toBe('[\n  1\n]\n');
    // Another memory cap shaped another output: another entry.
    const capped = await loadPlugin(plugin('json-format'), {
      cacheDir: dir,
      limits: { memoryBytes: 2 << 20 },
    });
    expect(capped.compiled.cache).toBe('miss');
    expect(cacheEntries(dir).sort()).toEqual([first.compiled.key, capped.compiled.key].sort());
  });

  it('a changed fuel charge in a copy of the pipeline never uses the old entry (and back)', async () => {
    const dir = freshCacheDir();
    const original = await packageCopy('original');
    const doubled = await packageCopy('doubled', 2n);
    const free = await packageCopy('free', 0n);
    expect(doubled.pipelineFingerprint().code).not.toBe(original.pipelineFingerprint().code);

    const a = await original.runPlugin(plugin('cpu-bound'), { input: '2000', cacheDir: dir });
    expect(a.cache).toBe('miss');
    const b = await doubled.runPlugin(plugin('cpu-bound'), { input: '2000', cacheDir: dir });
    expect(b.cache).toBe('miss'); // not the entry the original pipeline wrote
    expect(b.fuelUsed).toBe(2 * a.fuelUsed);
    expect(text(b.stdout)).toBe(text(a.stdout));
    // A limit the original run fits in is exhausted by the doubled charge.
    await expect(
      doubled.runPlugin(plugin('cpu-bound'), {
        input: '2000',
        cacheDir: dir,
        limits: { fuel: a.fuelUsed + 10 },
      }),
    ).rejects.toBeInstanceOf(doubled.FuelExhaustedError);
    // An identical copy of the pipeline does hit the entry: the miss above was the change.
    const again = await (await packageCopy('original-again')).runPlugin(plugin('cpu-bound'), {
      input: '2000',
      cacheDir: dir,
    });
    expect(again.cache).toBe('disk');
    expect(again.fuelUsed).toBe(a.fuelUsed);

    // The reported incident: a pipeline that charged nothing filled the cache; after the revert
    // the infinite loop must run out of fuel again, not time out on a stale, unmetered entry.
    const unmetered = await free
      .runPlugin(plugin('infinite-loop'), { cacheDir: dir, limits: { timeoutMs: 300 } })
      .catch((e: unknown) => e);
    expect(unmetered).toBeInstanceOf(free.TimeoutError);
    const reverted = await original
      .runPlugin(plugin('infinite-loop'), { cacheDir: dir, limits: { timeoutMs: 5_000 } })
      .catch((e: unknown) => e);
    expect(reverted).toBeInstanceOf(original.FuelExhaustedError);
    expect(reverted).not.toBeInstanceOf(TimeoutError);
    expect(cacheEntries(dir)).toHaveLength(4); // cpu-bound ×2 pipelines, infinite-loop ×2 pipelines
  }, 120_000);
});

describe.skipIf(NO_PLUGINS)('cache entries are verified on load', () => {
  async function filled(): Promise<{ dir: string; key: string }> {
    const dir = freshCacheDir();
    clearCompiledCache();
    const p = await loadPlugin(plugin('json-format'), { cacheDir: dir });
    clearCompiledCache();
    return { dir, key: p.compiled.key };
  }

  it('a corrupted module is rejected, deleted, rebuilt and audited', async () => {
    const { dir, key } = await filled();
    const file = join(entryDir(dir, key), 'main.wasm');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(file, bytes);
    const audit = new MemoryAuditSink();
    const p = await loadPlugin(plugin('json-format'), { cacheDir: dir, audit });
    expect(p.compiled.cache).toBe('miss');
    expect(p.compiled.rejectedEntry).toMatch(/^main\.wasm has digest [0-9a-f]{64}, expected [0-9a-f]{64}$/);
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({
      operation: 'plugin_run',
      decision: 'denied',
      details: { code: 'CACHE_ENTRY_REJECTED', key },
    });
    expect(audit.events[0]!.reason).toMatch(/failed verification \(main\.wasm has digest/);
    expect(text((await p.run({ input: '[2]' })).stdout)).toBe('[\n  2\n]\n');
    clearCompiledCache();
    expect((await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled.cache).toBe('disk');
  });

  it('a module swapped in from another plugin is rejected and the right plugin runs', async () => {
    const { dir, key } = await filled();
    const other = await loadPlugin(plugin('counter'), { cacheDir: dir });
    clearCompiledCache();
    cpSync(join(entryDir(dir, other.compiled.key), 'main.wasm'), join(entryDir(dir, key), 'main.wasm'));
    const r = await runPlugin(plugin('json-format'), { cacheDir: dir, input: '{"ok":1}' });
    expect(r.cache).toBe('miss');
    expect(text(r.stdout)).toBe('{\n  "ok": 1\n}\n');
  });

  it('a whole entry swapped under another key is rejected (its entry.json names its own key)', async () => {
    const { dir, key } = await filled();
    const other = await loadPlugin(plugin('counter'), { cacheDir: dir });
    clearCompiledCache();
    rmSync(entryDir(dir, key), { recursive: true });
    renameSync(entryDir(dir, other.compiled.key), entryDir(dir, key));
    const p = await loadPlugin(plugin('json-format'), { cacheDir: dir });
    expect(p.compiled.rejectedEntry).toBe(`it belongs to key ${other.compiled.key} (swapped entry)`);
    expect(text((await p.run({ input: '[]' })).stdout)).toBe('[]\n');
  });

  it('a truncated or edited entry.json is rejected with the key and problem named', async () => {
    const { dir, key } = await filled();
    const meta = join(entryDir(dir, key), 'entry.json');
    writeFileSync(meta, readFileSync(meta, 'utf8').slice(0, 40));
    expect((await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled.rejectedEntry).toMatch(
      /^entry\.json is not JSON/,
    );
    clearCompiledCache();
    const parsed = JSON.parse(readFileSync(meta, 'utf8'));
    parsed.core[0].name = '../../escape.wasm';
    writeFileSync(meta, JSON.stringify(parsed));
    expect((await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled.rejectedEntry).toMatch(
      /^entry\.json: core\.0\.name: /,
    );
    // Every other edit is named too, and the entry is rebuilt each time.
    const fresh = () => JSON.parse(readFileSync(meta, 'utf8'));
    for (const [edit, reason] of [
      [(m: Record<string, unknown>) => Object.assign(m, { extra: 1 }), '(root): unrecognized key "extra"'],
      [(m: Record<string, unknown>) => Object.assign(m, { format: 1 }), 'format: expected 2'],
      [
        (m: { core: { sha256: string }[] }) => (m.core[0]!.sha256 = 'x'),
        'core.0.sha256: not a SHA-256 hex digest',
      ],
      [
        (m: Record<string, unknown>) => Object.assign(m, { glue: { file: 'x.js', sha256: '0'.repeat(64) } }),
        'glue.file: expected "glue.js"',
      ],
      [(m: Record<string, unknown>) => Object.assign(m, { imports: [1] }), 'imports.0: not a string'],
      [(m: Record<string, unknown>) => delete m.key, 'key: missing'],
    ] as const) {
      clearCompiledCache();
      const m = fresh();
      (edit as (m: unknown) => unknown)(m);
      writeFileSync(meta, JSON.stringify(m));
      const again = await loadPlugin(plugin('json-format'), { cacheDir: dir });
      expect(again.compiled.rejectedEntry).toBe(`entry.json: ${reason}`);
      expect(text((await again.run({ input: '[1]' })).stdout)).toBe('[\n  1\n]\n');
    }
  });
});

describe.skipIf(NO_PLUGINS)('a poisoned cache directory is refused and never used', () => {
  it('refuses a directory others can write to, even when the plugin is already in memory', async () => {
    const dir = freshCacheDir();
    const audit = new MemoryAuditSink();
    expect((await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled.cache).toBe('miss');
    chmodSync(dir, 0o777);
    const err = await loadPlugin(plugin('json-format'), { cacheDir: dir, audit }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CacheRefusedError);
    expect((err as CacheRefusedError).code).toBe('CACHE_REFUSED');
    expect((err as Error).message).toBe(
      `plugin cache ${dir}: the directory is writable by group or others (mode 777); refusing to use it (fix or delete it)`,
    );
    expect(audit.events.map((e) => [e.decision, e.details?.code])).toEqual([['denied', 'CACHE_REFUSED']]);
    chmodSync(dir, 0o700);
    expect((await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled.cache).toBe('memory');
  });

  it('refuses an entry file that is group-writable or a symbolic link', async () => {
    const dir = freshCacheDir();
    clearCompiledCache();
    const { key } = (await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled;
    clearCompiledCache();
    const file = join(entryDir(dir, key), 'main.wasm');
    chmodSync(file, 0o664);
    await expect(loadPlugin(plugin('json-format'), { cacheDir: dir })).rejects.toThrow(
      new RegExp(`plugin cache ${file}: the file is writable by group or others \\(mode 664\\)`),
    );
    chmodSync(file, 0o600);
    const elsewhere = join(freshCacheDir(), 'main.wasm');
    renameSync(file, elsewhere);
    symlinkSync(elsewhere, file);
    await expect(loadPlugin(plugin('json-format'), { cacheDir: dir })).rejects.toThrow(
      /main\.wasm: not a regular file \(a symbolic link\?\)/,
    );
    // An entry directory that is a symbolic link is refused too.
    rmSync(entryDir(dir, key), { recursive: true });
    symlinkSync(freshCacheDir(), entryDir(dir, key));
    await expect(loadPlugin(plugin('json-format'), { cacheDir: dir })).rejects.toBeInstanceOf(
      CacheRefusedError,
    );
  });

  const root = process.getuid?.() === 0;
  it.skipIf(!root)(
    'refuses a directory, entry or file owned by another user (needs root to chown)',
    async () => {
      const nobody = 65_534;
      const dir = freshCacheDir();
      clearCompiledCache();
      const { key } = (await loadPlugin(plugin('json-format'), { cacheDir: dir })).compiled;
      clearCompiledCache();
      const file = join(entryDir(dir, key), 'main.wasm');
      chownSync(file, nobody, nobody);
      await expect(loadPlugin(plugin('json-format'), { cacheDir: dir })).rejects.toThrow(
        /the file is owned by uid 65534, not by this user \(uid 0\)/,
      );
      chownSync(file, 0, 0);
      chownSync(entryDir(dir, key), nobody, nobody);
      await expect(loadPlugin(plugin('json-format'), { cacheDir: dir })).rejects.toThrow(
        /the entry is owned by uid 65534/,
      );
      chownSync(dir, nobody, nobody);
      await expect(loadPlugin(plugin('json-format'), { cacheDir: dir })).rejects.toThrow(
        /the directory is owned by uid 65534/,
      );
      expect(readdirSync(dir)).toEqual([key]);
    },
  );
});

describe.skipIf(NO_PLUGINS)('a fresh run after refusal', () => {
  it('runPlugin surfaces CACHE_REFUSED and runs nothing', async () => {
    const dir = freshCacheDir();
    chmodSync(dir, 0o770);
    const audit = new MemoryAuditSink();
    await expect(
      runPlugin(plugin('json-format'), { cacheDir: dir, input: '[]', audit }),
    ).rejects.toBeInstanceOf(CacheRefusedError);
    expect(audit.events.map((e) => e.decision)).toEqual(['denied']);
    expect(cacheEntries(dir)).toEqual([]);
  });
});
