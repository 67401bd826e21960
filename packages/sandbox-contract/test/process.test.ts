import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../src/process.js';

const base = {
  cwd: process.cwd(),
  env: { PATH: process.env.PATH ?? '' },
  timeoutMs: 10_000,
  maxOutputBytes: 1 << 20,
};
const posix = process.platform !== 'win32';

describe.skipIf(!posix)('runCaptured (real processes)', () => {
  it('captures stdout, stderr and the exit code', async () => {
    const r = await runCaptured(['sh', '-c', 'echo out; echo err >&2; exit 3'], base);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });
  it('hands extraFds to the child as fds 3, 4, … and no others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-extrafds-'));
    const a = openSync(join(dir, 'a'), 'w');
    const b = openSync(join(dir, 'b'), 'w');
    try {
      const r = await runCaptured(
        ['sh', '-c', 'echo A >&3; echo B >&4; (echo C >&5) 2>/dev/null || echo no5'],
        {
          ...base,
          extraFds: [a, b],
        },
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('no5\n');
    } finally {
      closeSync(a);
      closeSync(b);
    }
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('A\n');
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('B\n');
    rmSync(dir, { recursive: true, force: true });
  });
  it('gate: the child reads "g" on the descriptor after extraFds once the gate opens; the timeout starts then', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    // The gate opens after 400 ms, longer than the 250 ms timeout: the wait is not counted.
    setTimeout(open, 400);
    const r = await runCaptured(['sh', '-c', 'c=$(head -c1 <&3); echo "got $c"'], {
      ...base,
      timeoutMs: 250,
      gate,
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'got g\n', timedOut: false });
    expect(r.durationMs).toBeLessThan(250);
  });
  it('gate: a rejected gate closes the descriptor and kills the child, which never goes on; runCaptured rejects with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'codex-gate-'));
    const marker = join(dir, 'ran');
    const gate = new Promise<void>((_, reject) => setTimeout(() => reject(new Error('not started')), 200));
    const t0 = Date.now();
    await expect(
      runCaptured(['sh', '-c', `c=$(head -c1 <&3); [ "$c" = g ] && touch ${marker}; sleep 20`], {
        ...base,
        gate,
      }),
    ).rejects.toThrow('not started');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(existsSync(marker)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
  it('caps output and keeps draining', async () => {
    const r = await runCaptured(['sh', '-c', 'yes | head -c 200000; echo done >&2'], {
      ...base,
      maxOutputBytes: 100,
    });
    expect(r.stdout.length).toBe(100);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stderr).toBe('done\n');
  });
  it('timeout kills the whole process group', async () => {
    const tag = `61.${process.pid}`;
    const r = await runCaptured(['sh', '-c', `sleep ${tag} & sleep 30`], { ...base, timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(5000);
    const { execFileSync } = await import('node:child_process');
    let left = '';
    try {
      left = execFileSync('pgrep', ['-f', `sleep ${tag}`], { encoding: 'utf8' });
    } catch {
      left = '';
    }
    expect(left.trim()).toBe('');
  });
  it('abort signal kills the command', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await runCaptured(['sleep', '30'], { ...base, signal: ac.signal });
    expect(r.signal).toBe('SIGKILL');
  });
  it('a missing launcher is a SandboxSetupError', async () => {
    await expect(runCaptured(['/nonexistent/launcher'], base)).rejects.toMatchObject({
      code: 'SANDBOX_SETUP_FAILED',
    });
  });

  it('leaves no timer or handle behind once the command has exited', async () => {
    // A grace timer left pending after the pipes closed kept one-shot CLIs alive for 2 s.
    const count = () => {
      const n: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) n[r] = (n[r] ?? 0) + 1;
      return { timers: n.Timeout ?? 0, processes: n.ProcessWrap ?? 0, pipes: n.PipeWrap ?? 0 };
    };
    const before = count();
    const r = await runCaptured(['sh', '-c', 'echo hi; echo err >&2'], base);
    expect(r.stdout).toBe('hi\n');
    // No timer may outlive the run (the old 2 s grace timer did)…
    expect(count().timers).toBeLessThanOrEqual(before.timers);
    // …and the child's handles are closing, not kept: gone once libuv has run its close callbacks.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const later = count();
    expect(later.processes).toBeLessThanOrEqual(before.processes);
    expect(later.pipes).toBeLessThanOrEqual(before.pipes);
  });

  it('a standalone node process exits right after the command (no idle grace period)', async () => {
    const { spawnSync } = await import('node:child_process');
    const url = new URL('../dist/process.js', import.meta.url).href;
    const script = `import(${JSON.stringify(url)}).then((m) => m.runCaptured(['true'], { cwd: '/', env: {}, timeoutMs: 60000, maxOutputBytes: 1024 })).then(() => process.stdout.write(String(Date.now())))`;
    const r = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const ended = Date.now();
    expect(r.status).toBe(0);
    // It used to stay alive 2 s after the result; 1 s leaves room for a loaded machine.
    expect(ended - Number(r.stdout)).toBeLessThan(1000);
  });

  it('a signal aborted before the spawn still kills the command', async () => {
    const abort = new AbortController();
    abort.abort();
    const started = Date.now();
    const r = await runCaptured(['sleep', '20'], { ...base, signal: abort.signal });
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
