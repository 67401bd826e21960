// CycloneDX SBOMs from pnpm-lock.yaml, offline.
//
// @cyclonedx/cdxgen reads pnpm-lock.yaml (it understands pnpm workspaces, unlike
// @cyclonedx/cyclonedx-npm) and is run once for the whole workspace with --required-only, so dev
// dependencies are left out. With FETCH_LICENSE=false and --no-install-deps it does not touch the
// network; on Linux as root the run is additionally placed in an empty network namespace
// (`unshare -n`) so that any attempt would fail instead of leaking. Per-package SBOMs are the
// production-dependency closure of each package, cut out of that one workspace graph.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const SPEC = '1.6';

let unshareOk;
/** True when `unshare -n` works here (Linux, root or CAP_SYS_ADMIN). */
export function canIsolateNetwork() {
  if (unshareOk === undefined) {
    unshareOk =
      process.platform === 'linux' && spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  }
  return unshareOk;
}

/** cdxgen's package directory and manifest (its exports map hides package.json). */
function cdxgenPackage() {
  let dir = dirname(require.resolve('@cyclonedx/cdxgen'));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      if (manifest.name === '@cyclonedx/cdxgen') return { dir, manifest };
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot locate @cyclonedx/cdxgen');
    dir = up;
  }
}

/** Absolute path of cdxgen's entry script (from this package's dependencies). */
export function cdxgenBin() {
  const { dir, manifest } = cdxgenPackage();
  return join(dir, manifest.bin.cdxgen);
}

/**
 * Runs cdxgen on the workspace root and returns the parsed BOM.
 * @param {string} root
 * @param {{ isolate?: boolean }} [opts] isolate: run inside `unshare -n` (default: when possible)
 * @returns {{ bom: any, isolated: boolean, version: string }}
 */
export function workspaceBom(root, opts = {}) {
  const isolated = opts.isolate ?? canIsolateNetwork();
  const work = mkdtempSync(join(tmpdir(), 'codex-sbom-'));
  const out = join(work, 'bom.json');
  const args = [
    cdxgenBin(),
    '-t',
    'js',
    '--no-install-deps',
    '--no-babel',
    '--required-only',
    '--no-recurse',
    '--spec-version',
    SPEC,
    '--project-name',
    'codex-security-monorepo',
    '-o',
    out,
    root,
  ];
  const env = { ...process.env, FETCH_LICENSE: 'false', CDXGEN_DEBUG_MODE: '', NODE_OPTIONS: '' };
  delete env.NODE_PATH;
  const [cmd, argv] = isolated ? ['unshare', ['-n', process.execPath, ...args]] : [process.execPath, args];
  try {
    const r = spawnSync(cmd, argv, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) {
      throw new Error(`cdxgen failed (exit ${r.status}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
    }
    const bom = JSON.parse(readFileSync(out, 'utf8'));
    fillLicenses(bom, root);
    const { version } = cdxgenPackage().manifest;
    return { bom, isolated, version };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * cdxgen leaves `licenses` empty for packages whose pnpm store directory carries a peer suffix
 * (`node_modules/.pnpm/@scope+name@1.2.3_peer@4.5.6/`). Fill those from the installed
 * package.json, offline, and say so in a property.
 */
export function fillLicenses(bom, root) {
  const store = join(root, 'node_modules', '.pnpm');
  if (!existsSync(store)) return;
  const dirs = readdirSync(store);
  for (const c of bom.components ?? []) {
    if ((c.licenses ?? []).length > 0 || !c['bom-ref']?.startsWith('pkg:npm/')) continue;
    const name = refName(c['bom-ref']);
    const key = `${name.replace('/', '+')}@${c.version}`;
    const dir = dirs.find((d) => d === key || d.startsWith(`${key}_`));
    if (!dir) continue;
    const manifestFile = join(store, dir, 'node_modules', name, 'package.json');
    if (!existsSync(manifestFile)) continue;
    const { license } = JSON.parse(readFileSync(manifestFile, 'utf8'));
    if (typeof license !== 'string' || license.length === 0) continue;
    c.licenses = [/[()\s]/.test(license) ? { expression: license } : { license: { id: license } }];
    c.properties = [
      ...(c.properties ?? []),
      { name: 'codex:license:source', value: 'installed package.json' },
    ];
  }
}

/** `pkg:npm/@scope/name@1.2.3?x=y` → `@scope/name`. */
export function refName(ref) {
  const body = ref.replace(/^pkg:npm\//, '').replace(/[?#].*$/, '');
  const at = body.lastIndexOf('@');
  return decodeURIComponent(at > 0 ? body.slice(0, at) : body);
}

function prodDepNames(manifest) {
  return new Set(
    ['dependencies', 'optionalDependencies', 'peerDependencies'].flatMap((f) =>
      Object.keys(manifest[f] ?? {}),
    ),
  );
}

function stripLocal(component) {
  const c = { ...component };
  if (Array.isArray(c.properties)) {
    // Local build paths (node_modules locations, which workspace manifests use it) say nothing
    // about the published artifact and leak the build machine's layout.
    c.properties = c.properties.filter(
      (p) =>
        p.name !== 'LocalNodeModulesPath' &&
        p.name !== 'cdx:npm:package_json' &&
        !p.name.startsWith('internal:') &&
        !/^(\/|[A-Za-z]:[\\/])/.test(String(p.value)),
    );
    if (c.properties.length === 0) delete c.properties;
  }
  delete c.components;
  return c;
}

/**
 * Indexes a workspace BOM: every component (including the workspace packages cdxgen nests under
 * metadata.component) by bom-ref, and the dependency graph, with workspace packages' edges cut
 * down to their production dependencies (cdxgen lists their dev dependencies too).
 * @param {any} bom
 * @param {import('./workspace.mjs').WorkspacePackage[]} workspace
 */
export function indexBom(bom, workspace) {
  const components = new Map();
  const visit = (c) => {
    if (c['bom-ref']) components.set(c['bom-ref'], c);
    for (const sub of c.components ?? []) visit(sub);
  };
  for (const c of bom.metadata?.component?.components ?? []) visit(c);
  for (const c of bom.components ?? []) visit(c);
  const byName = new Map(workspace.map((p) => [p.name, p]));
  const graph = new Map();
  for (const d of bom.dependencies ?? []) {
    let deps = d.dependsOn ?? [];
    const ws = byName.get(refName(d.ref));
    if (ws && d.ref.startsWith('pkg:npm/')) {
      const keep = prodDepNames(ws.manifest);
      deps = deps.filter((r) => keep.has(refName(r)));
    }
    graph.set(d.ref, deps);
  }
  return { components, graph, byName };
}

/** Production-dependency closure (bom-refs, excluding the start). */
export function closure(index, startRef) {
  const seen = new Set();
  const stack = [...(index.graph.get(startRef) ?? [])];
  while (stack.length > 0) {
    const ref = stack.pop();
    if (seen.has(ref) || ref === startRef) continue;
    seen.add(ref);
    stack.push(...(index.graph.get(ref) ?? []));
  }
  return seen;
}

function hashes(artifact) {
  return [
    { alg: 'SHA-256', content: artifact.sha256 },
    { alg: 'SHA-512', content: artifact.sha512 },
  ];
}

function packageComponent(pkg, artifact) {
  const ref = `pkg:npm/${pkg.name}@${pkg.version}`;
  return {
    type: 'library',
    'bom-ref': ref,
    group: pkg.name.startsWith('@') ? pkg.name.split('/')[0] : undefined,
    name: pkg.name.startsWith('@') ? pkg.name.split('/')[1] : pkg.name,
    version: pkg.version,
    description: pkg.manifest.description,
    purl: `pkg:npm/${encodeURIComponent(pkg.name).replace('%2F', '/')}@${pkg.version}`,
    ...(pkg.manifest.license ? { licenses: [{ license: { id: pkg.manifest.license } }] } : {}),
    ...(artifact ? { hashes: hashes(artifact) } : {}),
  };
}

function envelope(sourceBom, component, components, dependencies, tool) {
  return {
    bomFormat: 'CycloneDX',
    specVersion: SPEC,
    serialNumber: `urn:uuid:${crypto.randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: sourceBom.metadata?.timestamp ?? new Date().toISOString(),
      lifecycles: [{ phase: 'build' }],
      tools: {
        components: [
          ...(sourceBom.metadata?.tools?.components ?? []),
          { type: 'application', name: '@codex/release-tools', description: tool },
        ],
      },
      component,
    },
    components,
    dependencies,
  };
}

/**
 * SBOM of one package: the package itself (with its tarball hashes) as metadata.component and its
 * production-dependency closure as components.
 * @param {any} bom workspace BOM from workspaceBom()
 * @param {import('./workspace.mjs').WorkspacePackage[]} workspace all workspace packages
 * @param {import('./workspace.mjs').WorkspacePackage} pkg
 * @param {{ sha256: string, sha512: string }} artifact
 */
export function packageBom(bom, workspace, pkg, artifact) {
  const index = indexBom(bom, workspace);
  const ref = `pkg:npm/${pkg.name}@${pkg.version}`;
  if (!index.graph.has(ref)) {
    throw new Error(`${pkg.name}@${pkg.version} is not in the workspace SBOM (is pnpm-lock.yaml current?)`);
  }
  const refs = closure(index, ref);
  const components = [...refs].sort().map((r) => {
    const c = index.components.get(r);
    if (!c) throw new Error(`${pkg.name}: dependency ${r} has no component in the workspace SBOM`);
    return stripLocal(c);
  });
  const dependencies = [ref, ...[...refs].sort()].map((r) => ({
    ref: r,
    dependsOn: index.graph.get(r) ?? [],
  }));
  return envelope(
    bom,
    packageComponent(pkg, artifact),
    components,
    dependencies,
    'per-package production closure',
  );
}

/**
 * SBOM of the whole release: every published package (with tarball hashes) plus the union of
 * their production-dependency closures.
 * @param {any} bom
 * @param {import('./workspace.mjs').WorkspacePackage[]} workspace
 * @param {{ pkg: import('./workspace.mjs').WorkspacePackage, artifact: { sha256: string, sha512: string } }[]} released
 * @param {string} version release version
 */
export function releaseBom(bom, workspace, released, version) {
  const index = indexBom(bom, workspace);
  const own = new Map(released.map((r) => [`pkg:npm/${r.pkg.name}@${r.pkg.version}`, r]));
  const refs = new Set();
  for (const ref of own.keys()) for (const r of closure(index, ref)) refs.add(r);
  for (const ref of own.keys()) refs.delete(ref);
  const components = [
    ...[...own.values()].map((r) => packageComponent(r.pkg, r.artifact)),
    ...[...refs].sort().map((r) => {
      const c = index.components.get(r);
      if (!c) throw new Error(`dependency ${r} has no component in the workspace SBOM`);
      return stripLocal(c);
    }),
  ];
  const rootRef = `pkg:generic/codex-release@${version}`;
  const dependencies = [
    { ref: rootRef, dependsOn: [...own.keys()] },
    ...[...own.keys(), ...[...refs].sort()].map((r) => ({ ref: r, dependsOn: index.graph.get(r) ?? [] })),
  ];
  return envelope(
    bom,
    { type: 'application', 'bom-ref': rootRef, name: 'codex', version },
    components,
    dependencies,
    'release: union of package closures',
  );
}

/** Licence ids/names of every component of a BOM, for the licence check. */
export function componentLicenses(bom) {
  return (bom.components ?? []).map((c) => ({
    ref: c['bom-ref'] ?? c.purl ?? c.name,
    licenses: (c.licenses ?? [])
      .map((l) => l.license?.id ?? l.license?.name ?? l.expression)
      .filter((x) => typeof x === 'string'),
  }));
}
