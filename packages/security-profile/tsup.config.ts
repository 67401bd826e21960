import { defineConfig } from 'tsup';

export default defineConfig({
  // `zod` (src/zod.ts) and `toml` (src/toml.ts) are built into this package from npm so that each
  // loads as one small module instead of zod's ~95 and smol-toml's 9. `index` shares zod's chunk.
  entry: ['src/index.ts', 'src/zod.ts', 'src/toml.ts'],
  // Both module systems: CommonJS tools (and @codex/audit's .d.cts) can require it too.
  format: ['esm', 'cjs'],
  // One copy of the shared code per module system, so that `index` and `zod` hand out the same
  // classes (esbuild's splitting is experimental for CommonJS; it is needed here for that reason).
  splitting: true,
  noExternal: ['zod', 'smol-toml'],
  // dist/zod.d.ts is written from the source by scripts/zod-declarations.mjs (see there).
  dts: { entry: ['src/index.ts', 'src/toml.ts'] },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
