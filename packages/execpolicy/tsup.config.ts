import { readFile } from 'node:fs/promises';
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
});
