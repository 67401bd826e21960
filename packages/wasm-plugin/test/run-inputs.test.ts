import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  describePluginInspection,
  InvalidManifestError,
  inspectPlugin,
  ManifestUnreadableError,
  memoryLimitBytes,
  type PluginRunResult,
  parseAllowList,
  pluginRunJson,
  readPluginManifest,
} from '../src/index.js';
import { freshCacheDir, NO_PLUGINS, plugin } from './helpers.js';

describe('parseAllowList and memoryLimitBytes', () => {
  it('splits repeated comma lists and refuses what can never be granted', () => {
    expect(parseAllowList(['env:A, clock', 'random', ''])).toEqual(['env:A', 'clock', 'random']);
    expect(parseAllowList([])).toEqual([]);
    expect(() => parseAllowList(['clock,fs'])).toThrow(/"fs" can never be granted to a WASM plugin/);
  });

  it('megabytes to bytes, rounded down to whole 64 KiB pages', () => {
    expect(memoryLimitBytes(2)).toBe(2 * 1048576);
    expect(memoryLimitBytes(0.1)).toBe(65536);
    expect(memoryLimitBytes(1.99)).toBe(2031616);
  });
});

describe('readPluginManifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codex-manifest-'));
  const wasm = join(dir, 'probe.wasm');

  it('no sidecar: none; the sidecar next to the plugin; or the file given', () => {
    expect(readPluginManifest(wasm)).toBeUndefined();
    writeFileSync(
      join(dir, 'probe.plugin.json'),
      JSON.stringify({ name: 'probe', version: '1.0.0', capabilities: ['clock'] }),
    );
    expect(readPluginManifest(wasm)).toMatchObject({ name: 'probe', capabilities: [{ kind: 'clock' }] });
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ name: 'other', version: '2.0.0' }));
    expect(readPluginManifest(wasm, other)).toMatchObject({ name: 'other' });
  });

  it('a given file that cannot be read is MANIFEST_UNREADABLE; a bad one INVALID_MANIFEST', () => {
    const missing = join(dir, 'nope.json');
    const e = (() => {
      try {
        readPluginManifest(wasm, missing);
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(ManifestUnreadableError);
    expect(e).toMatchObject({ code: 'MANIFEST_UNREADABLE', path: missing, reason: 'ENOENT' });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"name":"probe","version":"one"}');
    expect(() => readPluginManifest(wasm, bad)).toThrow(InvalidManifestError);
  });
});

describe('pluginRunJson', () => {
  it('decodes the output and rounds the time to a tenth of a millisecond', () => {
    const result: PluginRunResult = {
      ...{ exitCode: 0, stdout: new TextEncoder().encode('ok\n'), stderr: new Uint8Array(), fuelUsed: 42 },
      ...{ durationMs: 3.1234, capabilities: ['stdio'], denials: [], limits: DEFAULT_LIMITS },
      ...{ sha256: 'abc', cache: 'miss' as PluginRunResult['cache'] },
    };
    expect(pluginRunJson('p.wasm', result)).toEqual({
      ...{ plugin: 'p.wasm', exitCode: 0, stdout: 'ok\n', stderr: '', fuelUsed: 42, durationMs: 3.1 },
      ...{ capabilities: ['stdio'], limits: DEFAULT_LIMITS, sha256: 'abc', cache: 'miss' },
    });
  });
});

describe.skipIf(NO_PLUGINS)('describePluginInspection', () => {
  it('rows for kind, hash, imports, capabilities and the manifest', async () => {
    const info = await inspectPlugin(plugin('counter'), { cacheDir: freshCacheDir() });
    const rows = describePluginInspection(info, {
      name: 'counter',
      version: '1.0.0',
      capabilities: [{ kind: 'env', name: 'X' }, { kind: 'clock' }],
    } as never);
    expect(rows[0]).toEqual(['kind', info.kind]);
    expect(rows[1]).toEqual(['sha256', info.sha256]);
    expect(rows).toContainEqual(['preview1 imports', info.coreImports.join(', ')]);
    expect(info.coreImports).toContain('wasi_snapshot_preview1.fd_write');
    expect(rows.slice(-2)).toEqual([
      ['manifest', 'counter@1.0.0'],
      ['manifest requests', 'env:X, clock'],
    ]);
  });
});

describe('readStdinInput', () => {
  // A child process reads its stdin with the built function and prints what it got.
  const dist = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
  const script = `const { readStdinInput } = await import(${JSON.stringify(dist)});
process.stdout.write(Buffer.from(await readStdinInput({ emptyOnTerminal: true })));`;
  const args = ['--input-type=module', '-e', script];

  it('reads a file on stdin, and nothing from no stdin', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'plugin-stdin-')), 'in.json');
    writeFileSync(file, '{"a": 1}');
    const fd = openSync(file, 'r');
    try {
      const r = spawnSync(process.execPath, args, { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      expect(r).toMatchObject({ status: 0, stdout: '{"a": 1}', stderr: '' });
    } finally {
      closeSync(fd);
    }
    const none = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(none).toMatchObject({ status: 0, stdout: '' });
  });

  /** The child's output when its stdin gets `parts` 200 ms apart. */
  async function slowly(command: string, argv: string[], parts: string[]): Promise<string> {
    const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise((r) => child.on('close', r));
    for (const [i, part] of parts.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      if (i === parts.length - 1) child.stdin.end(part);
      else child.stdin.write(part);
    }
    expect(await exited).toBe(0);
    return out;
  }

  it('reads all of a pipe whose writer is slow', async () => {
    expect(await slowly(process.execPath, args, ['one ', 'two ', 'three'])).toBe('one two three');
  });

  it.skipIf(!existsSync('/usr/bin/python3'))(
    'and of one whose descriptor is non-blocking (read until EAGAIN, the rest through process.stdin)',
    async () => {
      const become = `import os; os.set_blocking(0, False); os.execv(${JSON.stringify(process.execPath)}, ["node", *${JSON.stringify(args)}])`;
      expect(await slowly('python3', ['-c', become], ['first ', 'last'])).toBe('first last');
    },
  );
});
