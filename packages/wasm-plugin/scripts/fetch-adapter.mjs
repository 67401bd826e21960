#!/usr/bin/env node
// Re-fetches the WASI preview1 → 0.2 command adapter that jco bundles, into vendor/.
// Why vendored: @bytecodealliance/jco itself cannot be installed on Node 20 here (its
// componentize-js → weval → @napi-rs/lzma chain requires Node ≥ 22), and
// @bytecodealliance/jco-transpile, which we do use, does not ship the adapter.
// Usage: node scripts/fetch-adapter.mjs [jcoVersion]   (default 1.35.0; needs the npm registry)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const version = process.argv[2] ?? '1.35.0';
const vendor = join(dirname(fileURLToPath(import.meta.url)), '..', 'vendor');
const dir = mkdtempSync(join(tmpdir(), 'jco-pack-'));
const tgz = execFileSync('npm', ['pack', `@bytecodealliance/jco@${version}`, '--silent'], { cwd: dir })
  .toString()
  .trim()
  .split('\n')
  .pop();
execFileSync('tar', ['xzf', tgz, 'package/lib/wasi_snapshot_preview1.command.wasm'], { cwd: dir });
const name = 'wasi_snapshot_preview1.command.wasm';
copyFileSync(join(dir, 'package', 'lib', name), join(vendor, name));
const sum = createHash('sha256')
  .update(readFileSync(join(vendor, name)))
  .digest('hex');
writeFileSync(join(vendor, 'SHA256SUMS'), `${sum}  ${name}\n`);
console.log(`${name} from @bytecodealliance/jco@${version}: sha256 ${sum}`);
