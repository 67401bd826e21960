// Every published package carries a README a user can read from the npm tarball: it is listed in
// `files`, and its links work there (absolute URLs or anchors, never ../../docs/ paths that the
// tarball does not contain).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packages = ['packages', 'apps']
  .flatMap((d) => readdirSync(join(root, d)).map((name) => join(root, d, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => pkg.private !== true);

describe('published READMEs', () => {
  it('finds the public packages', () => {
    expect(packages.map((p) => p.pkg.name)).toEqual(
      expect.arrayContaining(['@codex/cli', '@codex/security-profile', '@codex/execpolicy', '@codex/core']),
    );
  });
  for (const { dir, pkg } of packages) {
    it(`${pkg.name}: a README in the tarball, with an example and links that resolve there`, () => {
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(pkg.files ?? []).toContain('README.md');
      expect(readme).toMatch(/```(js|ts|sh|toml)\n/);
      const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
      for (const link of links) {
        if (/^(https?:|#|mailto:)/.test(link)) continue;
        const target = join(dir, link.split('#')[0]);
        const shipped = (pkg.files ?? []).some((f) => target.startsWith(join(dir, f)));
        expect(shipped && existsSync(target), `${pkg.name}: link ${link} is not in the tarball`).toBe(true);
      }
    });
  }
});
