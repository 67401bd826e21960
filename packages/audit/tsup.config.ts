import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/pino-transport.ts'],
  // Both module systems: tools import @codex/audit from ESM and from CommonJS.
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
