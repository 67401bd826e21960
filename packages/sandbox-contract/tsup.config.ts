import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    process: 'src/process.ts',
    git: 'src/git-links.ts',
    state: 'src/state-dirs.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // The escape kit compiles its probes (and their shared header) from the directory of its module.
  onSuccess: async () => {
    for (const probe of ['escape-probe.c', 'portable-probe.c', 'probe-result.h'])
      await copyFile(`src/testing/${probe}`, `dist/testing/${probe}`);
  },
});
