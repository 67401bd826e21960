#!/usr/bin/env node
// `pnpm release:check`: the release pipeline, offline. Packs every publishable @codex/* package,
// writes a CycloneDX SBOM per package plus sbom.json for the release (cdxgen over
// pnpm-lock.yaml), signs every tarball and SBOM into a sigstore bundle with an ephemeral P-256 key,
// verifies them all with @sigstore/verify, and checks that a tampered tarball and SBOM are
// rejected. Output: tools/release/dist/release/ (see docs/release.md).
//
//   node scripts/release-check.mjs [--no-build] [--only @codex/a,@codex/b] [--out DIR]
//   node scripts/release-check.mjs --keyless --identity URI --issuer URL   (release workflow)
//
// Exit codes: 0 every artifact verified; 1 a step failed; 2 bad arguments.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { releaseCheck } from '../tools/release/src/index.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

let values;
try {
  ({ values } = parseArgs({
    options: {
      build: { type: 'boolean', default: true },
      'no-build': { type: 'boolean' },
      only: { type: 'string' },
      out: { type: 'string' },
      keyless: { type: 'boolean' },
      identity: { type: 'string' },
      issuer: { type: 'string' },
      'no-isolate': { type: 'boolean' },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`release-check: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
  process.exit(2);
}
if (values.keyless && (!values.identity || !values.issuer)) {
  console.error('release-check: --keyless needs --identity and --issuer (the expected signer)');
  process.exit(2);
}

const outDir = resolve(values.out ?? join(root, 'tools/release/dist/release'));
const started = Date.now();
try {
  const manifest = await releaseCheck({
    root,
    outDir,
    build: values.build && !values['no-build'],
    ...(values.only ? { only: values.only.split(',').map((s) => s.trim()) } : {}),
    ...(values.keyless
      ? { keyless: true, keylessPolicy: { identity: values.identity, issuer: values.issuer } }
      : {}),
    ...(values['no-isolate'] ? { isolate: false } : {}),
    log: (msg) => console.log(`release-check: ${msg}`),
  });
  console.log(
    `release-check: OK ${manifest.version}: ${manifest.packages.length} package(s), ${manifest.artifacts.length} signed artifact(s) verified in ${((Date.now() - started) / 1000).toFixed(1)} s → ${outDir}`,
  );
} catch (error) {
  console.error(`release-check: FAILED: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
