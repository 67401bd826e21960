import { describe, expect, it } from 'vitest';
import { closure, componentLicenses, indexBom, packageBom, refName } from '../src/index.mjs';

const ws = (name, deps = {}, devDeps = {}) => ({
  name,
  version: '1.0.0',
  dir: `/x/${name}`,
  relDir: name,
  manifest: { name, version: '1.0.0', license: 'Apache-2.0', dependencies: deps, devDependencies: devDeps },
});

// The shape cdxgen produces for a pnpm workspace: workspace packages nested under
// metadata.component, and their dependsOn lists mixing production and dev dependencies.
const bom = {
  metadata: {
    timestamp: '2026-01-01T00:00:00Z',
    component: {
      'bom-ref': 'pkg:npm/root@0.0.0',
      components: [
        { 'bom-ref': 'pkg:npm/@codex/a@1.0.0', name: 'a' },
        { 'bom-ref': 'pkg:npm/@codex/b@1.0.0', name: 'b' },
      ],
    },
  },
  components: [
    { 'bom-ref': 'pkg:npm/left@1.0.0', name: 'left', licenses: [{ license: { id: 'MIT' } }] },
    { 'bom-ref': 'pkg:npm/pad@2.0.0', name: 'pad', licenses: [{ expression: 'MIT OR Apache-2.0' }] },
    {
      'bom-ref': 'pkg:npm/devtool@3.0.0',
      name: 'devtool',
      properties: [{ name: 'LocalNodeModulesPath', value: '/home/me/x' }],
    },
  ],
  dependencies: [
    { ref: 'pkg:npm/@codex/a@1.0.0', dependsOn: ['pkg:npm/@codex/b@1.0.0', 'pkg:npm/devtool@3.0.0'] },
    { ref: 'pkg:npm/@codex/b@1.0.0', dependsOn: ['pkg:npm/left@1.0.0', 'pkg:npm/devtool@3.0.0'] },
    { ref: 'pkg:npm/left@1.0.0', dependsOn: ['pkg:npm/pad@2.0.0'] },
    { ref: 'pkg:npm/pad@2.0.0', dependsOn: [] },
    { ref: 'pkg:npm/devtool@3.0.0', dependsOn: ['pkg:npm/left@1.0.0'] },
  ],
};
const workspace = [
  ws('@codex/a', { '@codex/b': 'workspace:*' }, { devtool: '^3' }),
  ws('@codex/b', { left: '^1' }, { devtool: '^3' }),
];

describe('SBOM closure', () => {
  it('parses names out of purl-style refs', () => {
    expect(refName('pkg:npm/@scope/name@1.2.3')).toBe('@scope/name');
    expect(refName('pkg:npm/%40scope/name@1.2.3?x=y')).toBe('@scope/name');
    expect(refName('pkg:npm/plain@0.1.0')).toBe('plain');
  });

  it('follows production dependencies through workspace packages, never their dev dependencies', () => {
    const index = indexBom(bom, workspace);
    expect([...closure(index, 'pkg:npm/@codex/a@1.0.0')].sort()).toEqual([
      'pkg:npm/@codex/b@1.0.0',
      'pkg:npm/left@1.0.0',
      'pkg:npm/pad@2.0.0',
    ]);
  });

  it('per-package SBOM: the package with its hashes, its closure, no local paths', () => {
    const doc = packageBom(bom, workspace, workspace[0], { sha256: 'aa', sha512: 'bb' });
    expect(doc.metadata.component).toMatchObject({ group: '@codex', name: 'a', version: '1.0.0' });
    expect(doc.metadata.component.hashes).toEqual([
      { alg: 'SHA-256', content: 'aa' },
      { alg: 'SHA-512', content: 'bb' },
    ]);
    expect(doc.components.map((c) => c['bom-ref'])).not.toContain('pkg:npm/devtool@3.0.0');
    expect(doc.dependencies.find((d) => d.ref === 'pkg:npm/@codex/a@1.0.0').dependsOn).toEqual([
      'pkg:npm/@codex/b@1.0.0',
    ]);
    expect(componentLicenses(doc)).toContainEqual({
      ref: 'pkg:npm/pad@2.0.0',
      licenses: ['MIT OR Apache-2.0'],
    });
  });

  it('a package missing from the lockfile SBOM is an error', () => {
    expect(() => packageBom(bom, workspace, ws('@codex/new'), { sha256: '', sha512: '' })).toThrow(
      /not in the workspace SBOM/,
    );
  });
});
