// Writes dist/zod.d.ts and dist/zod.d.cts from src/zod.ts. tsup's declaration bundler merges the
// entry's value and type re-exports from `zod` into one `export { … } from 'zod'` list; the source
// (nothing but re-exports, valid as a declaration file) says which names are types, and
// tools/release/test/exports.test.mjs reads the README's type list against exactly that.
import { readFileSync, writeFileSync } from 'node:fs';

const source = readFileSync(new URL('../src/zod.ts', import.meta.url), 'utf8');
const foreign = source
  .split('\n')
  .filter((l) => l.trim() !== '' && !/^(export |\} from |\s|\/\/|\/\*|\*)/.test(l));
if (foreign.length > 0)
  throw new Error('src/zod.ts must hold only re-exports (it is copied as a declaration file)');
for (const ext of ['d.ts', 'd.cts']) writeFileSync(new URL(`../dist/zod.${ext}`, import.meta.url), source);
