import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/pino-transport.ts', 'src/otlp.ts'],
  // import.meta.url in the CommonJS build too (sigstore-js is required lazily through it).
  shims: true,
  // Both module systems: tools import @codex/audit from ESM and from CommonJS.
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
