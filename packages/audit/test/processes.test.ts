import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuditLogger, logFiles, verify } from '../src/index.js';
import { MASK, tempDir } from './helpers/tmp.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const bin = (name: string) => fileURLToPath(new URL(`./fixtures/bin/${name}`, import.meta.url));

function run(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const entriesOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { seq: number; session_id: string; task_id: string });

describe('several processes, one log', () => {
  it('8 writer processes × 10,000 entries: exactly 80,000 entries, no torn lines, one valid chain', async () => {
    const file = join(tempDir(), 'shared.jsonl');
    const writers = Array.from({ length: 8 }, (_, id) =>
      run(spawn(process.execPath, [bin('writer.mjs'), dist, file, '10000', String(id)], { stdio: 'pipe' })),
    );
    const results = await Promise.all(writers);
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ written: 10_000 });
    }
    const result = await verify(file);
    expect(result).toMatchObject({ ok: true, status: 'ok', entries: 80_000, firstSeq: 1, lastSeq: 80_000 });

    const entries = entriesOf(file);
    expect(entries).toHaveLength(80_000);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 80_000 }, (_, i) => i + 1));
    const perWriter = new Map<string, Set<string>>();
    let switches = 0;
    for (const [i, e] of entries.entries()) {
      if (!perWriter.has(e.session_id)) perWriter.set(e.session_id, new Set());
      perWriter.get(e.session_id)!.add(e.task_id);
      if (i > 0 && entries[i - 1]!.session_id !== e.session_id) switches++;
    }
    expect(perWriter.size).toBe(8);
    for (const tasks of perWriter.values()) expect(tasks.size).toBe(10_000);
    // The writers really interleaved (more than one run per writer), so the lock was exercised.
    expect(switches).toBeGreaterThan(8);
  }, 120_000);

  it('4 processes, durability batch, small batches, rotation every 64 KiB: one chain across all files', async () => {
    const file = join(tempDir(), 'rot.jsonl');
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, id) =>
        run(
          spawn(
            process.execPath,
            [bin('writer.mjs'), dist, file, '2000', String(id), String(64 * 1024), 'batch', '50'],
            {
              stdio: 'pipe',
            },
          ),
        ),
      ),
    );
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const files = await logFiles(file);
    expect(files.length).toBeGreaterThan(10);
    expect(await verify(files)).toMatchObject({ ok: true, entries: 8000, firstSeq: 1, lastSeq: 8000 });
    // Every rotated file stayed under the limit (one batch may start a file past it only when alone).
    for (const f of files.slice(0, -1)) expect(readFileSync(f).length).toBeLessThanOrEqual(64 * 1024);
  }, 120_000);

  it('crash: SIGKILL under `every` keeps every acknowledged entry; verify is ok or reports only a torn tail', async () => {
    const file = join(tempDir(), 'crash.jsonl');
    const child = spawn(process.execPath, [bin('crasher.mjs'), dist, file], { stdio: 'pipe' });
    const acked = new Set<string>();
    let buffer = '';
    const done = run(child);
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop()!;
        for (const p of parts) if (p.startsWith('ack ')) acked.add(p.slice(4));
        if (acked.size >= 300 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    const { signal } = await done;
    expect(signal).toBe('SIGKILL');
    // Acks that were still in the pipe when the child died count as well.
    for (const p of buffer.split('\n')) if (p.startsWith('ack ')) acked.add(p.slice(4));

    const result = await verify(file);
    expect(result.intact).toBe(true);
    expect(['ok', 'torn-tail']).toContain(result.status);
    const text = readFileSync(file, 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const present = new Set(
      complete
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { task_id: string }).task_id),
    );
    const missing = [...acked].filter((id) => !present.has(id));
    expect(missing).toEqual([]);
    expect(present.size).toBeGreaterThanOrEqual(acked.size);

    // The next writer repairs a torn tail (if any) and continues the chain.
    const after = new AuditLogger({ path: file, mask: MASK });
    await after.log({
      profile: 'offline',
      operation: 'other',
      target: 'after',
      decision: 'allowed',
      reason: 'restart',
    });
    await after.close();
    expect(await verify(file)).toMatchObject({ ok: true, entries: present.size + 1 });
  }, 60_000);

  it.each(['exit', 'natural'])('buffered entries are flushed when the process ends (%s)', async (how) => {
    const file = join(tempDir(), 'exit.jsonl');
    const r = await run(spawn(process.execPath, [bin('exiter.mjs'), dist, file, how], { stdio: 'pipe' }));
    expect(r.code).toBe(0);
    expect(entriesOf(file).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await verify(file)).ok).toBe(true);
  });
});

describe('lock file', () => {
  const event = {
    profile: 'offline',
    operation: 'other',
    target: 'x',
    decision: 'allowed',
    reason: 'lock',
  } as const;

  it('breaks a lock left by a dead process on this host', async () => {
    const file = join(tempDir(), 'a.jsonl');
    const dead = Number(
      execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      }),
    );
    writeFileSync(`${file}.lock`, `${dead}\n${hostname()}\ndeadbeef\n`);
    const logger = new AuditLogger({ path: file, mask: MASK, lock: { timeoutMs: 5_000 } });
    await logger.log(event);
    await logger.close();
    expect((await verify(file)).entries).toBe(1);
  });

  it('waits for a live holder and times out with AUDIT_LOCK_TIMEOUT', async () => {
    const file = join(tempDir(), 'a.jsonl');
    // The parent of this test process is alive for the whole test.
    writeFileSync(`${file}.lock`, `${process.ppid}\n${hostname()}\nlive\n`);
    const logger = new AuditLogger({ path: file, mask: MASK, lock: { timeoutMs: 300 } });
    await expect(logger.log(event)).rejects.toMatchObject({ code: 'AUDIT_LOCK_TIMEOUT' });
    await logger.close().catch(() => {});
    expect(readFileSync(`${file}.lock`, 'utf8')).toContain('live'); // never stolen from a live owner
  });

  it('breaks a lock older than staleMs even if its pid is alive on this host (pid reuse)', async () => {
    const file = join(tempDir(), 'a.jsonl');
    writeFileSync(`${file}.lock`, `${process.ppid}\n${hostname()}\nreused\n`);
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(`${file}.lock`, old, old);
    const logger = new AuditLogger({ path: file, mask: MASK, lock: { timeoutMs: 2_000, staleMs: 60_000 } });
    await logger.log(event);
    await logger.close();
    expect((await verify(file)).entries).toBe(1);
  });

  it('breaks an old lock from another host after staleMs, not before', async () => {
    const file = join(tempDir(), 'a.jsonl');
    writeFileSync(`${file}.lock`, `123\nsome-other-host\nx\n`);
    const fresh = new AuditLogger({ path: file, mask: MASK, lock: { timeoutMs: 200, staleMs: 60_000 } });
    await expect(fresh.log(event)).rejects.toMatchObject({ code: 'AUDIT_LOCK_TIMEOUT' });
    await fresh.close().catch(() => {});
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(`${file}.lock`, old, old);
    const logger = new AuditLogger({ path: file, mask: MASK, lock: { timeoutMs: 2_000, staleMs: 60_000 } });
    await logger.log(event);
    await logger.close();
    expect((await verify(file)).entries).toBe(1);
  });
});
