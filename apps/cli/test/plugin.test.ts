import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, BUILD_PLUGINS, codex, pluginToolsMissing, readLate } from './helpers.js';

// Build the example/hostile plugins from C/WAT sources with the package's own script; a machine
// without clang (wasm32-wasi) or wabt skips these files outside CI=true (see wasm-plugin's
// toolchain test for the message such a machine gets).
const MISSING = await pluginToolsMissing();
let dir: string;
let home: string;
const wasm = (name: string) => join(dir, `${name}.wasm`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'codex-cli-plugins-'));
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  if (!MISSING) execFileSync('node', [BUILD_PLUGINS, dir], { stdio: 'ignore' });
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(MISSING)('codex plugin run', () => {
  it('runs a plugin with stdin as input and passes its stdout through', () => {
    const r = codex(['plugin', 'run', wasm('json-format')], { input: '{"a":[1,true]}', home });
    expect(r).toEqual({ status: 0, stdout: '{\n  "a": [\n    1,\n    true\n  ]\n}\n', stderr: '' });
  });

  it('returns the plugin exit code and stderr', () => {
    const r = codex(['plugin', 'run', wasm('json-format')], { input: '{"a":', home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^json-format: unexpected end of input at byte 5\n$/);
  });

  it('reads --input FILE and reports a run as JSON', () => {
    const input = join(dir, 'in.json');
    writeFileSync(input, '[2]');
    const r = codex(['plugin', 'run', wasm('json-format'), '--input', input, '--json'], { home });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ exitCode: 0, stdout: '[\n  2\n]\n', capabilities: ['stdio'] });
    expect(out.limits).toEqual({
      fuel: 1_000_000,
      timeoutMs: 5000,
      memoryBytes: 10_485_760,
      maxOutputBytes: 1_048_576,
    });
    expect(out.fuelUsed).toBeGreaterThan(0);
  });

  it('exits only after all of its output is out, even to a reader that starts late', async () => {
    // codex plugin run ends with process.exit once its writes have flushed (not on heap
    // teardown): a consumer that reads nothing for a while must still get every byte.
    const doc = Array.from({ length: 40_000 }, (_, i) => i);
    const child = spawn(process.execPath, [BIN, 'plugin', 'run', wasm('json-format'), '--fuel', '10000000'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child.stdin.end(JSON.stringify(doc));
    const { code, out } = await readLate(child);
    expect(code).toBe(0);
    expect(out).toBe(`${JSON.stringify(doc, null, 2)}\n`);
  }, 60_000);

  /** Runs `command args` with stdin written in `parts`, 300 ms apart; its exit code and stdout. */
  async function slowStdin(command: string, args: string[], parts: string[]) {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    for (const [i, part] of parts.entries()) {
      if (i > 0) await new Promise((r) => setTimeout(r, 300));
      if (i === parts.length - 1) child.stdin.end(part);
      else child.stdin.write(part);
    }
    return readLate(child, 0);
  }

  it("reads all of stdin from a pipe whose writer is slow (parts 300 ms apart, a Node parent's pipe)", async () => {
    const { code, out } = await slowStdin(
      process.execPath,
      [BIN, 'plugin', 'run', wasm('json-format')],
      ['{"first": ', '[1, 2,', ' 3], "last": true}'],
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ first: [1, 2, 3], last: true });
  });

  it.skipIf(!existsSync('/usr/bin/python3'))(
    'and from one whose descriptor is non-blocking (read until EAGAIN, the rest through process.stdin)',
    async () => {
      // python3 makes fd 0 non-blocking, then becomes codex: the first read gets EAGAIN.
      const become = `import os; os.set_blocking(0, False); os.execv(${JSON.stringify(process.execPath)}, ["node", ${JSON.stringify(BIN)}, "plugin", "run", ${JSON.stringify(wasm('json-format'))}])`;
      const { code, out } = await slowStdin(
        'python3',
        ['-c', become],
        ['{"first": ', '[1, 2, 3], "last": true}'],
      );
      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual({ first: [1, 2, 3], last: true });
    },
  );

  it('reports violations as one-line typed errors (exit 1), JSON with --json', () => {
    const fuel = codex(['plugin', 'run', wasm('infinite-loop')], { home, input: '' });
    expect(fuel.status).toBe(1);
    expect(fuel.stderr).toBe(
      'codex: error: plugin infinite-loop.wasm ran out of fuel (limit 1000000); raise it with --fuel\n',
    );

    const time = codex(
      ['plugin', 'run', wasm('infinite-loop'), '--fuel', '1000000000000', '--timeout', '200', '--json'],
      {
        home,
        input: '',
      },
    );
    expect(time.status).toBe(1);
    expect(JSON.parse(time.stderr).error.code).toBe('PLUGIN_TIMEOUT');

    const mem = codex(['plugin', 'run', wasm('memory-bomb'), '--memory', '2', '--json'], { home, input: '' });
    expect(JSON.parse(mem.stderr).error).toEqual({
      code: 'MEMORY_LIMIT',
      message:
        'plugin memory-bomb.wasm exceeded its memory limit of 2 MB: memory.grow beyond the cap was refused',
    });
  });

  it('grants env, clock and random only through --allow', () => {
    const denied = codex(['plugin', 'run', wasm('probe'), '--json'], { home, input: 'clock' });
    expect(JSON.parse(denied.stderr).error.code).toBe('CAPABILITY_DENIED');
    const env = codex(['plugin', 'run', wasm('probe'), '--allow', 'env:PROBE_ME,clock'], {
      home,
      input: 'env clock',
      env: { PROBE_ME: 'yes', SECRET_TOKEN: 'nope' },
    });
    expect(env.status).toBe(0);
    expect(env.stdout).toMatch(/^env\.entry PROBE_ME=yes\nenv\.count 1\n/);
    expect(env.stdout).not.toContain('SECRET_TOKEN');
    expect(env.stdout).toMatch(/clock\.realtime ok \d+/);
  });

  it('refuses filesystem and network grants as usage errors', () => {
    const r = codex(['plugin', 'run', wasm('probe'), '--allow', 'fs'], { home, input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--allow: "fs" can never be granted to a WASM plugin/);
    expect(codex(['plugin', 'run', wasm('probe'), '--fuel', 'lots'], { home }).stderr).toMatch(
      /--fuel must be a positive integer, got "lots"/,
    );
    expect(codex(['plugin', 'launch', wasm('probe')], { home }).status).toBe(2);
  });

  it('applies a sidecar manifest and refuses one that asks for more than granted', () => {
    const manifestDir = mkdtempSync(join(tmpdir(), 'codex-manifest-'));
    try {
      const plugin = join(manifestDir, 'probe.wasm');
      execFileSync('cp', [wasm('probe'), plugin]);
      writeFileSync(
        join(manifestDir, 'probe.plugin.json'),
        JSON.stringify({ name: 'probe', version: '1.0.0', capabilities: ['stdio', 'clock'] }),
      );
      const refused = codex(['plugin', 'run', plugin], { home, input: 'clock' });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(
        /capability "clock" denied: the manifest requests it but it was not granted/,
      );
      const ok = codex(['plugin', 'run', plugin, '--allow', 'clock,random'], { home, input: 'clock random' });
      // The manifest asked only for clock, so random stays unlinked even though it was granted.
      expect(ok.status).toBe(1);
      expect(ok.stdout).toBe('');
      expect(ok.stderr).toMatch(/capability "random" denied/);
      writeFileSync(join(manifestDir, 'probe.plugin.json'), '{"name":"probe","version":"one"}');
      const bad = codex(['plugin', 'inspect', plugin], { home });
      expect(bad.stderr).toMatch(/probe\.plugin\.json: version: must be a semantic version/);
      expect(existsSync(plugin)).toBe(true);
    } finally {
      rmSync(manifestDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(MISSING)('codex plugin run: audit log', () => {
  it('writes a plugin_run entry for a run and a denied entry for a violation', () => {
    // Same CODEX_HOME as the other tests (its transpile cache is warm); look at the new entries only.
    const log = join(home, 'audit', 'audit.jsonl');
    const before = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).length : 0;
    expect(codex(['plugin', 'run', wasm('json-format')], { home, input: '[]' }).status).toBe(0);
    expect(codex(['plugin', 'run', wasm('infinite-loop')], { home, input: '' }).status).toBe(1);
    const entries = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .slice(before)
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.operation, e.decision, e.profile, e.target])).toEqual([
      ['plugin_run', 'allowed', 'offline', 'json-format.wasm'],
      ['plugin_run', 'denied', 'offline', 'infinite-loop.wasm'],
    ]);
    expect(entries[1].reason).toMatch(/ran out of fuel/);
    expect(codex(['audit', 'verify'], { home }).status).toBe(0);
  });
});

describe.skipIf(MISSING)('codex plugin inspect', () => {
  it('shows imports, exports and the capabilities they imply', () => {
    const r = codex(['plugin', 'inspect', wasm('probe'), '--json'], { home });
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.kind).toBe('module');
    expect(info.exports).toContain('wasi:cli/run');
    expect(info.capabilities.requested).toEqual(expect.arrayContaining(['stdio', 'clock', 'random']));
    expect(info.capabilities.stubbed).toEqual(['fs', 'sockets']); // preview1 sock_accept is linked, refused in the guest
    const text = codex(['plugin', 'inspect', wasm('json-format')], { home });
    expect(text.stdout).toMatch(/^kind\s+module$/m);
    expect(text.stdout).toMatch(/^capabilities used\s+stdio$/m);
  });
});
