import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

export default defineConfig({
  // bin.ts is the process entry and must stay tiny: `codex --version` loads nothing else.
  entry: ['src/bin.ts', 'src/main.ts', 'src/commands/*.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  splitting: true,
  sourcemap: true,
  clean: true,
  dts: false,
  define: { __CODEX_VERSION__: JSON.stringify(version) },
});
