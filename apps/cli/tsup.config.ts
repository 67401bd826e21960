import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { codexBundle } from './scripts/bundle-plugin';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/**
 * Two files. `dist/bin.cjs` is the process entry: CommonJS (an ES module entry costs Node 20 about
 * 9 ms more to start) and tiny, so `codex --version` loads nothing else. `dist/main.cjs` is the
 * whole CLI with every `@codex/*` library in one minified file: one file to read instead of ~30 ES
 * modules to resolve, read and link, and a file V8 can keep compiled code for (see src/bin.ts).
 * Third-party packages stay outside (see scripts/bundle-plugin.ts).
 */
export default defineConfig([
  {
    entry: { bin: 'src/bin.ts' },
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    clean: true,
    dts: false,
    // The private-file rules the sandbox probe's cache uses too, built in: bin.cjs loads no package.
    noExternal: ['@codex/sandbox-contract'],
    sourcemap: false,
    define: { __CODEX_VERSION__: JSON.stringify(version) },
  },
  {
    entry: { main: 'src/main.ts' },
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    clean: false,
    dts: false,
    sourcemap: true,
    minify: true,
    keepNames: true,
    splitting: false,
    // Keep `node:` specifiers for the plugin (it turns dynamic imports of built-ins into requires).
    removeNodeProtocol: false,
    // Bundling is decided by the plugin, not by package.json's dependency lists.
    noExternal: [/.*/],
    esbuildPlugins: [codexBundle()],
    // The file is one function expression, CommonJS's own wrapper written out: bin.cjs compiles it
    // as it is (no 640 KB string to concatenate and flatten, ~3.5 ms) and calls it.
    banner: { js: '(function (exports, require, module, __filename, __dirname) {' },
    footer: { js: '})' },
    // ASCII only (non-ASCII escaped), so that bin.cjs can read it as latin1.
    esbuildOptions(options) {
      options.charset = 'ascii';
      // tsup's chunks import each other for side effects they do not have ("sideEffects": false):
      // esbuild drops those imports, rightly, and need not say so for each one.
      options.logOverride = { 'ignored-bare-import': 'silent' };
    },
    define: { __CODEX_VERSION__: JSON.stringify(version) },
  },
]);
