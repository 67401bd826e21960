// scripts/release-licenses.mjs: the allow-list logic and the CLI over an SBOM file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { allowed } from '../../../scripts/release-licenses.mjs';

const root = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
const script = join(root, 'scripts/release-licenses.mjs');

describe('licence allow-list', () => {
  it.each([
    ['MIT', true],
    ['Apache-2.0', true],
    ['(MIT OR GPL-3.0-only)', true],
    ['MIT AND GPL-3.0-only', false],
    ['GPL-3.0-only', false],
    ['AGPL-3.0-or-later', false],
    ['Apache-2.0 WITH LLVM-exception', true],
    ['GPL-2.0-only WITH Classpath-exception-2.0', false],
    ['SEE LICENSE IN LICENSE.md', false],
  ])('%s → %s', (expr, ok) => {
    expect(allowed(expr)).toBe(ok);
  });
});

describe('release-licenses --sbom', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codex-lic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sbom = (components) => {
    const file = join(dir, `${components.length}-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify({ bomFormat: 'CycloneDX', components }));
    return file;
  };
  const run = (file) => spawnSync(process.execPath, [script, '--sbom', file], { encoding: 'utf8' });

  it('passes permissive licences', () => {
    const r = run(
      sbom([
        { 'bom-ref': 'pkg:npm/a@1.0.0', licenses: [{ license: { id: 'MIT' } }] },
        { 'bom-ref': 'pkg:npm/b@1.0.0', licenses: [{ expression: 'MIT OR Apache-2.0' }] },
      ]),
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/2 component\(s\)/);
  });

  it('fails on a copyleft licence or a missing one, naming the component', () => {
    const r = run(
      sbom([
        { 'bom-ref': 'pkg:npm/ok@1.0.0', licenses: [{ license: { id: 'ISC' } }] },
        { 'bom-ref': 'pkg:npm/gpl@2.0.0', licenses: [{ license: { id: 'GPL-3.0-only' } }] },
        { 'bom-ref': 'pkg:npm/none@3.0.0' },
      ]),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not allowed: pkg:npm\/gpl@2\.0\.0: GPL-3\.0-only/);
    expect(r.stderr).toMatch(/not allowed: pkg:npm\/none@3\.0\.0: no licence declared/);
  });

  it('an unreadable SBOM is exit 2', () => {
    expect(run(join(dir, 'missing.json')).status).toBe(2);
  });
});
