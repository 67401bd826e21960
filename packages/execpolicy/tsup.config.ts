import { readdir, readFile, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

/**
 * web-tree-sitter is bundled into dist so that browser bundlers never see its Node-only
 * `import("fs/promises")` / `import("module")` (reached only when `process.versions.node` exists
 * and, for fs, only when a path instead of bytes is loaded; the engine always passes bytes). The
 * specifiers become computed strings: a bundler leaves them alone, Node still resolves them.
 */
const nodeOnlyImports = {
  name: 'web-tree-sitter-node-only-imports',
  setup(build: {
    onLoad: (
      o: { filter: RegExp },
      cb: (a: { path: string }) => Promise<{ contents: string; loader: 'js' }>,
    ) => void;
  }) {
    build.onLoad({ filter: /web-tree-sitter[\\/]tree-sitter\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      const contents = source
        .replaceAll('import("fs/promises")', 'import(["fs", "promises"].join("/"))')
        .replaceAll('import("module")', 'import(["mod", "ule"].join(""))');
      if (contents === source)
        throw new Error('web-tree-sitter: Node-only imports not found; check the patch');
      return { contents, loader: 'js' };
    });
  },
};

/**
 * The source map would carry `src/generated/wasm.ts` (the two parsers as base64, 2.6 MB) a
 * second time as source text; that text is the same bytes the bundle already holds, so it is
 * left out of `sourcesContent` (its mappings stay), halving what the package adds to an install.
 */
async function dropGeneratedSources(): Promise<void> {
  for (const file of (await readdir('dist')).filter((f) => f.endsWith('.js.map')).map((f) => `dist/${f}`)) {
    const map = JSON.parse(await readFile(file, 'utf8')) as {
      sources: string[];
      sourcesContent?: (string | null)[];
    };
    map.sources.forEach((source, i) => {
      if (/[\\/]generated[\\/]/.test(source) && map.sourcesContent) map.sourcesContent[i] = null;
    });
    await writeFile(file, JSON.stringify(map));
  }
}

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  noExternal: ['web-tree-sitter'],
  esbuildPlugins: [nodeOnlyImports],
  onSuccess: dropGeneratedSources,
});
