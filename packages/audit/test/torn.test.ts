import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditCorruptTailError, AuditLogger, verify } from '../src/index.js';
import { MASK, tempDir } from './helpers/tmp.js';

/** A genuine log of n entries, with awkward content (unicode, escapes, details). */
async function genuine(n: number, hmacKey?: string): Promise<{ path: string; lines: string[] }> {
  const path = join(tempDir(), 'a.jsonl');
  const logger = new AuditLogger({ path, mask: MASK, ...(hmacKey ? { hmacKey } : {}) });
  for (let i = 1; i <= n; i++) {
    await logger.log({
      profile: 'workspace-net',
      operation: 'command_exec',
      target: `/home/alice/é "quoted" \\ ${'x'.repeat(i)} 🦀`,
      decision: i % 2 ? 'denied' : 'requires_approval',
      reason: `r${i}\ttab`,
      ...(i % 3 ? { session_id: 's' } : {}),
      details: { n: i, f: 1.5, ok: true, none: null, s: 'v"' },
    });
  }
  await logger.close();
  return { path, lines: readFileSync(path, 'utf8').split('\n').slice(0, -1) };
}

function logWith(lines: readonly string[], tail: string | Buffer): string {
  const path = join(tempDir(), 't.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  appendFileSync(path, tail);
  return path;
}

describe('torn tail: only the start of the next entry counts', () => {
  it('every prefix of the next entry line (and the whole line without its newline) is a torn tail', async () => {
    const { lines } = await genuine(6);
    const next = lines[5]!;
    const bytes = Buffer.from(next, 'utf8');
    for (let n = 1; n <= bytes.length; n++) {
      // Cut at every byte, also inside a multi-byte character.
      const r = await verify(logWith(lines.slice(0, 5), bytes.subarray(0, n)));
      expect({ n, status: r.status, problem: r.problem }).toMatchObject({
        n,
        status: 'torn-tail',
        problem: undefined,
      });
      expect(r.entries).toBe(5);
    }
  });

  it.each([
    ['plain text', Buffer.from('this is not an audit entry at all')],
    ['5 KB of random bytes', Buffer.from(randomBytes(5 * 1024).map((b) => (b === 0x0a ? 0x20 : b)))],
    ['an earlier entry (wrong seq)', Buffer.from('{"v":1,"seq":1,"timestamp":"2026-')],
    ['JSON with foreign keys', Buffer.from('{"v":1,"seq":6,"timestamp":"2026-01-01T00:00:00.000Z","evil":')],
    ['the next entry with a broken link', 'PREV'],
    ['the next entry with its hash forged', 'HASH'],
  ])('%s after the last newline is tampering (bad-tail), never a torn tail', async (_name, tail) => {
    const { lines } = await genuine(6);
    let t: string | Buffer = tail;
    if (tail === 'PREV') t = lines[5]!.replace(/"prev":"[0-9a-f]{4}/, '"prev":"0000').slice(0, -20);
    if (tail === 'HASH') t = lines[5]!.replace(/"hash":"[0-9a-f]{4}/, '"hash":"0000');
    const r = await verify(logWith(lines.slice(0, 5), t));
    expect(r.status).toBe('tampered');
    expect(r.problem).toMatchObject({ kind: 'bad-tail', line: 6 });
    expect(r.entries).toBe(5);
  });

  it('the logger cuts off a genuine torn tail and continues the chain', async () => {
    const { path, lines } = await genuine(6);
    writeFileSync(path, `${lines.slice(0, 5).join('\n')}\n${lines[5]!.slice(0, 77)}`);
    const logger = new AuditLogger({ path, mask: MASK });
    await logger.log({
      profile: 'offline',
      operation: 'other',
      target: 't',
      decision: 'allowed',
      reason: '',
    });
    await logger.close();
    expect(logger.stats.tornTailsRepaired).toBe(1);
    expect(await verify(path)).toMatchObject({ status: 'ok', entries: 6 });
  });

  it('the logger refuses to write after a tail that is not torn, and leaves the bytes in place', async () => {
    const { path, lines } = await genuine(3);
    const junk = randomBytes(5 * 1024).map((b) => (b === 0x0a ? 0x20 : b));
    appendFileSync(path, junk);
    const before = readFileSync(path);
    const logger = new AuditLogger({ path, mask: MASK });
    await expect(
      logger.log({ profile: 'offline', operation: 'other', target: 't', decision: 'allowed', reason: '' }),
    ).rejects.toBeInstanceOf(AuditCorruptTailError);
    await logger.close().catch(() => {});
    expect(readFileSync(path).equals(before)).toBe(true);
    const r = await verify(path);
    expect(r.problem).toMatchObject({ kind: 'bad-tail', line: lines.length + 1 });
  });
});
