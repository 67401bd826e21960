import { createHash, createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLogger, verify } from '../src/index.js';
import { MASK, tempDir } from './helpers/tmp.js';

/** Builds a genuine 10-entry log once; each case tampers with a copy. */
async function genuine(hmacKey?: string): Promise<string[]> {
  const path = join(tempDir(), 'genuine.jsonl');
  const logger = new AuditLogger({ path, mask: MASK, ...(hmacKey ? { hmacKey } : {}) });
  for (let i = 1; i <= 10; i++) {
    await logger.log({
      profile: 'workspace-write',
      operation: i % 3 ? 'file_write' : 'network_access',
      target: `/home/alice/w/f${i}`,
      decision: i % 2 ? 'denied' : 'allowed',
      reason: `r${i}`,
      session_id: 's',
    });
  }
  await logger.close();
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

/** Recomputes a line's hash after editing, as an attacker without the HMAC key could. */
function rehash(line: string, key?: string): string {
  const prefix = line.slice(0, line.length - 75);
  const h = key
    ? createHmac('sha256', key).update(prefix).digest('hex')
    : createHash('sha256').update(prefix).digest('hex');
  return `${prefix},"hash":"${h}"}`;
}

const hashOf = (line: string) => (JSON.parse(line) as { hash: string }).hash;

async function check(lines: readonly string[], options: { hmacKey?: string; tail?: string } = {}) {
  const path = join(tempDir(), 'tampered.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n${options.tail ?? ''}`);
  return verify(path, options.hmacKey ? { hmacKey: options.hmacKey } : {});
}

describe('verify: tampering is caught at the right line', () => {
  let log: string[];
  let keyed: string[];
  beforeAll(async () => {
    log = await genuine();
    keyed = await genuine('the-key');
  });

  it('accepts the genuine log', async () => {
    expect(await check(log)).toMatchObject({
      ok: true,
      intact: true,
      status: 'ok',
      entries: 10,
      lastSeq: 10,
    });
    expect(await check(keyed, { hmacKey: 'the-key' })).toMatchObject({ ok: true, entries: 10 });
  });

  it('edit (hash left as it was) → edited at that line', async () => {
    const t = [...log];
    t[3] = t[3]!.replace('"decision":"allowed"', '"decision":"denied"');
    expect(t[3]).not.toBe(log[3]);
    const r = await check(t);
    expect(r.problem).toMatchObject({ kind: 'edited', line: 4, seq: 4 });
    expect(r).toMatchObject({ ok: false, intact: false, status: 'tampered', entries: 3 });
  });

  it('edit with the hash recomputed (unkeyed chain) → edited at that line, witnessed by the next', async () => {
    const t = [...log];
    t[3] = rehash(t[3]!.replace('"reason":"r4"', '"reason":"nothing to see"'));
    expect((await check(t)).problem).toMatchObject({ kind: 'edited', line: 4 });
  });

  it('edit with a recomputed hash cannot fool a keyed chain (attacker lacks the key)', async () => {
    const t = [...keyed];
    t[6] = rehash(t[6]!.replace('"reason":"r7"', '"reason":"ok"'), 'guessed-key');
    expect((await check(t, { hmacKey: 'the-key' })).problem).toMatchObject({ kind: 'edited', line: 7 });
  });

  it('deletion → deleted at the line after the gap', async () => {
    const t = log.filter((_, i) => i !== 4);
    const r = await check(t);
    expect(r.problem).toMatchObject({ kind: 'deleted', line: 5, seq: 6 });
    expect(r.problem?.message).toMatch(/seq 5 is missing/);
  });

  it('deletion of several lines → deleted, naming the range', async () => {
    const t = [...log.slice(0, 2), ...log.slice(5)];
    expect((await check(t)).problem).toMatchObject({
      kind: 'deleted',
      line: 3,
      message: expect.stringMatching(/seq 3\.\.5/),
    });
  });

  it('deletion of the first line → deleted at line 1', async () => {
    expect((await check(log.slice(1))).problem).toMatchObject({ kind: 'deleted', line: 1 });
  });

  it('reordering (swap) → reordered at the first displaced line', async () => {
    const t = [...log];
    [t[3], t[4]] = [t[4]!, t[3]!];
    expect((await check(t)).problem).toMatchObject({ kind: 'reordered', line: 4, seq: 5 });
  });

  it('reordering (a line moved later) → reordered where the order first breaks', async () => {
    const t = [...log];
    const [moved] = t.splice(1, 1);
    t.splice(6, 0, moved!);
    expect((await check(t)).problem).toMatchObject({ kind: 'reordered', line: 2 });
  });

  it('insertion of a copied line → inserted at that line', async () => {
    const t = [...log];
    t.splice(6, 0, log[1]!);
    expect((await check(t)).problem).toMatchObject({ kind: 'inserted', line: 7 });
  });

  it('insertion of a forged line with a correct seq, prev and hash (unkeyed) → inserted at that line', async () => {
    const t = [...log];
    const forged = rehash(
      log[3]!
        .replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${hashOf(log[2]!)}"`)
        .replace('"reason":"r4"', '"reason":"forged"'),
    );
    t.splice(3, 0, forged);
    expect((await check(t)).problem).toMatchObject({ kind: 'inserted', line: 4 });
  });

  it('insertion of a forged line into a keyed chain → inserted at that line', async () => {
    const t = [...keyed];
    t.splice(5, 0, rehash(keyed[5]!.replace('"reason":"r6"', '"reason":"forged"'), 'guess'));
    expect((await check(t, { hmacKey: 'the-key' })).problem).toMatchObject({ kind: 'inserted', line: 6 });
  });

  it('insertion of a non-JSON line → bad-json at that line', async () => {
    const t = [...log];
    t.splice(2, 0, 'rm -rf / # nothing happened');
    expect((await check(t)).problem).toMatchObject({ kind: 'bad-json', line: 3 });
  });

  it('insertion of JSON that is not an entry → bad-entry at that line', async () => {
    const t = [...log];
    t.splice(8, 0, '{"level":30,"msg":"hello"}');
    expect((await check(t)).problem).toMatchObject({ kind: 'bad-entry', line: 9 });
  });

  it('a line truncated in the middle of the log → truncated at that line', async () => {
    const t = [...log];
    t[4] = t[4]!.slice(0, 120);
    expect((await check(t)).problem).toMatchObject({ kind: 'truncated', line: 5 });
  });

  it('a torn final line (crash) is reported as torn-tail, not tampering', async () => {
    // The first 50 bytes of what would have been entry 10.
    const r = await check(log.slice(0, 9), { tail: log[9]!.slice(0, 50) });
    expect(r).toMatchObject({
      ok: false,
      intact: true,
      status: 'torn-tail',
      entries: 9,
      tornTail: { line: 10, bytes: 50 },
    });
    expect(r.problem).toBeUndefined();
  });

  it('a torn line that is not the last one is tampering (truncated)', async () => {
    const t = [...log];
    t.splice(9, 0, log[9]!.slice(0, 60));
    expect((await check(t)).problem).toMatchObject({ kind: 'truncated', line: 10 });
  });

  it('lines cut from the end are invisible to the chain alone, but caught with an anchor', async () => {
    const anchor = { seq: 10, hash: hashOf(log[9]!) };
    const cut = log.slice(0, 7);
    expect((await check(cut)).ok).toBe(true); // a valid prefix: the documented limit
    const path = join(tempDir(), 'cut.jsonl');
    writeFileSync(path, `${cut.join('\n')}\n`);
    expect((await verify(path, { anchor })).problem).toMatchObject({ kind: 'truncated', line: 8, seq: 8 });
    const full = join(tempDir(), 'full.jsonl');
    writeFileSync(full, `${log.join('\n')}\n`);
    expect((await verify(full, { anchor })).ok).toBe(true);
    expect((await verify(full, { anchor: { seq: 10, hash: hashOf(log[8]!) } })).problem).toMatchObject({
      kind: 'edited',
      line: 10,
    });
  });

  it('downgrading a keyed log to a plain chain is caught', async () => {
    // Rewrite every line as an unkeyed sha256 chain: valid without a key, rejected with it.
    let prev = '0'.repeat(64);
    const t = keyed.map((l) => {
      const body = l
        .replace('"chain":"hmac-sha256"', '"chain":"sha256"')
        .replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${prev}"`);
      const out = rehash(body);
      prev = hashOf(out);
      return out;
    });
    expect((await check(t)).ok).toBe(true);
    expect((await check(t, { hmacKey: 'the-key' })).problem).toMatchObject({ kind: 'unkeyed', line: 1 });
  });
});
