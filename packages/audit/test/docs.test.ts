import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import { tempDir } from './helpers/tmp.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
const doc = readFileSync(join(pkgDir, '../../docs/audit.md'), 'utf8');

describe('README', () => {
  it('the example runs against the built package and prints what it says', () => {
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules/@codex'), { recursive: true });
    symlinkSync(pkgDir, join(dir, 'node_modules/@codex/audit'), 'dir');
    writeFileSync(join(dir, 'example.mjs'), code!);
    const out = execFileSync(process.execPath, ['example.mjs'], { cwd: dir, encoding: 'utf8' });
    const expected = [...code!.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    expect(out.trim().split('\n')).toEqual(expected);
  });

  it('lists every error code the package can raise', () => {
    const src = execFileSync('grep', ['-rhoE', "'AUDIT_[A-Z_]+'", join(pkgDir, 'src')], { encoding: 'utf8' });
    const codes = [
      ...new Set(
        src
          .trim()
          .split('\n')
          .map((c) => c.slice(1, -1)),
      ),
    ];
    expect(codes.length).toBeGreaterThan(5);
    for (const c of codes) {
      expect(readme).toContain(`\`${c}\``);
      expect(doc).toContain(`\`${c}\``);
    }
  });

  it('names only exports that exist', () => {
    for (const name of [
      'AuditLogger',
      'createAuditLoggerFromConfig',
      'verify',
      'readEntries',
      'followEntries',
      'auditStats',
      'logFiles',
      'auditDestination',
      'createMasker',
      'redactSecrets',
      'parseTimeSpec',
      'auditEntrySchema',
      'loadOrCreateCheckpointKey',
      'readCheckpoints',
      'verifyExport',
    ]) {
      expect(readme).toContain(name);
      expect(api).toHaveProperty(name);
    }
  });
});

describe('docs/audit.md', () => {
  it('documents every verify problem kind and every CLI exit code', () => {
    for (const kind of [
      'edited',
      'deleted',
      'reordered',
      'inserted',
      'truncated',
      'bad-json',
      'bad-entry',
      'unkeyed',
      'unreadable',
      'torn-tail',
      'bad-tail',
      'forged',
      'unknown-key',
      'bad-checkpoint',
    ]) {
      expect(doc).toContain(`\`${kind}\``);
    }
    for (const code of ['0', '1', '2', '3', '4', '5', '6', '7', '8', '130'])
      expect(doc).toMatch(new RegExp(`\\| \`${code}\` +\\|`));
  });
});
