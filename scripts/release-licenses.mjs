#!/usr/bin/env node
// License check over what the published @codex/* packages pull in at runtime: the production
// dependency closure from pnpm-lock.yaml (cdxgen, offline), each component's declared licence
// checked against an allow-list of permissive licences. Dev dependencies are not shipped and are
// not checked.
//
//   node scripts/release-licenses.mjs [--sbom sbom.json] [--json]
//
// With --sbom it checks an existing CycloneDX SBOM (e.g. the release's sbom.json) instead.
// Exit codes: 0 every licence allowed; 1 a component has a licence outside the list or none;
// 2 bad arguments or unreadable SBOM.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  closure,
  componentLicenses,
  indexBom,
  listWorkspacePackages,
  publishablePackages,
  workspaceBom,
} from '../tools/release/src/index.mjs';

/** Permissive licences we ship without review (SPDX ids). Anything else needs a decision. */
export const ALLOWED = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC0-1.0',
  'CC-BY-4.0',
  'ISC',
  'MIT',
  'MIT-0',
  'Python-2.0',
  'Unlicense',
  'Zlib',
]);

/** Licence exceptions that only add permissions (SPDX exception ids). */
export const ALLOWED_EXCEPTIONS = new Set(['LLVM-exception']);

/** `MIT OR Apache-2.0` passes if one side does; `A AND B` only if both do; `X WITH E` if both are listed. */
export function allowed(expression) {
  const e = expression.trim().replace(/^\((.*)\)$/, '$1');
  if (/\sOR\s/i.test(e)) return e.split(/\s+OR\s+/i).some(allowed);
  if (/\sAND\s/i.test(e)) return e.split(/\s+AND\s+/i).every(allowed);
  const withMatch = /^(\S+)\s+WITH\s+(\S+)$/i.exec(e);
  if (withMatch) return ALLOWED.has(withMatch[1]) && ALLOWED_EXCEPTIONS.has(withMatch[2]);
  return ALLOWED.has(e.replace(/\+$/, ''));
}

function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { sbom: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    }));
  } catch (error) {
    console.error(
      `release-licenses: ${String(error instanceof Error ? error.message : error).split('\n')[0]}`,
    );
    return 2;
  }
  let components;
  if (values.sbom) {
    try {
      components = componentLicenses(JSON.parse(readFileSync(values.sbom, 'utf8')));
    } catch (error) {
      console.error(
        `release-licenses: cannot read SBOM ${values.sbom}: ${error instanceof Error ? error.message : error}`,
      );
      return 2;
    }
  } else {
    const root = dirname(dirname(fileURLToPath(import.meta.url)));
    const workspace = listWorkspacePackages(root);
    const { bom } = workspaceBom(root);
    const index = indexBom(bom, workspace);
    const own = new Set(publishablePackages(workspace).map((p) => `pkg:npm/${p.name}@${p.version}`));
    const refs = new Set();
    for (const ref of own) for (const r of closure(index, ref)) if (!own.has(r)) refs.add(r);
    components = componentLicenses({
      components: [...refs].map((r) => index.components.get(r)).filter(Boolean),
    });
    // our own packages must declare a licence too
    for (const p of publishablePackages(workspace)) {
      components.push({
        ref: `pkg:npm/${p.name}@${p.version}`,
        licenses: p.manifest.license ? [p.manifest.license] : [],
      });
    }
  }
  const bad = components.filter((c) => c.licenses.length === 0 || !c.licenses.some(allowed));
  if (values.json) console.log(JSON.stringify({ checked: components.length, rejected: bad }, null, 2));
  else {
    const counts = new Map();
    for (const c of components) for (const l of c.licenses) counts.set(l, (counts.get(l) ?? 0) + 1);
    console.log(
      `release-licenses: ${components.length} component(s): ${[...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([l, n]) => `${l} ×${n}`)
        .join(', ')}`,
    );
    for (const c of bad) {
      console.error(
        `release-licenses: not allowed: ${c.ref}: ${c.licenses.length ? c.licenses.join(', ') : 'no licence declared'}`,
      );
    }
  }
  if (bad.length > 0) {
    console.error(
      `release-licenses: ${bad.length} component(s) need a licence decision (allow-list in scripts/release-licenses.mjs)`,
    );
    return 1;
  }
  if (!values.json) console.log('release-licenses: OK');
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
