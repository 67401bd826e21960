// Packs a workspace package with `pnpm pack` (which rewrites `workspace:` ranges to real
// versions, exactly as `pnpm publish` does) and checks the tarball is publishable.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * @param {import('./workspace.mjs').WorkspacePackage} pkg
 * @param {string} destDir
 * @returns {{ file: string, sha256: string, sha512: string, size: number, entries: string[] }}
 */
export function packPackage(pkg, destDir) {
  const r = spawnSync('pnpm', ['pack', '--json', '--pack-destination', destDir], {
    cwd: pkg.dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    let why = (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' ');
    try {
      why = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).error?.message ?? why;
    } catch {}
    throw new Error(`${pkg.name}: pnpm pack failed: ${why}`);
  }
  const out = r.stdout;
  // pnpm prints lifecycle output before the JSON on some versions; take the last JSON object.
  const json = JSON.parse(out.slice(out.indexOf('{')));
  const file = isAbsolute(json.filename) ? json.filename : join(destDir, json.filename);
  const data = readFileSync(file);
  const entries = tarEntries(file);
  checkTarball(pkg, file, entries);
  return {
    file,
    sha256: createHash('sha256').update(data).digest('hex'),
    sha512: createHash('sha512').update(data).digest('hex'),
    size: data.length,
    entries,
  };
}

/** @param {string} file */
export function tarEntries(file) {
  return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((e) => e.replace(/^package\//, ''));
}

/** @param {string} file @param {string} entry path inside `package/` */
export function tarRead(file, entry) {
  return execFileSync('tar', ['-xzOf', file, `package/${entry}`], { encoding: 'utf8' });
}

/**
 * What makes a tarball unpublishable: a `workspace:` range left in, an entry point (main,
 * types, bin, exports targets) missing from the tarball, or no README/LICENSE-ish docs at all.
 * @param {import('./workspace.mjs').WorkspacePackage} pkg
 * @param {string} file
 * @param {string[]} entries
 */
export function checkTarball(pkg, file, entries) {
  const problems = [];
  const manifest = JSON.parse(tarRead(file, 'package.json'));
  if (manifest.name !== pkg.name) problems.push(`name is ${manifest.name}`);
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is still ${range}`);
    }
  }
  const have = new Set(entries);
  for (const target of entryPoints(manifest)) {
    if (target.includes('*')) continue; // subpath patterns are not single files
    const path = target.replace(/^\.\//, '');
    if (!have.has(path)) problems.push(`entry point ${target} is not in the tarball (not built?)`);
  }
  if (problems.length > 0) {
    throw new Error(`${pkg.name}: tarball ${file} is not publishable: ${problems.join('; ')}`);
  }
}

/** Every file a consumer can reach through the manifest. */
export function entryPoints(manifest) {
  const targets = new Set();
  for (const key of ['main', 'module', 'types', 'typings']) {
    if (typeof manifest[key] === 'string') targets.add(manifest[key]);
  }
  if (typeof manifest.bin === 'string') targets.add(manifest.bin);
  else for (const b of Object.values(manifest.bin ?? {})) targets.add(b);
  const walk = (v) => {
    if (typeof v === 'string') targets.add(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk(manifest.exports);
  return [...targets].filter((t) => t.startsWith('./') || !t.startsWith('.'));
}
