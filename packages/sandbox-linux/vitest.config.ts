import { defineConfig } from 'vitest/config';

// Escape tests spawn real sandboxed processes; run files one at a time so the shared machine
// is not starved, and give each test room for a few sandbox launches.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false },
});
