import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger, generateCheckpointKey, publicKeyPem } from '@codex/audit';
import type { AuditEventInput } from '@codex/security-profile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, codex } from './helpers.js';

let home: string;
let log: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  log = join(home, 'audit', 'audit.jsonl'); // the default [audit].path, under CODEX_HOME
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const ev = (i: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  profile: 'offline',
  operation: i % 2 ? 'network_access' : 'file_read',
  target: `target-${i}`,
  decision: i % 2 ? 'denied' : 'allowed',
  reason: `reason ${i}`,
  session_id: i < 3 ? 'sA' : 'sB',
  task_id: `t${i}`,
  ...extra,
});

/** Writes entries with the real logger. `ageMs` backdates them. */
async function write(
  path: string,
  events: AuditEventInput[],
  opts: { ageMs?: number; hmacKey?: string; maxFileBytes?: number } = {},
) {
  const logger = new AuditLogger({
    path,
    ...(opts.ageMs ? { now: () => new Date(Date.now() - opts.ageMs!) } : {}),
    ...(opts.hmacKey ? { hmacKey: opts.hmacKey } : {}),
    ...(opts.maxFileBytes ? { maxFileBytes: opts.maxFileBytes } : {}),
  });
  for (const e of events) await logger.log(e);
  await logger.close();
}

const jsonLines = (s: string) =>
  s
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('codex audit verify', () => {
  it('exits 0 for an intact log (default file under CODEX_HOME, rotated files included)', async () => {
    await write(
      log,
      Array.from({ length: 20 }, (_, i) => ev(i)),
      { maxFileBytes: 1500 },
    );
    const r = codex(['audit', 'verify'], { home });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^OK: 20 entries intact \(seq 1\.\.20, sha256 chain\) in [3-9] files/);
    const j = codex(['audit', 'verify', '--json'], { home });
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: true, entries: 20, exitCode: 0 });
  });

  it('exits 1 and names file, line and kind for tampering', async () => {
    await write(log, [ev(0), ev(1), ev(2), ev(3)]);
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"decision":"allowed"', '"decision":"denied"');
    writeFileSync(log, lines.join('\n'));
    const r = codex(['audit', 'verify', log], { home });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`TAMPERED: ${log}:3: edited:`);
    const j = codex(['audit', 'verify', log, '--json'], { home });
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ status: 'tampered', problem: { kind: 'edited', line: 3 } });
  });

  it('exits 3 for only a torn final line, 4 for a missing file', async () => {
    await write(log, [ev(0), ev(1)]);
    writeFileSync(log, `${readFileSync(log, 'utf8')}{"v":1,"seq":3,"ti`);
    const r = codex(['audit', 'verify'], { home });
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/TORN TAIL: .*:3: .*not tampering/);
    const missing = codex(['audit', 'verify', join(home, 'nope.jsonl')], { home });
    expect(missing.status).toBe(4);
    expect(codex(['audit', 'verify'], { home: mkdtempSync(join(tmpdir(), 'codex-empty-')) }).status).toBe(4);
  });

  it('uses the HMAC key named by [audit].hmac_key_env, and fails as a config error when it is unset', async () => {
    writeFileSync(join(home, 'config.toml'), '[audit]\nhmac_key_env = "AUDIT_KEY"\n');
    await write(log, [ev(0), ev(1)], { hmacKey: 'k3y' });
    expect(codex(['audit', 'verify'], { home, env: { AUDIT_KEY: 'k3y' } }).status).toBe(0);
    expect(codex(['audit', 'verify'], { home, env: { AUDIT_KEY: 'wrong' } }).status).toBe(1);
    const unset = codex(['audit', 'verify'], { home });
    expect(unset.status).toBe(2);
    expect(unset.stderr).toMatch(/AUDIT_KEY is not set/);
    expect(codex(['audit', 'verify', '--key-env', 'OTHER'], { home, env: { OTHER: 'k3y' } }).status).toBe(0);
  });

  it('--partial verifies a suffix of a rotated log', async () => {
    await write(
      log,
      Array.from({ length: 20 }, (_, i) => ev(i)),
      { maxFileBytes: 1500 },
    );
    expect(codex(['audit', 'verify', log], { home }).status).toBe(1);
    expect(codex(['audit', 'verify', log, '--partial'], { home }).status).toBe(0);
  });
});

describe('codex audit query', () => {
  it('--decision denied --since 1h --json prints only recent denials, one JSON per line', async () => {
    await write(log, [ev(1, { target: 'old-denied' })], { ageMs: 3 * 3_600_000 });
    await write(log, [ev(0), ev(1), ev(2), ev(3)]);
    const r = codex(['audit', 'query', '--decision', 'denied', '--since', '1h', '--json'], { home });
    expect(r.status).toBe(0);
    const entries = jsonLines(r.stdout);
    expect(entries.map((e) => e.target)).toEqual(['target-1', 'target-3']);
    expect(entries.every((e) => e.decision === 'denied')).toBe(true);
    // Without --since the old denial is there too.
    const all = jsonLines(codex(['audit', 'query', '--decision', 'denied', '--json'], { home }).stdout);
    expect(all.map((e) => e.target)).toEqual(['old-denied', 'target-1', 'target-3']);
  });

  it('filters by operation, session and task; prints a readable line per entry', async () => {
    await write(log, [ev(0), ev(1), ev(2), ev(3), ev(4)]);
    const r = codex(['audit', 'query', '--session', 'sB', '--operation', 'file_read'], { home });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/#5 +allowed +file_read +offline +sB\/t4 +target-4 +\(reason 4\)/);
    expect(r.stderr).toContain('1 entry');
    const t = jsonLines(codex(['audit', 'query', '--task', 't1', '--task', 't2', '--json'], { home }).stdout);
    expect(t.map((e) => e.task_id)).toEqual(['t1', 't2']);
  });

  it('--file reads another log; corrupt lines are warned about with their line number and skipped', async () => {
    const other = join(home, 'elsewhere.jsonl');
    await write(other, [ev(0), ev(1)]);
    writeFileSync(other, `${readFileSync(other, 'utf8')}not json\n`);
    const r = codex(['audit', 'query', '--file', other, '--json'], { home });
    expect(r.status).toBe(0);
    expect(jsonLines(r.stdout)).toHaveLength(2);
    expect(r.stderr).toContain(`${other}:3: bad-json`);
  });

  it('rejects bad values as usage errors (exit 2)', () => {
    for (const args of [
      ['audit', 'query', '--decision', 'maybe'],
      ['audit', 'query', '--since', 'yesterday'],
      ['audit', 'query', '--bogus'],
      ['audit', 'frobnicate'],
      ['audit'],
      ['audit', 'tail', '-n', 'x'],
    ]) {
      const r = codex(args, { home });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^codex: error: /);
    }
  });
});

describe('codex audit stats and tail', () => {
  it('stats counts by decision, operation and profile', async () => {
    await write(log, [ev(0), ev(1), ev(2), ev(3, { profile: 'trusted' })]);
    const r = codex(['audit', 'stats', '--json'], { home });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      entries: 4,
      byDecision: { allowed: 2, denied: 2 },
      byOperation: { file_read: 2, network_access: 2 },
      byProfile: { offline: 3, trusted: 1 },
      sessions: 2,
    });
    expect(codex(['audit', 'stats'], { home }).stdout).toMatch(/decision denied\s+2/);
  });

  it('tail -n N prints the last N entries', async () => {
    await write(
      log,
      Array.from({ length: 6 }, (_, i) => ev(i)),
    );
    const r = codex(['audit', 'tail', '-n', '2', '--json'], { home });
    expect(r.status).toBe(0);
    expect(jsonLines(r.stdout).map((e) => e.seq)).toEqual([5, 6]);
    expect(jsonLines(codex(['audit', 'tail', '--json'], { home }).stdout)).toHaveLength(6);
  });

  it('tail -f prints new entries as they are written and exits 130 on SIGINT', async () => {
    await write(log, [ev(0)]);
    const child = spawn(process.execPath, [BIN, 'audit', 'tail', '-f', '-n', '1', '--json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 20_000;
      while (jsonLines(out).length < n) {
        if (Date.now() > deadline) throw new Error(`timeout; got ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await waitFor(1);
    await write(log, [ev(1), ev(2)]);
    await waitFor(3);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(jsonLines(out).map((e) => `${e.seq}:${e.target}`)).toEqual([
      '1:target-0',
      '2:target-1',
      '3:target-2',
    ]);
  }, 40_000);
});

describe('codex audit: the rough edges', () => {
  async function manyEntries(n: number) {
    const logger = new AuditLogger({ path: log });
    const all: Promise<void>[] = [];
    for (let i = 0; i < n; i++) all.push(logger.log(ev(i)));
    await Promise.all(all);
    await logger.close();
  }
  /** Runs `codex <args> | head -1` in a real shell pipeline; returns codex's own exit status. */
  function piped(args: string[]): Promise<{ status: number; head: string; stderr: string }> {
    const script = `"${process.execPath}" "${BIN}" ${args.join(' ')} 2>"$ERR" | head -1; exit \${PIPESTATUS[0]}`;
    const errFile = join(home, 'stderr.txt');
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', script], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home, ERR: errFile },
      });
      let head = '';
      child.stdout.on('data', (d) => {
        head += d;
      });
      child.on('close', (status) =>
        resolve({ status: status ?? -1, head, stderr: readFileSync(errFile, 'utf8') }),
      );
    });
  }

  it.each([
    [['audit', 'query', '--json']],
    [['audit', 'query']],
    [['audit', 'tail', '-n', '20000']],
    [['audit', 'tail', '-n', '20000', '--json']],
    [['audit', 'tail', '-f', '-n', '20000', '--json']],
  ])(
    '`codex %s | head -1` exits 0 without a stack trace (EPIPE)',
    async (args) => {
      await manyEntries(20_000);
      const r = await piped(args);
      expect(r.head.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
      expect(r.status).toBe(0);
    },
    60_000,
  );

  it('tail -f follows without a MaxListenersExceededWarning (CODEX_TEST_FOLLOW_MS, default 4 s)', async () => {
    await write(log, [ev(0)]);
    const followMs = Number(process.env.CODEX_TEST_FOLLOW_MS ?? 4000);
    const child = spawn(process.execPath, ['--trace-warnings', BIN, 'audit', 'tail', '-f', '--json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    // At the 200 ms poll interval, the old code passed Node's limit of 10 listeners after ~2 s.
    await new Promise((r) => setTimeout(r, followMs));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).not.toContain('MaxListenersExceededWarning');
    expect(err).toBe('');
  }, 120_000);
});

describe('codex audit checkpoint, and verify against signed checkpoints', () => {
  /** Rewrites the chain from line `from` on, as an attacker without an HMAC key can. */
  function rechain(lines: string[], from: number): string[] {
    const out = [...lines];
    let prev = (JSON.parse(out[from - 1]!) as { hash: string }).hash;
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
  const lines = () => readFileSync(log, 'utf8').split('\n').slice(0, -1);
  const put = (l: string[]) => writeFileSync(log, `${l.join('\n')}\n`);

  it('checkpoint creates the host key and signs the head; verify then checks it (exit 0, 5, 6, 7, 8)', async () => {
    await write(
      log,
      Array.from({ length: 10 }, (_, i) => ev(i)),
    );
    const before = codex(['audit', 'verify'], { home });
    expect(before.stdout).toContain('no trusted checkpoint key');
    expect(before.status).toBe(0);

    const cp = codex(['audit', 'checkpoint'], { home });
    expect(cp.stderr).toContain('created the checkpoint key');
    expect(cp.stdout).toMatch(/checkpoint: seq 10 [0-9a-f]{16}… signed into .*audit\.jsonl\.checkpoints/);
    expect(cp.status).toBe(0);
    expect(statSync(join(home, 'audit', 'checkpoint-key.pem')).mode & 0o777).toBe(0o600);
    const ok = codex(['audit', 'verify'], { home });
    expect(ok.stdout).toContain('1 signed checkpoint up to seq 10');
    expect(ok.status).toBe(0);

    const genuine = lines();
    put(genuine.slice(0, 8)); // the last two lines cut off: the chain alone says OK
    const cut = codex(['audit', 'verify', '--json'], { home });
    expect(JSON.parse(cut.stdout)).toMatchObject({ exitCode: 5, problem: { kind: 'truncated', seq: 9 } });
    expect(cut.status).toBe(5);

    const edited = [...genuine];
    edited[3] = edited[3]!.replace('"target":"target-3"', '"target":"harmless"');
    put(rechain(edited, 3));
    const ed = codex(['audit', 'verify'], { home });
    expect(ed.stdout).toMatch(
      /^EDITED BEFORE CHECKPOINT: .*audit\.jsonl:10: edited: entry seq 10 is not the one its signed checkpoint recorded/,
    );
    expect(ed.status).toBe(6);

    put(genuine);
    const cpFile = `${log}.checkpoints`;
    const cpText = readFileSync(cpFile, 'utf8');
    writeFileSync(cpFile, cpText.replace(/"seq":10/, '"seq":9'));
    const forged = codex(['audit', 'verify'], { home });
    expect(forged.stdout).toMatch(/^FORGED CHECKPOINT: .*checkpoints:1: forged: signature does not verify/);
    expect(forged.status).toBe(8);

    const otherKey = join(home, 'other.pub.pem');
    writeFileSync(otherKey, publicKeyPem(generateCheckpointKey().publicKey));
    writeFileSync(cpFile, cpText);
    const unknown = codex(['audit', 'verify', '--pubkey', otherKey], { home });
    expect(unknown.stdout).toContain('unknown-key: signed by an unknown key');
    expect(unknown.status).toBe(8);

    rmSync(cpFile);
    const missing = codex(['audit', 'verify'], { home });
    expect(missing.stdout).toMatch(/^MISSING CHECKPOINT: no checkpoint file; 10 entries/);
    expect(missing.status).toBe(7);

    writeFileSync(cpFile, 'not json\n');
    expect(codex(['audit', 'verify'], { home }).status).toBe(8);
  });

  it('checkpoint and verify --pubkey reject a bad key file as a configuration error (exit 2)', async () => {
    await write(log, [ev(0)]);
    const bad = join(home, 'bad.pem');
    writeFileSync(bad, 'not a key');
    expect(codex(['audit', 'checkpoint', '--key', bad], { home }).status).toBe(2);
    expect(codex(['audit', 'verify', '--pubkey', bad], { home }).status).toBe(2);
    expect(codex(['audit', 'verify', '--export', log], { home }).status).toBe(2); // --export needs --pubkey
  });

  it('verify --export checks a merged Collector export host by host and names a dropped record', async () => {
    // Two hosts' logs with signed checkpoints, merged into Collector file-exporter JSON lines.
    const hosts = ['web-1', 'web-2'];
    const pubs: string[] = [];
    const request = (host: string, bodies: { kind: string; body: string }[]) =>
      JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] },
            scopeLogs: [
              {
                scope: { name: '@codex/audit' },
                logRecords: bodies.map(({ kind, body }) => {
                  const f = JSON.parse(body) as { seq: number; hash: string };
                  return {
                    timeUnixNano: '1767225600000000000',
                    body: { stringValue: body },
                    attributes: [
                      { key: 'codex.audit.kind', value: { stringValue: kind } },
                      { key: 'codex.audit.log', value: { stringValue: 'audit.jsonl' } },
                      { key: 'codex.audit.seq', value: { intValue: String(f.seq) } },
                      { key: 'codex.audit.hash', value: { stringValue: f.hash } },
                    ],
                  };
                }),
              },
            ],
          },
        ],
      });
    const out: string[] = [];
    for (const host of hosts) {
      const key = generateCheckpointKey();
      const pub = join(home, `${host}.pub.pem`);
      writeFileSync(pub, publicKeyPem(key.publicKey));
      pubs.push('--pubkey', pub);
      const path = join(home, host, 'audit.jsonl');
      const logger = new AuditLogger({ path, checkpoint: { key, every: 5, host } });
      for (let i = 0; i < 12; i++) await logger.log(ev(i));
      await logger.close();
      const entries = readFileSync(path, 'utf8').trim().split('\n');
      const cps = readFileSync(`${path}.checkpoints`, 'utf8').trim().split('\n');
      out.push(
        request(
          host,
          entries.slice(0, 6).map((body) => ({ kind: 'entry', body })),
        ),
      );
      out.push(
        request(host, [
          ...entries.slice(6).map((body) => ({ kind: 'entry', body })),
          ...cps.map((body) => ({ kind: 'checkpoint', body })),
        ]),
      );
    }
    const merged = join(home, 'export.jsonl');
    writeFileSync(merged, `${[out[0], out[2], out[1], out[3]].join('\n')}\n`); // interleaved hosts
    const ok = codex(['audit', 'verify', '--export', merged, ...pubs], { home });
    expect(ok.stdout).toContain('OK: host web-1 (audit.jsonl): 12 entries seq 1..12, 3 checkpoints');
    expect(ok.stdout).toContain('OK: host web-2 (audit.jsonl): 12 entries seq 1..12, 3 checkpoints');
    expect(ok.status).toBe(0);

    const dropped = readFileSync(merged, 'utf8')
      .split('\n')
      .map((l) =>
        l.includes('"host.name"') && l.includes('web-2')
          ? l.replace(/\{"timeUnixNano":"\d+","body":\{"stringValue":"\{\\"v\\":1,\\"seq\\":3,.*?\}\]\},/, '')
          : l,
      );
    writeFileSync(merged, dropped.join('\n'));
    const bad = codex(['audit', 'verify', '--export', merged, ...pubs, '--json'], { home });
    const report = JSON.parse(bad.stdout) as {
      exitCode: number;
      hosts: { host: string; exitCode: number; result: { problem?: { message: string } } }[];
    };
    const web2 = report.hosts.find((h) => h.host === 'web-2')!;
    expect(web2.result.problem?.message).toContain('seq 3 is missing');
    expect(web2.exitCode).toBe(6);
    expect(report.hosts.find((h) => h.host === 'web-1')!.exitCode).toBe(0);
    expect(bad.status).toBe(6);
  });
});
