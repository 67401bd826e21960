import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };

describe('portability', () => {
  const dir = new URL('../src/', import.meta.url);
  it('src has no node: imports and no Node globals', () => {
    for (const file of readdirSync(dir)) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      expect(text, file).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
  });

  it('depends on zod and smol-toml only, and carries both inside dist (one module each to load)', async () => {
    expect(Object.keys(pkg.dependencies)).toEqual(['smol-toml', 'zod']);
    const { readdirSync, readFileSync } = await import('node:fs');
    const dist = new URL('../dist/', import.meta.url);
    const files = readdirSync(dist).filter((f) => /\.(c?js)$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(new URL(f, dist), 'utf8');
      expect(text, f).not.toMatch(/(from|require\()\s*["'](zod|smol-toml)(\/[^"']*)?["']/);
    }
  });

  it('built bundle evaluates in a bare vm context (no require, no process)', async () => {
    const { runInNewContext } = await import('node:vm');
    const { build } = await import('esbuild').catch(() => ({ build: undefined }));
    if (!build) return expect.fail('esbuild missing');
    const out = await build({
      entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'SP',
      write: false,
    });
    const code = `${out.outputFiles[0]!.text}; SP.toSandboxPolicy(SP.parseProfile('WorkspaceWrite'), { workspaceRoots: ['/w'] }).writableRoots[0].root`;
    expect(runInNewContext(code, {})).toBe('/w');
  });
});
