import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CorruptLine, tailEntries } from '../src/index.js';
import { appendReads, tempDir } from './helpers/tmp.js';

describe('tailEntries', () => {
  it('keeps the latest entries, then follows only what is appended after them', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    await appendReads(path, 1, 5);
    const corrupt: CorruptLine[] = [];
    const tail = await tailEntries(path, { count: 2, onCorrupt: (c) => corrupt.push(c) });
    expect(tail.files).toEqual([path]);
    expect(tail.last.map((r) => r.entry.target)).toEqual(['/f4', '/f5']);
    const ac = new AbortController();
    const followed: string[] = [];
    const done = (async () => {
      for await (const r of tail.follow(ac.signal)) {
        followed.push(r.entry.target);
        if (followed.length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    await appendReads(path, 6, 7);
    await done;
    expect(followed).toEqual(['/f6', '/f7']);
    expect(corrupt).toEqual([]);
  });

  it('finds no files and no entries when there is no log; count 0 keeps none', async () => {
    const dir = tempDir();
    expect(await tailEntries(join(dir, 'none.jsonl'))).toMatchObject({ files: [], last: [] });
    const path = join(dir, 'audit.jsonl');
    await appendReads(path, 1, 3);
    expect((await tailEntries(path, { count: 0 })).last).toEqual([]);
    expect((await tailEntries(path)).last).toHaveLength(3);
    appendFileSync(path, 'not json\n');
    const corrupt: CorruptLine[] = [];
    await tailEntries(path, { onCorrupt: (c) => corrupt.push(c) });
    expect(corrupt.map((c) => c.line)).toEqual([4]);
  });
});
