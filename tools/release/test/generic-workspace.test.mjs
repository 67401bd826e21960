// The release check is generic over the workspace: a fresh workspace with packages it has never
// seen (one private) is released as-is, and mixed versions are refused (changesets "fixed").
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWithKey } from '@codex/attest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseCheck, tarRead } from '../src/index.mjs';

let root;
const pkg = (dir, manifest, files = { 'index.js': 'export const x = 1;\n' }) => {
  mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(root, dir, f), text);
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'codex-ws-'));
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'ws-root', private: true, version: '0.0.0' }),
  );
  writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - libs/*\n');
  const base = { version: '1.2.3', type: 'module', main: './index.js', license: 'MIT', files: ['index.js'] };
  pkg('libs/alpha', { name: '@codex/alpha', ...base });
  pkg('libs/beta', { name: '@codex/beta', ...base, dependencies: { '@codex/alpha': 'workspace:*' } });
  pkg('libs/internal', { name: '@codex/internal', ...base, private: true });
  pkg('libs/other', { name: 'not-codex', ...base });
  // links only (no registry packages): `pnpm pack` needs the workspace installed to pin ranges
  execFileSync('pnpm', ['install', '--offline'], { cwd: root, stdio: 'ignore' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('release check on a workspace it has never seen', () => {
  it('releases exactly the public @codex/* packages, with workspace ranges pinned', async () => {
    const out = join(root, 'out');
    const manifest = await releaseCheck({ root, outDir: out, build: false, isolate: false });
    expect(manifest.packages.map((p) => p.name)).toEqual(['@codex/alpha', '@codex/beta']);
    // the fixture packages have no repository field: fine offline, flagged for the real release
    expect(manifest.warnings).toEqual(['no repository field: @codex/alpha, @codex/beta']);
    expect(manifest.version).toBe('1.2.3');
    const beta = manifest.packages.find((p) => p.name === '@codex/beta');
    expect(JSON.parse(tarRead(join(out, beta.tarball), 'package.json')).dependencies).toEqual({
      '@codex/alpha': '1.2.3',
    });
    const sbom = JSON.parse(readFileSync(join(out, beta.sbom), 'utf8'));
    expect(sbom.components.map((c) => c['bom-ref'])).toEqual(['pkg:npm/@codex/alpha@1.2.3']);
    const pub = readFileSync(join(out, 'release-check.pub.pem'), 'utf8');
    for (const a of manifest.artifacts) {
      verifyWithKey(
        readFileSync(join(out, a.file)),
        JSON.parse(readFileSync(join(out, a.bundle), 'utf8')),
        pub,
      );
    }
  });

  const keyless = (outDir) => {
    // Outside GitHub Actions there is no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL /
    // SIGSTORE_ID_TOKEN) to trade for a Fulcio certificate.
    const saved = { url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL, tok: process.env.SIGSTORE_ID_TOKEN };
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete process.env.SIGSTORE_ID_TOKEN;
    return releaseCheck({
      root,
      outDir,
      build: false,
      isolate: false,
      keyless: true,
      keylessPolicy: {
        identity: 'https://github.com/x/y/.github/workflows/release.yml@refs/heads/main',
        issuer: 'https://token.actions.githubusercontent.com',
      },
    }).finally(() => {
      if (saved.url !== undefined) process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved.url;
      if (saved.tok !== undefined) process.env.SIGSTORE_ID_TOKEN = saved.tok;
    });
  };

  it('keyless mode refuses packages npm provenance would reject, before packing anything', async () => {
    const out = join(root, 'out-keyless-norepo');
    await expect(keyless(out)).rejects.toThrow(
      /no "repository" in package\.json .*@codex\/alpha, @codex\/beta/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('keyless mode without a CI identity token fails closed: no local-key fallback, no bundles', async () => {
    const files = ['libs/alpha/package.json', 'libs/beta/package.json'].map((f) => join(root, f));
    const originals = files.map((f) => readFileSync(f, 'utf8'));
    for (const [i, f] of files.entries()) {
      const m = JSON.parse(originals[i]);
      m.repository = { type: 'git', url: 'git+https://github.com/x/y.git' };
      writeFileSync(f, JSON.stringify(m, null, 2));
    }
    const out = join(root, 'out-keyless');
    try {
      await expect(keyless(out)).rejects.toThrow(/identity token/);
    } finally {
      for (const [i, f] of files.entries()) writeFileSync(f, originals[i]);
    }
    expect(existsSync(join(out, 'release-check.pub.pem'))).toBe(false);
    expect(readdirSync(join(out, 'packages')).filter((f) => f.endsWith('.sigstore.json'))).toEqual([]);
  });

  it('refuses mixed versions', async () => {
    const file = join(root, 'libs/beta/package.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('"version": "1.2.3"', '"version": "1.2.4"'));
    try {
      await expect(releaseCheck({ root, outDir: join(root, 'out2'), build: false })).rejects.toThrow(
        /must share one version .*@codex\/alpha@1\.2\.3, @codex\/beta@1\.2\.4/,
      );
    } finally {
      writeFileSync(file, original);
    }
  });

  it('refuses a tarball whose entry point was not built', async () => {
    pkg(
      'libs/gamma',
      { name: '@codex/gamma', version: '1.2.3', main: './dist/index.js', files: ['dist'] },
      {},
    );
    try {
      await expect(
        releaseCheck({ root, outDir: join(root, 'out3'), build: false, only: ['@codex/gamma'] }),
      ).rejects.toThrow(/@codex\/gamma: .*entry point \.\/dist\/index\.js is not in the tarball/);
    } finally {
      rmSync(join(root, 'libs/gamma'), { recursive: true, force: true });
    }
  });
});
