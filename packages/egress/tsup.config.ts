import { defineConfig } from 'tsup';

export default defineConfig({
  // `relay` is its own entry (`@codex/egress/relay`): usable without loading the proxy.
  entry: ['src/index.ts', 'src/relay.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
