import { defineConfig } from 'tsup';

export default defineConfig({
  // worker.ts is the worker-thread entry (workers.ts starts it from dist/worker.js); pipeline.ts is
  // its own file so cache.ts can hash it (and what it imports) into every cache key.
  entry: ['src/index.ts', 'src/worker.ts', 'src/pipeline.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  external: ['@bytecodealliance/jco-transpile'],
});
