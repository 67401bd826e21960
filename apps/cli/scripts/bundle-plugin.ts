// The esbuild plugin that turns the CLI and its `@codex/*` libraries into one CommonJS file
// (`dist/main.cjs`). Three rules:
//
// 1. Every `@codex/*` module is bundled, so each library exists once in the process (one
//    `CodexError` class for `instanceof`, one copy of every module-level cache).
// 2. Third-party packages stay outside. Each is required at run time from the library that
//    declares it (`requireFrom`), so the bundle needs no dependency list of its own and a library's
//    dependency resolves as it does without the bundle, in pnpm's strict layout too.
// 3. A library file that finds its own assets through `import.meta.url` (the sandbox helper's
//    source, the plugin worker, lazily loaded leaf chunks such as the policy engine's
//    2 MB wasm grammar) gets the URL of where that file really is in its installed package, found
//    at run time the way Node's resolver would (`packageDir` below). So the assets are used from
//    their packages, in place, wherever npm or pnpm put them.
import { readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Plugin } from 'esbuild';

const RUNTIME = 'codex-bundle:runtime';

/** Lazily loaded chunks this size or more stay separate files (read only when used). */
const SEPARATE_CHUNK_BYTES = 64 * 1024;

const RUNTIME_SOURCE = `
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
const dirs = new Map();
/**
 * Where package \`name\` is installed, as Node's resolver would find it from this file: the first
 * node_modules on the way up that has it, through its symlink (pnpm) to the real directory.
 * Done by hand because require.resolve() first loads Node's package-exports resolver, a few
 * milliseconds of every run; require.resolve() remains the fallback.
 */
function packageDir(name) {
  let dir = dirs.get(name);
  if (dir === undefined) {
    for (let d = __dirname; dir === undefined; ) {
      const candidate = join(d, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) dir = realpathSync.native(candidate);
      else if (dirname(d) === d) dir = dirname(createRequire(__filename).resolve(name + '/package.json'));
      else d = dirname(d);
    }
    dirs.set(name, dir);
  }
  return dir;
}
/** The file URL of \`rel\` inside the installed package \`name\`, resolved from this bundle. */
export function packageFileUrl(name, rel) {
  return pathToFileURL(join(packageDir(name), rel)).href;
}
/**
 * Dynamic import for the bundle's few remaining \`import()\` calls. V8 drops the import callback of
 * code deserialised from a code cache on Node 20 ("A dynamic import callback was not specified"),
 * so bin.ts supplies an importer compiled the ordinary way.
 */
export function codexImport(spec) {
  const importer = globalThis[Symbol.for('codex.import')];
  return importer ? importer(spec) : import(spec);
}
/** \`require(spec)\` as the package \`name\` would resolve it. */
export function requireFrom(name, spec) {
  return createRequire(join(packageDir(name), 'package.json'))(spec);
}
`;

interface Owner {
  readonly name: string;
  readonly dir: string;
}

const owners = new Map<string, Owner | null>();

/** The `@codex/*` package a file belongs to (nearest package.json), or null. */
function ownerOf(file: string): Owner | null {
  let dir = dirname(file);
  for (;;) {
    const cached = owners.get(dir);
    if (cached !== undefined) return cached;
    let found: Owner | null | undefined;
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      found = pkg.name?.startsWith('@codex/') ? { name: pkg.name, dir } : null;
    } catch {
      found = undefined;
    }
    if (found !== undefined) {
      owners.set(dirname(file), found);
      return found;
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** A chunk with no imports of its own: loading it separately cannot create a second instance of anything. */
function isLeaf(source: string): boolean {
  return !/^\s*(import\s|export\s[^;]*\sfrom\s)/m.test(source);
}

const posix = (p: string) => p.split(sep).join('/');

function rewrite(source: string, file: string, owner: Owner): string {
  const rel = posix(relative(owner.dir, file));
  const url = (r: string) => `__codexPackageFileUrl(${JSON.stringify(owner.name)}, ${JSON.stringify(r)})`;
  let out = source.replace(/(?<![\w$'"`.])import\.meta\.url(?![\w$'"`])/g, url(rel));
  out = out.replace(/(?<![\w$.])import\((["'])(\.\.?\/[^"']+)\1\)/g, (whole, _q: string, spec: string) => {
    const target = resolve(dirname(file), spec);
    try {
      if (statSync(target).size < SEPARATE_CHUNK_BYTES || !isLeaf(readFileSync(target, 'utf8'))) return whole;
    } catch {
      return whole;
    }
    return `import(${url(posix(relative(owner.dir, target)))})`;
  });
  // Dynamic imports of computed specifiers (the leaf chunks above too) go through codexImport.
  // (Literal specifiers are left to esbuild: bundled, or a lazy require through rule 2.)
  out = out.replace(/(?<![\w$.])import\((?!\s*["'`])/g, '__codexImport(');
  if (/(?<![\w$'"`.])import\.meta(?![\w$'"`])/.test(out)) {
    throw new Error(`${file}: import.meta is used in a way the CLI bundle cannot rewrite`);
  }
  if (out === source) return source;
  return `import { codexImport as __codexImport, packageFileUrl as __codexPackageFileUrl } from ${JSON.stringify(RUNTIME)};\n${out}`;
}

/**
 * Every library the bundle finds at run time (rule 2's `requireFrom`, rule 3's `packageFileUrl`)
 * must be a dependency of the CLI itself: the lookup starts from the bundle, and pnpm's strict
 * layout links only the CLI's own dependencies there. A library reached only through another
 * (`@codex/egress` through `@codex/core`) is otherwise missing at run time, in the one command that
 * needs it (stop 28 shipped `codex --profile workspace-net exec` failing this way).
 */
function checkRuntimeOwners(used: ReadonlySet<string>, cliDir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const declared = new Set(
    ['dependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) => Object.keys(pkg[k] ?? {})),
  );
  return [...used].filter((name) => name !== '@codex/cli' && !declared.has(name)).sort();
}

export function codexBundle(): Plugin {
  const used = new Set<string>();
  return {
    name: 'codex-bundle',
    setup(build) {
      build.onEnd(() => {
        const missing = checkRuntimeOwners(used, process.cwd());
        if (missing.length > 0) {
          throw new Error(
            `the bundle loads files or packages through ${missing.join(', ')} at run time, which apps/cli/package.json does not list as dependencies: add them`,
          );
        }
      });
      build.onResolve({ filter: /^codex-bundle:runtime$/ }, () => ({
        path: RUNTIME,
        namespace: 'codex-bundle',
      }));
      build.onLoad({ filter: /^codex-bundle:runtime$/, namespace: 'codex-bundle' }, () => ({
        contents: RUNTIME_SOURCE,
        loader: 'js',
        resolveDir: process.cwd(),
      }));
      // Rule 2: a third-party package becomes a small module that requires it from its library.
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@codex/') || args.namespace !== 'file') return undefined;
        if (isBuiltin(args.path)) {
          // import('node:readline') becomes a lazy require: no import() in the bundle (see codexImport).
          if (args.kind === 'dynamic-import') return { path: `>${args.path}`, namespace: 'codex-external' };
          return { path: args.path, external: true };
        }
        const owner = ownerOf(args.importer);
        if (!owner) throw new Error(`${args.importer}: imports ${args.path} from outside a @codex package`);
        used.add(owner.name);
        return { path: `${owner.name}>${args.path}`, namespace: 'codex-external' };
      });
      build.onLoad({ filter: /.*/, namespace: 'codex-external' }, (args) => {
        const [owner, spec] = args.path.split('>') as [string, string];
        if (!owner) return { contents: `module.exports = require(${JSON.stringify(spec)});\n`, loader: 'js' };
        return {
          contents: `const { requireFrom } = require(${JSON.stringify(RUNTIME)});\nmodule.exports = requireFrom(${JSON.stringify(owner)}, ${JSON.stringify(spec)});\n`,
          loader: 'js',
          resolveDir: process.cwd(),
        };
      });
      // Rule 3, for the libraries' built files.
      build.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => {
        const owner = ownerOf(args.path);
        if (!owner || owner.name === '@codex/cli') return undefined;
        const source = readFileSync(args.path, 'utf8');
        const contents = rewrite(source, args.path, owner);
        if (contents !== source) used.add(owner.name);
        return { contents, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
