// The release check end to end on two real workspace packages: pack, SBOMs, sign, verify, and
// tampering on disk is caught. The full run over every package is `pnpm release:check`.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AttestError, verifyWithKey } from '@codex/attest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWorkspacePackages, publishablePackages, releaseCheck, tarRead } from '../src/index.mjs';

const root = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));
const ONLY = ['@codex/security-profile', '@codex/cli'];
let out;
let manifest;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'codex-release-check-'));
  // Build just these two (tsup; no dependency builds), so a half-finished sibling package in a
  // shared checkout cannot break this test. `pnpm release:check` builds everything through turbo.
  execFileSync('pnpm', [...ONLY.flatMap((n) => ['--filter', n]), 'run', 'build'], {
    cwd: root,
    stdio: 'ignore',
  });
  manifest = await releaseCheck({ root, outDir: out, only: ONLY, build: false });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const read = (rel) => readFileSync(join(out, rel));
const json = (rel) => JSON.parse(read(rel).toString('utf8'));
const pub = () => read('release-check.pub.pem').toString('utf8');

describe('pnpm release:check (two packages)', () => {
  it('packs each package with workspace: ranges rewritten', () => {
    expect(manifest.packages.map((p) => p.name).sort()).toEqual([...ONLY].sort());
    const cli = manifest.packages.find((p) => p.name === '@codex/cli');
    const packed = JSON.parse(tarRead(join(out, cli.tarball), 'package.json'));
    expect(packed.dependencies['@codex/security-profile']).toBe(manifest.version);
    expect(createHash('sha256').update(read(cli.tarball)).digest('hex')).toBe(cli.sha256);
  });

  it('writes a per-package SBOM with the tarball hashes and only production dependencies', () => {
    const cli = manifest.packages.find((p) => p.name === '@codex/cli');
    const sbom = json(cli.sbom);
    expect(sbom.bomFormat).toBe('CycloneDX');
    expect(sbom.specVersion).toBe('1.6');
    expect(sbom.metadata.component.name).toBe('cli');
    expect(sbom.metadata.component.hashes).toContainEqual({ alg: 'SHA-512', content: cli.sha512 });
    const refs = sbom.components.map((c) => c['bom-ref']);
    expect(refs).toContain('pkg:npm/@codex/security-profile@0.1.0');
    expect(refs.some((r) => r.startsWith('pkg:npm/smol-toml@'))).toBe(true);
    expect(refs.some((r) => r.startsWith('pkg:npm/zod@'))).toBe(true); // transitive, via security-profile
    for (const dev of ['vitest', 'tsup', 'esbuild', 'typescript', '@biomejs/biome']) {
      expect(refs.some((r) => r.startsWith(`pkg:npm/${dev}@`))).toBe(false);
    }
    expect(JSON.stringify(sbom)).not.toContain(root); // no local paths leak into the SBOM
  });

  it('writes one release SBOM covering every released package', () => {
    const sbom = json('sbom.json');
    const refs = sbom.components.map((c) => c['bom-ref']);
    for (const name of ONLY) expect(refs).toContain(`pkg:npm/${name}@${manifest.version}`);
    expect(sbom.metadata.component.version).toBe(manifest.version);
  });

  it('every tarball and SBOM has a bundle that verifies from disk with the ephemeral key', () => {
    expect(manifest.artifacts).toHaveLength(ONLY.length * 2 + 1);
    for (const a of manifest.artifacts) {
      expect(() => verifyWithKey(read(a.file), json(a.bundle), pub())).not.toThrow();
    }
    expect(manifest.canaries.map((c) => c.rejected)).toEqual(['SIGNATURE_ERROR', 'SIGNATURE_ERROR']);
  });

  it('a tampered tarball on disk fails verification', () => {
    const a = manifest.artifacts.find((x) => x.file.endsWith('.tgz'));
    const file = join(out, a.file);
    const original = readFileSync(file);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 10] ^= 0xff;
    writeFileSync(file, tampered);
    try {
      expect(() => verifyWithKey(readFileSync(file), json(a.bundle), pub())).toThrow(AttestError);
    } finally {
      writeFileSync(file, original);
    }
    expect(() => verifyWithKey(readFileSync(file), json(a.bundle), pub())).not.toThrow();
  });

  it('a tampered SBOM (one dependency version edited) fails verification', () => {
    const text = read('sbom.json').toString('utf8');
    const edited = text.replace(/"version": "(\d+)\./, (_m, major) => `"version": "${Number(major) + 1}.`);
    expect(edited).not.toBe(text);
    expect(() => verifyWithKey(Buffer.from(edited), json('sbom.json.sigstore.json'), pub())).toThrow(
      AttestError,
    );
  });
});

describe('codex verify on the release-check output', () => {
  // beforeAll built @codex/cli, so its dist/bin.cjs is current here.
  const bin = join(root, 'apps/cli/dist/bin.cjs');
  const verify = (file, bundle) =>
    spawnSync(
      process.execPath,
      [bin, 'verify', file, '--bundle', bundle, '--key', join(out, 'release-check.pub.pem')],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, CODEX_HOME: out },
      },
    );

  it('accepts every artifact and rejects a tampered copy (exit 1)', () => {
    for (const a of manifest.artifacts) {
      const r = verify(join(out, a.file), join(out, a.bundle));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const a = manifest.artifacts.find((x) => x.file.endsWith('.cdx.json'));
    const copy = join(out, 'tampered.cdx.json');
    writeFileSync(copy, read(a.file).toString('utf8').replace('"CycloneDX"', '"CycloneDx"'));
    const r = verify(copy, join(out, a.bundle));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/SIGNATURE_ERROR/);
  });
});

describe('workspace enumeration', () => {
  it('finds every public @codex/* package and skips private ones', () => {
    const all = listWorkspacePackages(root);
    const picked = publishablePackages(all);
    expect(picked.map((p) => p.name)).toContain('@codex/cli');
    expect(picked.every((p) => p.manifest.private !== true && p.name.startsWith('@codex/'))).toBe(true);
    expect(picked.map((p) => p.name)).not.toContain('@codex/release-tools');
    expect(all.map((p) => p.name)).toContain('@codex/release-tools');
  });

  it('an unknown --only name is an error, not silently skipped', () => {
    expect(() => publishablePackages(listWorkspacePackages(root), { only: ['@codex/nope'] })).toThrow(
      /not a publishable @codex\/\* workspace package: @codex\/nope/,
    );
  });
});
