// runPluginOnce: codex plugin run's composition (the stdio grant, the build cache, the config's
// audit log) without the CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pluginCacheDir, runPluginOnce } from '../src/index.js';
import { clangMissing, SOURCES } from './wasm-sources.js';

const MISSING = clangMissing();
let dir: string;
let home: string;
let plugin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-core-plugin-once-'));
  home = mkdtempSync(join(tmpdir(), 'codex-core-plugin-once-home-'));
  plugin = join(dir, 'json-format.wasm');
  if (!MISSING)
    execFileSync('clang', [
      '--target=wasm32-wasi',
      '-O2',
      '-s',
      '-o',
      plugin,
      join(SOURCES, 'json-format.c'),
    ]);
}, 60_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const config = defaultConfig();

it.skipIf(MISSING)(
  'runs the plugin with its input, caches the build under CODEX_HOME and audits the run',
  async () => {
    const r = await runPluginOnce(plugin, {
      ...{ config, codexHome: home, env: {}, profile: 'offline' },
      input: new TextEncoder().encode('{"a":[1]}'),
    });
    expect(r.exitCode).toBe(0);
    expect(new TextDecoder().decode(r.stdout)).toBe('{\n  "a": [\n    1\n  ]\n}\n');
    expect(r.capabilities).toEqual(['stdio']);
    expect(existsSync(pluginCacheDir(home))).toBe(true);
    const log = readFileSync(join(home, 'audit', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const entry = JSON.parse(log.at(-1)!);
    expect(entry).toMatchObject({ operation: 'plugin_run', profile: 'offline', decision: 'allowed' });
  },
);

it('a named but unset HMAC key variable is AUDIT_MISSING_KEY before anything runs', async () => {
  const keyed = { ...config, audit: { ...config.audit, hmac_key_env: 'CODEX_TEST_UNSET_KEY' } };
  await expect(
    runPluginOnce(join(dir, 'none.wasm'), { config: keyed, codexHome: home, env: {}, profile: 'offline' }),
  ).rejects.toMatchObject({ code: 'AUDIT_MISSING_KEY' });
});
