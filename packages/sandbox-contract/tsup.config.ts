import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', process: 'src/process.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // The escape kit compiles this probe from the directory of its module.
  onSuccess: () => copyFile('src/testing/escape-probe.c', 'dist/testing/escape-probe.c'),
});
