import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  // Heavy parts (agents, the MCP server, the policy engine) are split into lazily loaded chunks.
  splitting: true,
  target: 'node20',
  platform: 'node',
});
