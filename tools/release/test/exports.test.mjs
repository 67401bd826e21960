// Every public package's entry points export exactly the names its README's `## API` section
// lists: `### Exports` (the main entry) and `### Exports of \`@codex/<name>/<subpath>\`` list
// `**Values**` (what `import()` of the built dist gives) and `**Types**` (type-only exports of the
// entry's .d.ts). A name on one side only fails the test, so index.ts cannot grow an internal
// export unnoticed and the README cannot document a name that is gone. Needs `pnpm build`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listWorkspacePackages, publishablePackages } from '../src/workspace.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// The packages a release publishes, found the way the release tooling finds them.
const packages = publishablePackages(listWorkspacePackages(root)).map((p) => ({
  dir: p.dir,
  pkg: p.manifest,
}));

/** Library entry points: subpath → { js, dts } (ESM files), skipping ./package.json. */
function entryPoints(pkg) {
  const out = new Map();
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (subpath === './package.json' || typeof target !== 'object') continue;
    const esm = typeof target.import === 'object' ? target.import : target;
    const js = typeof target.import === 'string' ? target.import : esm.default;
    out.set(subpath, { js, dts: esm.types ?? target.types });
  }
  return out;
}

/**
 * Type-only names of a .d.ts written by tsup: the `export { … }` / `export type { … }` lists, and
 * `export type { … } from '…'` re-exports (a hand-written declaration file re-exporting another
 * package's types, as @codex/security-profile/zod does).
 */
export function typeOnlyNames(dts) {
  const names = [];
  for (const m of dts.matchAll(/^export (type )?\{([^}]*)\}( from '[^']+')?;?\s*$/gm)) {
    for (const raw of m[2].split(',')) {
      const part = raw.trim();
      if (!part) continue;
      const isType = m[1] !== undefined || (m[3] === undefined && part.startsWith('type '));
      const spec = part.replace(/^type /, '');
      if (isType) names.push(spec.includes(' as ') ? spec.split(' as ')[1].trim() : spec);
    }
  }
  if (/^export \* from/m.test(dts)) throw new Error('export * in a .d.ts: list the names instead');
  return names;
}

/**
 * The names listed in a README's `## API` section: for each `### Exports` heading (subpath `.`)
 * or `### Exports of \`@codex/x/sub\`` (subpath `./sub`), the backticked identifiers of its
 * `- **Values**:` and `- **Types**:` items (continuation lines are indented).
 */
export function readmeApi(readme, packageName) {
  const start = readme.search(/^## API\s*$/m);
  if (start === -1) return undefined;
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  const entries = new Map();
  let current;
  let kind;
  for (const line of section.split('\n')) {
    const heading = /^### Exports(?: of `([^`]+)`)?\s*$/.exec(line);
    if (heading) {
      const sub = heading[1] === undefined ? '.' : `.${heading[1].slice(packageName.length)}`;
      current = { values: [], types: [] };
      entries.set(sub, current);
      kind = undefined;
      continue;
    }
    if (/^#{1,3} /.test(line)) {
      current = undefined;
      continue;
    }
    if (!current) continue;
    const item = /^- \*\*(Values|Types)\*\*:?/.exec(line);
    if (item) kind = item[1] === 'Values' ? 'values' : 'types';
    else if (!/^ {2,}\S/.test(line)) kind = undefined;
    if (!kind) continue;
    for (const m of line.matchAll(/`([A-Za-z_$][\w$]*)`/g)) current[kind].push(m[1]);
  }
  return entries;
}

const sorted = (names) => [...new Set(names)].sort();

describe('exported names match the README API section', () => {
  const libraries = packages.filter(({ pkg }) => entryPoints(pkg).size > 0);

  it('finds the public libraries', () => {
    expect(libraries.map((p) => p.pkg.name)).toEqual(
      expect.arrayContaining(['@codex/security-profile', '@codex/execpolicy', '@codex/audit', '@codex/core']),
    );
  });

  for (const { dir, pkg } of libraries) {
    it(`${pkg.name}: every entry point exports exactly the README's names`, async () => {
      const api = readmeApi(readFileSync(join(dir, 'README.md'), 'utf8'), pkg.name);
      expect(api, `${pkg.name}: README.md has no "## API" section`).toBeDefined();
      const entries = entryPoints(pkg);
      expect(sorted([...api.keys()]), `${pkg.name}: README "### Exports" headings vs exports map`).toEqual(
        sorted([...entries.keys()]),
      );
      for (const [subpath, { js, dts }] of entries) {
        const file = join(dir, js);
        expect(existsSync(file), `${pkg.name}: ${js} is missing; run pnpm build`).toBe(true);
        const values = Object.keys(await import(pathToFileURL(file).href)).filter((n) => n !== 'default');
        const types = typeOnlyNames(readFileSync(join(dir, dts), 'utf8'));
        const listed = api.get(subpath);
        expect(sorted(listed.values), `${pkg.name} ${subpath}: values (README vs dist)`).toEqual(
          sorted(values),
        );
        expect(sorted(listed.types), `${pkg.name} ${subpath}: types (README vs .d.ts)`).toEqual(
          sorted(types),
        );
      }
    });
  }
});

describe('the README API parser', () => {
  it('reads values and types per entry point, and only inside ## API', () => {
    const readme = [
      '# x',
      '- **Values**: `notApi`',
      '## API',
      'Prose with `ignored`.',
      '### Exports',
      '- **Values**: `a`, `b`,',
      '  `c`',
      '- **Types**: `T`',
      '',
      '### Exports of `@codex/x/sub`',
      '- **Values**: `s`',
      '## Error codes',
      '- **Values**: `after`',
    ].join('\n');
    const api = readmeApi(readme, '@codex/x');
    expect(Object.fromEntries(api)).toEqual({
      '.': { values: ['a', 'b', 'c'], types: ['T'] },
      './sub': { values: ['s'], types: [] },
    });
    expect(readmeApi('# no api', '@codex/x')).toBeUndefined();
  });

  it('reads type-only names from a tsup .d.ts', () => {
    expect(typeOnlyNames('export { A, type B, c as D, type E as F };\nexport type { G };\n')).toEqual([
      'B',
      'F',
      'G',
    ]);
  });

  it('reads `export type { … } from` re-exports, not value re-exports', () => {
    const dts = "export { ZodError, array } from 'zod';\nexport type { ZodOptional, infer } from 'zod';\n";
    expect(typeOnlyNames(dts)).toEqual(['ZodOptional', 'infer']);
  });
});
