import { defineConfig } from 'vitest/config';

// The helper tests start Windows programs (under wine64 on Linux: ~1-3 s per start).
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 120_000 } });
