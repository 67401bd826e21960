import { defineConfig } from 'tsup';

export default defineConfig({
  // worker.ts is the worker-thread entry; runner.ts starts it from dist/worker.js.
  entry: ['src/index.ts', 'src/worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  external: ['@bytecodealliance/jco-transpile', 'binaryen'],
});
