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
});
