// The plugin toolchain is optional outside CI: without clang (wasm32-wasi) or wabt, the build
// script names what is missing and its Debian package, and the suite runs what it can.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_PLUGINS, ROOT } from './helpers.js';

const script = join(ROOT, 'scripts', 'build-plugins.mjs');

/** A PATH with node alone: no clang, no wat2wasm (whatever this machine has). */
function bareEnv(): NodeJS.ProcessEnv {
  const bin = join(mkdtempSync(join(tmpdir(), 'codex-bare-path-')), 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  return { ...process.env, PATH: bin, CI: 'false' };
}

describe('plugin toolchain', () => {
  it('a machine without clang and wabt gets one line naming each tool and its Debian package', () => {
    const out = mkdtempSync(join(tmpdir(), 'codex-plugins-'));
    const r = spawnSync(process.execPath, [script, out], { env: bareEnv(), encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      'build-plugins: missing clang (Debian: clang, lld, wasi-libc, libclang-rt-14-dev-wasm32), ' +
        'wat2wasm (Debian: wabt); install them or run .ci/install-apt',
    );
    expect(readdirSync(out)).toEqual([]);
  });

  it('skipMissing builds nothing it cannot and lists every plugin it left out', () => {
    const out = mkdtempSync(join(tmpdir(), 'codex-plugins-'));
    const code = `const m = await import(${JSON.stringify(script)});
      console.log(JSON.stringify(await m.buildPlugins(${JSON.stringify(out)}, { skipMissing: true })));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      env: bareEnv(),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as { built: object; missing: string[]; skipped: string[] };
    expect(result.built).toEqual({});
    expect(result.missing).toEqual(['clang', 'wat2wasm']);
    expect(result.skipped).toContain('json-format.c');
    expect(result.skipped).toContain('counter.wat');
  });

  it('CI=true requires the whole toolchain (the plugin suites never skip there)', () => {
    if (process.env.CI === 'true') expect(NO_PLUGINS).toBe('');
    else expect(typeof NO_PLUGINS).toBe('string');
  });
});
