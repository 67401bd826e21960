// `codex plugin run` as a library: one inline run, its input and limits, and the audit log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '@codex/security-profile';
import { FuelExhaustedError } from '@codex/wasm-plugin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPluginOnce } from '../src/index.js';
import { buildPlugin, clangMissing } from './wasm.js';

const MISSING = clangMissing();
let dir: string;
let plugin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-core-plugin-once-'));
  if (!MISSING) plugin = buildPlugin('json-format', dir);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(MISSING)('runPluginOnce', () => {
  it('runs the plugin on its input under the limits, and audits the run and a violation', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const options = { config: defaultConfig(), codexHome: home, env: {}, profile: 'offline' as const };
    const r = await runPluginOnce(plugin, { ...options, input: new TextEncoder().encode('[1]') });
    expect(r.exitCode).toBe(0);
    expect(new TextDecoder().decode(r.stdout)).toBe('[\n  1\n]\n');
    expect(r.capabilities).toEqual(['stdio']);
    const starved = runPluginOnce(plugin, { ...options, input: new Uint8Array(), limits: { fuel: 1 } });
    await expect(starved).rejects.toBeInstanceOf(FuelExhaustedError);
    // both runs are in the config's audit log, written before runPluginOnce returned
    const entries = readFileSync(join(home, 'audit', 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.operation, e.decision])).toEqual([
      ['plugin_run', 'allowed'],
      ['plugin_run', 'denied'],
    ]);
  });
});
