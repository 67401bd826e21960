import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const profileDir = join(pkgDir, '../security-profile');
const require = createRequire(join(pkgDir, 'package.json'));

/** `pnpm pack` (workspace:* replaced by versions, only the files a user would get). */
function pack(dir: string, dest: string): string {
  const before = new Set(readdirSync(dest));
  execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, stdio: 'ignore' });
  const made = readdirSync(dest).find((f) => f.endsWith('.tgz') && !before.has(f));
  if (made === undefined) throw new Error(`pnpm pack made no tarball in ${dir}`);
  return join(dest, made);
}

/** Unpacks a tarball as node_modules/<name>, with its dependencies linked from the workspace. */
function install(tgz: string, into: string, name: string, from: string): void {
  const dir = join(into, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=1']);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    if (dep.startsWith('@codex/')) {
      expect(pkg.dependencies?.[dep]).not.toContain('workspace:');
      continue; // installed from its own packed tarball
    }
    const target = join(dir, 'node_modules', dep);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(realpathSync(join(from, 'node_modules', dep)), target, 'dir');
  }
}

describe('CommonJS TypeScript consumers of the packed tarballs', () => {
  it('tsc (module node16, no skipLibCheck) and @arethetypeswrong/cli find no problem', () => {
    const tmp = tempDir();
    const audit = pack(pkgDir, tmp);
    const profile = pack(profileDir, tmp);

    // attw on each packed tarball: every entry point resolves to correct types under node16
    // (CommonJS and ESM) and bundlers.
    const attw = join(pkgDir, 'node_modules/.bin/attw');
    for (const tgz of [audit, profile]) {
      const r = spawnSync(attw, [tgz, '--format', 'json', '--profile', 'node16'], { encoding: 'utf8' });
      const report = JSON.parse(r.stdout) as { analysis: { problems: { resolutionKind?: string }[] } };
      // node10 (no exports-map support) is outside the node16 profile: subpath entries cannot resolve there.
      const problems = report.analysis.problems.filter((p) => p.resolutionKind !== 'node10');
      expect(problems, tgz).toEqual([]);
      expect(r.status).toBe(0);
    }

    const consumer = join(tmp, 'consumer');
    cpSync(join(pkgDir, 'test/fixtures/consumer-ts-cjs'), consumer, { recursive: true });
    install(audit, consumer, '@codex/audit', pkgDir);
    install(profile, consumer, '@codex/security-profile', profileDir);
    mkdirSync(join(consumer, 'node_modules/@types'), { recursive: true });
    symlinkSync(
      realpathSync(join(pkgDir, 'node_modules/@types/node')),
      join(consumer, 'node_modules/@types/node'),
    );

    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);

    // The compiled CommonJS runs: both packages are require()d by name.
    const compiled = readFileSync(join(consumer, 'out/index.js'), 'utf8');
    expect(compiled).toContain('require("@codex/security-profile")');
    const out = execFileSync(process.execPath, ['out/index.js', join(consumer, 'audit.jsonl')], {
      cwd: consumer,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ ok: true, seq: 1, codexError: 'INVALID_CONFIG', auditError: true });
  }, 240_000); // two packs, two attw runs and a tsc: about 10 s idle, a minute on a loaded machine
});
