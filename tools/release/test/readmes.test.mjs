// Every published package carries a README a user can read from the npm tarball: it is listed in
// `files`, and its links work there (absolute URLs or anchors, never ../../docs/ paths that the
// tarball does not contain).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listWorkspacePackages, publishablePackages } from '../src/workspace.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// The packages a release publishes, found the way the release tooling finds them.
const packages = publishablePackages(listWorkspacePackages(root)).map((p) => ({
  dir: p.dir,
  pkg: p.manifest,
}));

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
