// Enumerates the publishable @codex/* packages of the workspace. Generic on purpose: a package
// that appears under any workspace glob is picked up, private ones are skipped.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * @typedef {object} WorkspacePackage
 * @property {string} name
 * @property {string} version
 * @property {string} dir absolute directory
 * @property {string} relDir directory relative to the workspace root
 * @property {Record<string, any>} manifest the package.json contents
 */

/**
 * Every workspace package, as pnpm sees it (`pnpm ls -r --depth -1 --json`), so the workspace
 * globs in pnpm-workspace.yaml stay the single source of truth.
 * @param {string} root workspace root
 * @returns {WorkspacePackage[]}
 */
export function listWorkspacePackages(root) {
  const out = execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  /** @type {{ name?: string, version?: string, path: string, private?: boolean }[]} */
  const listed = JSON.parse(out);
  return listed
    .filter((p) => p.name !== undefined)
    .map((p) => {
      const manifest = JSON.parse(readFileSync(join(p.path, 'package.json'), 'utf8'));
      return {
        name: manifest.name,
        version: manifest.version,
        dir: p.path,
        relDir: relative(root, p.path) || '.',
        manifest,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The packages a release publishes: `@codex/*`, not private, with a version.
 * @param {WorkspacePackage[]} all
 * @param {{ only?: string[] }} [opts] restrict to these names (used by tests and `--only`)
 * @returns {WorkspacePackage[]}
 */
export function publishablePackages(all, opts = {}) {
  const picked = all.filter(
    (p) => p.name.startsWith('@codex/') && p.manifest.private !== true && typeof p.version === 'string',
  );
  if (!opts.only || opts.only.length === 0) return picked;
  const unknown = opts.only.filter((n) => !picked.some((p) => p.name === n));
  if (unknown.length > 0) {
    throw new Error(`not a publishable @codex/* workspace package: ${unknown.join(', ')}`);
  }
  return picked.filter((p) => opts.only?.includes(p.name));
}

/** `@codex/cli` → `codex-cli`: file-name stem used for artifacts. */
export function fileStem(name) {
  return name.replace(/^@/, '').replace(/\//g, '-');
}
