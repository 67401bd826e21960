import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResearchCache, ResearchConfigError } from '../src/index.js';

let dir: string;
let clock: number;
const now = () => clock;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dr-cache-'));
  clock = 5_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ok = (body: string) => ({ ok: true as const, status: 200, contentType: 'text/html', body });
const fail = { ok: false as const, code: 'RESEARCH_HTTP_STATUS', message: 'HTTP 500', status: 500 };

describe('ResearchCache', () => {
  it('defaults are the plan values: 1 h for pages, 60 s for failures', () => {
    const c = new ResearchCache({ dir });
    expect(c.ttlMs).toBe(3_600_000);
    expect(c.failureTtlMs).toBe(60_000);
  });

  it('a success lives exactly 1 h; a failure exactly 60 s (injected clock, no sleeping)', async () => {
    const c = new ResearchCache({ dir }, { now });
    await c.set('https://a.example/x', ok('page'));
    await c.set('https://a.example/broken', fail);
    clock += 59_999;
    expect(await c.get('https://a.example/broken')).toEqual(fail);
    clock += 1;
    expect(await c.get('https://a.example/broken')).toBeUndefined();
    clock += 3_600_000 - 60_000 - 1;
    expect(await c.get('https://a.example/x')).toEqual(ok('page'));
    clock += 1;
    expect(await c.get('https://a.example/x')).toBeUndefined();
    expect(c.stats.expired).toBe(2);
  });

  it('persists on disk: a new instance (a second run) reads the entries', async () => {
    const first = new ResearchCache({ dir }, { now });
    await first.set('https://a.example/x', ok('persisted'));
    await first.flush();
    const second = new ResearchCache({ dir }, { now });
    expect(await second.get('https://a.example/x')).toEqual(ok('persisted'));
    expect(second.stats.hits).toBe(1);
  });

  it('is keyed by URL without the fragment', async () => {
    const c = new ResearchCache({ dir }, { now });
    await c.set('https://a.example/x#top', ok('one'));
    expect(await c.get('https://a.example/x#other')).toEqual(ok('one'));
    expect(await c.get('https://a.example/x?q=1')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const c = new ResearchCache({ dir, maxEntries: 2 }, { now });
    await c.set('u:1', ok('1'));
    clock++;
    await c.set('u:2', ok('2'));
    clock++;
    expect(await c.get('u:1')).toBeDefined(); // 1 is now more recent than 2
    clock++;
    await c.set('u:3', ok('3'));
    expect(await c.get('u:2')).toBeUndefined();
    expect(await c.get('u:1')).toBeDefined();
    expect(await c.get('u:3')).toBeDefined();
    expect(c.stats.evicted).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json')).toHaveLength(2);
  });

  it('evicts beyond maxBytes too', async () => {
    const c = new ResearchCache({ dir, maxBytes: 500 }, { now });
    for (let i = 0; i < 5; i++) {
      await c.set(`u:${i}`, ok('x'.repeat(150)));
      clock++;
    }
    expect(await c.size()).toBeLessThanOrEqual(2);
    expect(await c.get('u:4')).toBeDefined();
    expect(await c.get('u:0')).toBeUndefined();
  });

  it('a corrupt index or entry reads as a miss, not a crash', async () => {
    const c = new ResearchCache({ dir }, { now });
    await c.set('u:1', ok('1'));
    for (const f of readdirSync(dir)) if (f !== 'index.json') writeFileSync(join(dir, f), '{not json');
    expect(await new ResearchCache({ dir }, { now }).get('u:1')).toBeUndefined();
    writeFileSync(join(dir, 'index.json'), '{"version": 2}');
    expect(await new ResearchCache({ dir }, { now }).get('u:1')).toBeUndefined();
  });

  it('validates its options', () => {
    expect(() => new ResearchCache({ dir, ttlMs: -1 })).toThrow(ResearchConfigError);
    expect(() => new ResearchCache({ dir, ttlMs: -1 })).toThrow(/cache options: ttlMs/);
  });
});
