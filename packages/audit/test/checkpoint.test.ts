import { createHash, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// The one sigstore verifier (the release tooling and `codex verify` use it): checkpoint bundles
// are the same sigstore bundles.
import { verifyWithKey } from '@codex/attest';
import { describe, expect, it } from 'vitest';
import {
  AuditLogger,
  checkpointKey,
  checkpointPath,
  generateCheckpointKey,
  InvalidAuditOptionsError,
  publicKeyPem,
  readCheckpoints,
  trustedKeys,
  verify,
} from '../src/index.js';
import { MASK, tempDir } from './helpers/tmp.js';

const key = generateCheckpointKey();
const trusted = trustedKeys([publicKeyPem(key.publicKey)]);

async function logged(n: number, every = 10): Promise<{ path: string; lines: string[] }> {
  const path = join(tempDir(), 'audit.jsonl');
  const logger = new AuditLogger({
    path,
    mask: MASK,
    batchSize: 1,
    checkpoint: { key, every, host: 'host-a' },
  });
  for (let i = 1; i <= n; i++) {
    await logger.log({
      profile: 'offline',
      operation: 'file_read',
      target: `/f${i}`,
      decision: 'allowed',
      reason: `r${i}`,
    });
  }
  await logger.close();
  return { path, lines: readFileSync(path, 'utf8').split('\n').slice(0, -1) };
}

/** Rewrites the chain from line `from` on, as an attacker without an HMAC key can. */
function rechain(lines: string[], from: number): string[] {
  const out = [...lines];
  let prev = from === 0 ? '0'.repeat(64) : (JSON.parse(out[from - 1]!) as { hash: string }).hash;
  for (let i = from; i < out.length; i++) {
    const prefix = out[i]!.slice(0, out[i]!.length - 75).replace(
      /"prev":"[0-9a-f]{64}"$/,
      `"prev":"${prev}"`,
    );
    prev = createHash('sha256').update(prefix).digest('hex');
    out[i] = `${prefix},"hash":"${prev}"}`;
  }
  return out;
}

async function check(path: string, lines: readonly string[]) {
  writeFileSync(path, `${lines.join('\n')}\n`);
  const cps = await readCheckpoints(checkpointPath(path), trusted);
  return { cps, r: await verify(path, { checkpoints: cps.checkpoints }) };
}

describe('signed checkpoints', () => {
  it('are written every N entries and on close, signed, and verify with the host key', async () => {
    const { path } = await logged(25);
    const cps = await readCheckpoints(checkpointPath(path), trusted);
    expect(cps.problem).toBeUndefined();
    expect(cps.checkpoints.map((c) => [c.seq, c.reason, c.host])).toEqual([
      [10, 'count', 'host-a'],
      [20, 'count', 'host-a'],
      [25, 'close', 'host-a'],
    ]);
    expect(await verify(path, { checkpoints: cps.checkpoints })).toMatchObject({
      status: 'ok',
      entries: 25,
      checkpoints: { count: 3, latestSeq: 25 },
    });
  });

  it('are sigstore bundles that the release tooling verifies too', async () => {
    const { path } = await logged(3);
    const line = readFileSync(checkpointPath(path), 'utf8').trim();
    const { bundle, ...rest } = JSON.parse(line) as { bundle: object };
    const payload = Buffer.from(JSON.stringify(rest));
    expect(verifyWithKey(payload, bundle, publicKeyPem(key.publicKey))).toEqual({ hint: key.hint });
    expect(() =>
      verifyWithKey(Buffer.from(JSON.stringify({ ...rest, seq: 2 })), bundle, publicKeyPem(key.publicKey)),
    ).toThrow(expect.objectContaining({ code: 'ATTEST_SIGNATURE_INVALID' }));
  });

  it('catch lines cut from the end, which the chain alone cannot see', async () => {
    const { path, lines } = await logged(25);
    const cut = lines.slice(0, 22);
    writeFileSync(path, `${cut.join('\n')}\n`);
    expect((await verify(path)).status).toBe('ok'); // the chain alone: still "OK"
    const { r } = await check(path, cut);
    expect(r.problem).toMatchObject({ kind: 'truncated', seq: 23, beforeCheckpoint: true });
  });

  it('catch an edit before a checkpoint even when the whole chain was recomputed', async () => {
    const { path, lines } = await logged(25);
    const edited = [...lines];
    edited[4] = edited[4]!.replace('"target":"/f5"', '"target":"/innocent"');
    const forged = rechain(edited, 4);
    writeFileSync(path, `${forged.join('\n')}\n`);
    expect((await verify(path)).status).toBe('ok'); // a consistent rewritten chain
    const { r } = await check(path, forged);
    expect(r.problem).toMatchObject({ kind: 'edited', seq: 10, beforeCheckpoint: true });
  });

  it('an edit after the latest checkpoint is plain tampering (not before a checkpoint)', async () => {
    const { path, lines } = await logged(25, 10);
    // Drop the close checkpoint so seq 21..25 are covered only by the chain.
    const cpLines = readFileSync(checkpointPath(path), 'utf8').split('\n').slice(0, 2);
    writeFileSync(checkpointPath(path), `${cpLines.join('\n')}\n`);
    const t = [...lines];
    t[22] = t[22]!.replace('"reason":"r23"', '"reason":"x"');
    const { r } = await check(path, t);
    expect(r.problem).toMatchObject({ kind: 'edited', seq: 23, beforeCheckpoint: false });
  });

  it.each([
    ['a changed seq', (l: string) => l.replace(/"seq":20/, '"seq":19'), 'forged', 2],
    ['a changed hash', (l: string) => l.replace(/"hash":"[0-9a-f]{4}/, '"hash":"0000'), 'forged', 2],
    ['not JSON', () => 'garbage', 'bad-checkpoint', 2],
    [
      'a bundle without signature',
      (l: string) => l.replace(/"signature":"[^"]+"/, '"signature":""'),
      'forged',
      2,
    ],
  ])('a checkpoint with %s is found (%s)', async (_n, edit, kind, line) => {
    const { path } = await logged(25);
    const file = checkpointPath(path);
    const cp = readFileSync(file, 'utf8').split('\n');
    cp[1] = edit(cp[1]!);
    writeFileSync(file, cp.join('\n'));
    const r = await readCheckpoints(file, trusted);
    expect(r.problem).toMatchObject({ kind, line });
    expect(r.checkpoints).toHaveLength(1);
  });

  it('a checkpoint from an unknown key, and reordered checkpoints, are found', async () => {
    const { path } = await logged(25);
    const file = checkpointPath(path);
    const other = await readCheckpoints(file, trustedKeys([publicKeyPem(generateCheckpointKey().publicKey)]));
    expect(other.problem).toMatchObject({ kind: 'unknown-key', line: 1 });
    const cp = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    writeFileSync(file, `${[cp[1], cp[0], cp[2]].join('\n')}\n`);
    expect((await readCheckpoints(file, trusted)).problem).toMatchObject({ kind: 'reordered', line: 2 });
  });

  it('a missing checkpoint file is reported as missing; an unterminated last checkpoint is ignored as torn', async () => {
    const path = join(tempDir(), 'none.jsonl');
    expect(await readCheckpoints(checkpointPath(path), trusted)).toMatchObject({
      missing: true,
      checkpoints: [],
    });
    const { path: p2 } = await logged(5);
    appendFileSync(checkpointPath(p2), '{"v":1,"host":"host-a","lo');
    expect(await readCheckpoints(checkpointPath(p2), trusted)).toMatchObject({
      tornTail: true,
      checkpoints: [{ seq: 5 }],
    });
  });

  it('an interval checkpoint follows T ms after the first uncovered entry', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const logger = new AuditLogger({ path, checkpoint: { key, every: 1000, intervalMs: 50 } });
    await logger.log({
      profile: 'offline',
      operation: 'other',
      target: 't',
      decision: 'allowed',
      reason: '',
    });
    await new Promise((r) => setTimeout(r, 300));
    const cps = await readCheckpoints(checkpointPath(path), trusted);
    expect(cps.checkpoints.map((c) => [c.seq, c.reason])).toEqual([[1, 'interval']]);
    await logger.close();
    // Nothing new since: close adds no second checkpoint of the same head.
    expect((await readCheckpoints(checkpointPath(path), trusted)).checkpoints).toHaveLength(1);
  });
});

describe('checkpoints with an HMAC chain, and bad options', () => {
  it('checkpoint the HMAC head; verify needs the key and the checkpoints', async () => {
    const path = join(tempDir(), 'keyed.jsonl');
    const logger = new AuditLogger({ path, hmacKey: 'k', checkpoint: { key, every: 3 } });
    for (let i = 0; i < 7; i++)
      await logger.log({
        profile: 'offline',
        operation: 'other',
        target: `t${i}`,
        decision: 'denied',
        reason: '',
      });
    await logger.close();
    const cps = await readCheckpoints(checkpointPath(path), trusted);
    expect(cps.checkpoints.map((c) => [c.seq, c.chain])).toEqual([
      [3, 'hmac-sha256'],
      [6, 'hmac-sha256'],
      [7, 'hmac-sha256'],
    ]);
    expect(await verify(path, { hmacKey: 'k', checkpoints: cps.checkpoints })).toMatchObject({
      status: 'ok',
    });
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, 5);
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect((await verify(path, { hmacKey: 'k', checkpoints: cps.checkpoints })).problem).toMatchObject({
      kind: 'truncated',
      beforeCheckpoint: true,
    });
  });

  it('rejects a key that is not P-256, and nonsense intervals', () => {
    expect(() => checkpointKey('not a pem')).toThrow(InvalidAuditOptionsError);
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(() => checkpointKey(ed)).toThrow(/P-256/);
    expect(
      () => new AuditLogger({ path: join(tempDir(), 'x.jsonl'), checkpoint: { key, every: 0 } }),
    ).toThrow(/checkpoint\.every/);
  });

  it('the OTLP exporter refuses a URL that is not http(s)', async () => {
    const { createOtlpAuditExporter } = await import('../src/otlp.js');
    expect(() => createOtlpAuditExporter({ url: 'ftp://127.0.0.1/v1/logs' })).toThrow(
      InvalidAuditOptionsError,
    );
    expect(() => createOtlpAuditExporter({ url: 'not a url' })).toThrow(/not a URL/);
  });
});
