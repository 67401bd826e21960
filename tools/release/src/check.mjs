// The release check: pack → SBOMs → sign → verify, for every publishable @codex/* package.
// `pnpm release:check` runs it offline with an ephemeral key; the release workflow runs it with
// `keyless: true` (GitHub OIDC → Fulcio, Rekor) and then publishes the very tarballs it signed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { AttestError, verifyKeyless, verifyWithKey } from '@codex/attest';
import { packPackage } from './pack.mjs';
import { packageBom, releaseBom, workspaceBom } from './sbom.mjs';
import { ephemeralKey, signBlob, signBlobKeyless } from './sigstore.mjs';
import { fileStem, listWorkspacePackages, publishablePackages } from './workspace.mjs';

/**
 * @typedef {object} CheckOptions
 * @property {string} root workspace root
 * @property {string} outDir where tarballs, SBOMs and bundles go (emptied first)
 * @property {string[]} [only] restrict to these package names
 * @property {boolean} [build] build the packages first (turbo, with their dependencies)
 * @property {boolean} [keyless] sign with GitHub OIDC (release workflow only)
 * @property {{ identity: string, issuer: string }} [keylessPolicy] expected signer when keyless
 * @property {boolean} [isolate] run cdxgen in an empty network namespace (default: when possible)
 * @property {(msg: string) => void} [log]
 */

/** @param {CheckOptions} opts */
export async function releaseCheck(opts) {
  const log = opts.log ?? (() => {});
  const workspace = listWorkspacePackages(opts.root);
  const packages = publishablePackages(workspace, opts.only ? { only: opts.only } : {});
  if (packages.length === 0) throw new Error('no publishable @codex/* packages in the workspace');

  // Fixed versioning (.changeset/config.json): every published package carries one version.
  const versions = new Set(packages.map((p) => p.version));
  if (versions.size !== 1) {
    const list = packages.map((p) => `${p.name}@${p.version}`).join(', ');
    throw new Error(`@codex/* packages must share one version (changesets "fixed"), found: ${list}`);
  }
  const version = packages[0].version;
  log(`release ${version}: ${packages.length} package(s): ${packages.map((p) => p.name).join(', ')}`);

  // `npm publish --provenance` refuses a package whose repository.url does not name the repository
  // the workflow runs in. Offline that is a warning; in the real (keyless) release it stops here.
  const noRepo = packages.filter((p) => !repositoryUrl(p.manifest)).map((p) => p.name);
  if (noRepo.length > 0) {
    const msg = `no "repository" in package.json (npm publish --provenance needs it): ${noRepo.join(', ')}`;
    if (opts.keyless) throw new Error(msg);
    log(`warning: ${msg}`);
  }

  if (opts.build) {
    const filters = packages.map((p) => `--filter=${p.name}...`);
    log('building (turbo)…');
    execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], {
      cwd: opts.root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    });
  }

  rmSync(opts.outDir, { recursive: true, force: true });
  const tarDir = join(opts.outDir, 'packages');
  const sbomDir = join(opts.outDir, 'sbom');
  mkdirSync(tarDir, { recursive: true });
  mkdirSync(sbomDir, { recursive: true });

  /** @type {{ pkg: any, artifact: any }[]} */
  const released = [];
  for (const pkg of packages) {
    const artifact = packPackage(pkg, tarDir);
    log(
      `packed ${relative(opts.outDir, artifact.file)} (${artifact.size} bytes, ${artifact.entries.length} files)`,
    );
    released.push({ pkg, artifact });
  }

  log('SBOM: cdxgen over pnpm-lock.yaml…');
  const {
    bom,
    isolated,
    version: cdxgenVersion,
  } = workspaceBom(opts.root, {
    ...(opts.isolate === undefined ? {} : { isolate: opts.isolate }),
  });
  log(`SBOM: cdxgen ${cdxgenVersion}${isolated ? ', run with no network (unshare -n)' : ''}`);
  const sboms = [];
  for (const { pkg, artifact } of released) {
    const file = join(sbomDir, `${fileStem(pkg.name)}-${pkg.version}.cdx.json`);
    const doc = packageBom(bom, workspace, pkg, artifact);
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
    sboms.push({ file, name: pkg.name, components: doc.components.length });
  }
  const releaseSbom = releaseBom(bom, workspace, released, version);
  const releaseSbomFile = join(opts.outDir, 'sbom.json');
  writeFileSync(releaseSbomFile, `${JSON.stringify(releaseSbom, null, 2)}\n`);
  log(`SBOM: ${sboms.length} per-package + sbom.json (${releaseSbom.components.length} components)`);

  // Sign every tarball and every SBOM.
  const key = opts.keyless ? undefined : ephemeralKey();
  const pubFile = join(opts.outDir, 'release-check.pub.pem');
  if (key) writeFileSync(pubFile, key.publicKeyPem);
  const artifacts = [...released.map((r) => r.artifact.file), ...sboms.map((s) => s.file), releaseSbomFile];
  const signed = [];
  for (const file of artifacts) {
    const data = readFileSync(file);
    const bundle = key ? await signBlob(data, key) : await signBlobKeyless(data);
    const bundleFile = `${file}.sigstore.json`;
    writeFileSync(bundleFile, `${JSON.stringify(bundle, null, 2)}\n`);
    signed.push({ file, bundleFile });
  }
  log(`signed ${signed.length} artifact(s) (${key ? 'ephemeral P-256 key' : 'keyless: GitHub OIDC'})`);

  // Verify from disk, as a consumer would.
  const verify = (data, bundleJson) =>
    key
      ? verifyWithKey(data, bundleJson, readFileSync(pubFile, 'utf8'))
      : verifyKeyless(data, bundleJson, /** @type {any} */ (opts.keylessPolicy));
  const results = signed.map(({ file, bundleFile }) => {
    verify(readFileSync(file), JSON.parse(readFileSync(bundleFile, 'utf8')));
    return { file, bundleFile };
  });
  log(`verified ${results.length} bundle(s) with @codex/attest (@sigstore/verify)`);

  // Canaries: a flipped byte in a tarball and in an SBOM must not verify.
  const canaries = [released[0].artifact.file, releaseSbomFile].map((file) => {
    const data = Buffer.from(readFileSync(file));
    data[data.length >> 1] ^= 0x01;
    const bundleJson = JSON.parse(readFileSync(`${file}.sigstore.json`, 'utf8'));
    try {
      verify(data, bundleJson);
    } catch (error) {
      if (error instanceof AttestError) return { file: basename(file), rejected: error.reason };
      throw error;
    }
    throw new Error(`tampered ${basename(file)} still verified: the verification is broken`);
  });
  log(`tamper canaries rejected: ${canaries.map((c) => `${c.file} (${c.rejected})`).join(', ')}`);

  const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const manifest = {
    version,
    signing: key ? { mode: 'key', publicKey: basename(pubFile), hint: key.hint } : { mode: 'keyless' },
    sbomTool: { name: '@cyclonedx/cdxgen', version: cdxgenVersion, networkIsolated: isolated },
    packages: released.map(({ pkg, artifact }) => ({
      name: pkg.name,
      version: pkg.version,
      tarball: relative(opts.outDir, artifact.file),
      sha256: artifact.sha256,
      sha512: artifact.sha512,
      sbom: relative(opts.outDir, sboms.find((s) => s.name === pkg.name)?.file ?? ''),
    })),
    artifacts: results.map((r) => ({
      file: relative(opts.outDir, r.file),
      sha256: sha256(r.file),
      bundle: relative(opts.outDir, r.bundleFile),
      verified: true,
    })),
    canaries,
    warnings: noRepo.length > 0 ? [`no repository field: ${noRepo.join(', ')}`] : [],
  };
  writeFileSync(join(opts.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** `repository` as a string or `{ url }`. */
function repositoryUrl(manifest) {
  const r = manifest.repository;
  return typeof r === 'string' ? r : typeof r?.url === 'string' ? r.url : undefined;
}
