import { defineConfig } from 'tsup';

export default defineConfig({
  // helper-build: the helper's compile, which scripts/build-helper.mjs runs after tsup.
  entry: ['src/index.ts', 'src/helper-build.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
