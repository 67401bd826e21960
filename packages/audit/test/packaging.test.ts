import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

/** Copies a fixture consumer into a temp dir and links the built package as node_modules/@codex/audit. */
function consumer(name: string): string {
  const dir = join(tempDir(), name);
  cpSync(join(pkgDir, 'test/fixtures', name), dir, { recursive: true });
  mkdirSync(join(dir, 'node_modules/@codex'), { recursive: true });
  symlinkSync(pkgDir, join(dir, 'node_modules/@codex/audit'), 'dir');
  return dir;
}

describe('packaging', () => {
  it.each([
    ['consumer-esm', { format: 'esm', ok: true, entries: 1, errorBase: 'function' }],
    ['consumer-cjs', { format: 'cjs', ok: true, entries: 1, closedCode: 'AUDIT_CLOSED' }],
  ])('%s can use the built package by name', (name, expected) => {
    const dir = consumer(name);
    const log = join(dir, 'audit.jsonl');
    const out = execFileSync(process.execPath, ['index.js', log], { cwd: dir, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(expected);
    expect(readFileSync(log, 'utf8')).toContain(`"reason":"${name.slice(-3)}"`);
  });

  it('the exports map points at files that exist, for import and require', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    for (const entry of ['.', './pino-transport']) {
      const e = pkg.exports[entry];
      for (const file of [e.import.default, e.import.types, e.require.default, e.require.types]) {
        expect(() => readFileSync(join(pkgDir, file))).not.toThrow();
      }
    }
  });

  it('the runtime bundle depends on no @codex package but @codex/security-profile (CommonJS too)', () => {
    const files = readdirSync(join(pkgDir, 'dist')).filter((f) => /\.(c?js)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const code = readFileSync(join(pkgDir, 'dist', file), 'utf8');
      for (const m of code.matchAll(/(?:from|require\()\s*["'](@codex\/[^"'/]+)/g))
        expect(m[1]).toBe('@codex/security-profile');
    }
    // AuditError derives from CodexError whether the package is imported or required.
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      const a = await import(${JSON.stringify(join(pkgDir, 'dist', 'index.js'))});
      const p = await import('@codex/security-profile');
      console.log(new a.AuditClosedError("x") instanceof p.CodexError);`,
      ],
      { encoding: 'utf8', cwd: pkgDir },
    );
    expect(esm.trim()).toBe('true');
    const cjs = execFileSync(
      process.execPath,
      [
        '-e',
        `
      const a = require(${JSON.stringify(join(pkgDir, 'dist', 'index.cjs'))});
      const p = require('@codex/security-profile');
      console.log(new a.AuditClosedError("x") instanceof p.CodexError);`,
      ],
      { encoding: 'utf8', cwd: pkgDir },
    );
    expect(cjs.trim()).toBe('true');
  });
});
