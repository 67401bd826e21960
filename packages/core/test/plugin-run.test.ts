import { expect, it } from 'vitest';
import { pluginCacheDir } from '../src/index.js';

it('pluginCacheDir is under CODEX_HOME', () => {
  expect(pluginCacheDir('/home/a/.codex')).toBe('/home/a/.codex/cache/wasm-plugin');
});
