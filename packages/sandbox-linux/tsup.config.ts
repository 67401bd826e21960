import { defineConfig } from 'tsup';

export default defineConfig({
  // helper-build: the helper's compile, which scripts/build-helper.mjs runs after tsup.
  entry: ['src/index.ts', 'src/egress-bridge-main.ts', 'src/helper-build.ts'],
  // The bridge runs inside the sandbox as one file (only that file is bound in when it lives
  // under a private /tmp), so the relay it shares with the proxy is built into it.
  noExternal: ['@codex/egress/relay'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
