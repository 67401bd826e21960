import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkgDir, 'dist/index.js');
const bin = (f: string) => join(pkgDir, 'test/fixtures/bin', f);

function fill(path: string, bytes: number): number {
  const r = spawnSync(process.execPath, [bin('fill.mjs'), dist, path, String(bytes)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { entries: number }).entries;
}

function verifyUnderHeap(path: string, heapMB: number) {
  const r = spawnSync(
    process.execPath,
    [`--max-old-space-size=${heapMB}`, bin('verify-heap.mjs'), dist, path],
    {
      encoding: 'utf8',
    },
  );
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  return JSON.parse(r.stdout) as {
    status: string;
    entries: number;
    ms: number;
    peakHeapMB: number;
    maxRssMB: number;
  };
}

describe('verify streams the log (bounded memory)', () => {
  it('verifies a 64 MB log under a 24 MB heap, where reading it whole does not fit', () => {
    const path = join(tempDir(), 'big.jsonl');
    const entries = fill(path, 64 * 1024 * 1024);
    // Control: the whole file as a string, split into lines, does not fit in that heap.
    const whole = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=24',
        '-e',
        `require('fs').readFileSync(${JSON.stringify(path)}, 'utf8').split('\\n')`,
      ],
      { encoding: 'utf8' },
    );
    expect(whole.status).not.toBe(0);
    const r = verifyUnderHeap(path, 24);
    expect(r).toMatchObject({ status: 'ok', entries });
    expect(r.peakHeapMB).toBeLessThan(24);
  });

  // 1 GiB: slow, so run on request: CODEX_AUDIT_BIG_VERIFY=1 npx vitest run test/streaming.test.ts
  it.runIf(process.env.CODEX_AUDIT_BIG_VERIFY === '1')(
    'verifies a 1 GiB log under a 256 MB heap',
    () => {
      const path = join(tempDir(), 'huge.jsonl');
      const entries = fill(path, 1024 * 1024 * 1024);
      const size = statSync(path).size;
      const r = verifyUnderHeap(path, 256);
      console.log(`1 GiB verify: ${JSON.stringify({ sizeMB: Math.round(size / 1048576), ...r })}`);
      expect(r).toMatchObject({ status: 'ok', entries });
      expect(r.peakHeapMB).toBeLessThan(256);
    },
    1_800_000,
  );
});
