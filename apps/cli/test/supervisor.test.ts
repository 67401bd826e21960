import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';

// Not under /tmp: the sandbox gives commands a private, empty /tmp, where a workspace would vanish.
const WORK_PARENT = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();

import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, BUILD_PLUGINS, codex, pluginToolsMissing } from './helpers.js';

/** A machine without clang (wasm32-wasi) or wabt skips the plugin agent test outside CI=true. */
const MISSING_PLUGIN_TOOLS = await pluginToolsMissing();

let home: string;
let work: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'codex-home-'));
  work = mkdtempSync(join(WORK_PARENT, 'codex-supervise-'));
});
afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

interface AuditLine {
  task_id?: string;
  agent_type?: string;
  session_id?: string;
  profile: string;
  operation: string;
  target: string;
  decision: string;
  reason: string;
  details?: Record<string, unknown>;
}

function auditLines(): AuditLine[] {
  const dir = join(home, 'audit');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditLine);
}

function plan(name: string, body: unknown): string {
  const path = join(work, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return name; // relative to `work`, where codex runs
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  codex(['supervise', ...args], { home, cwd: work, env });

describe('codex supervise: plan validation', () => {
  it('is listed in help and documents its exit codes', () => {
    expect(codex(['--help'], { home }).stdout).toMatch(/supervise\s+Run a plan of sub-agents/);
    const help = codex(['supervise', '--help'], { home });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(
      /Usage: codex supervise <plan\.yaml\|plan\.json> \[--max-concurrent N\] \[--dry-run\]/,
    );
    expect(help.stdout).toMatch(/130 interrupted/);
  });

  it('usage errors exit 2 with one line', () => {
    expect(run([])).toMatchObject({
      status: 2,
      stderr: 'codex: error: missing <plan.yaml|plan.json> for "codex supervise"\n',
    });
    const p = plan('p.json', { tasks: [{ id: 'a', agent: 'command', input: { argv: ['true'] } }] });
    expect(run([p, '--max-concurrent', '0']).stderr).toMatch(
      /--max-concurrent must be an integer from 1 to 1024, got "0"/,
    );
    expect(run(['nope.yaml']).stderr).toMatch(/cannot read plan nope\.yaml \(ENOENT\)/);
  });

  it('cycles, duplicate ids, unknown agents and bad inputs: exit 2, one line naming file and key', () => {
    const cycle = plan(
      'cycle.yaml',
      'tasks:\n  - { id: a, agent: command, input: { argv: ["true"] }, dependsOn: [b] }\n  - { id: b, agent: command, input: { argv: ["true"] }, dependsOn: [a] }\n',
    );
    const r = run([cycle]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'codex: error: cycle.yaml: tasks: dependency cycle a -> b -> a ("a -> b": a depends on b)\n',
    );
    const json = run([cycle, '--json']);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'PLAN_CYCLE', message: expect.stringMatching(/dependency cycle/) },
    });

    const dup = plan('dup.json', {
      tasks: [
        { id: 'a', agent: 'command', input: { argv: ['true'] } },
        { id: 'a', agent: 'command', input: { argv: ['true'] } },
      ],
    });
    expect(run([dup]).stderr).toBe(
      'codex: error: dup.json: tasks.1.id: duplicate task id "a" (first at tasks.0)\n',
    );
    const unknown = plan('u.json', { tasks: [{ id: 'a', agent: 'telepathy' }] });
    expect(run([unknown]).stderr).toMatch(
      /^codex: error: u\.json: tasks\.0\.agent: no agent registered for type "telepathy"; registered: command, plugin, research, mcp\n$/,
    );
    const badInput = plan('i.json', {
      tasks: [{ id: 'a', agent: 'command', input: { argv: ['ls'], script: 'ls' } }],
    });
    expect(run([badInput]).stderr).toBe(
      'codex: error: i.json: tasks.0.input: give exactly one of argv or script\n',
    );
    const missingDep = plan(
      'm.yaml',
      'tasks:\n  - { id: a, agent: command, input: { argv: ["true"] }, dependsOn: [ghost] }\n',
    );
    expect(run([missingDep]).stderr).toBe(
      'codex: error: m.yaml: tasks.0.dependsOn.0: unknown dependency "ghost"\n',
    );
  });

  it('--dry-run validates and prints the dependency levels without running anything', () => {
    const marker = join(work, 'ran');
    const p = plan(
      'p.yaml',
      `tasks:\n  - { id: a, agent: command, input: { argv: [touch, ${marker}] } }\n  - { id: b, agent: command, input: { argv: ["true"] }, dependsOn: [a] }\n  - { id: c, agent: command, input: { argv: ["true"] } }\n`,
    );
    const r = run([p, '--dry-run', '--max-concurrent', '2']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      'plan (unnamed) is valid: 3 tasks, parallel, fail-fast, max 2 concurrent, profile offline\n  level 0: a (command), c (command)\n  level 1: b (command)\n',
    );
    expect(existsSync(marker)).toBe(false);
    expect(JSON.parse(run([p, '--dry-run', '--json']).stdout)).toMatchObject({
      valid: true,
      levels: [['a', 'c'], ['b']],
    });
  });

  it('the shipped example plan is valid', () => {
    const example = join(
      dirname(BIN),
      '..',
      '..',
      '..',
      'packages',
      'supervisor',
      'examples',
      'workspace-checks.yaml',
    );
    const r = codex(['supervise', example, '--dry-run', '--json'], { home });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'workspace-checks',
      levels: [['lint', 'test', 'typecheck']],
      merge: { strategy: 'concatenate' },
    });
  });
});

describe('codex supervise: command agent (exec policy → sandbox → audit)', () => {
  it('denies what the exec policy forbids or would ask about, and audits it before anything runs', () => {
    const marker = join(work, 'should-not-exist');
    const p = plan('p.json', {
      failure: 'skip-dependents',
      tasks: [
        { id: 'net', agent: 'command', input: { argv: ['curl', 'http://127.0.0.1:9/'] } },
        { id: 'escape', agent: 'command', input: { script: `bash -c 'touch ${marker}'` } },
        { id: 'after', agent: 'command', input: { argv: ['true'] }, dependsOn: ['net'] },
      ],
    });
    const r = run([p, '--json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['net', 'denied'],
      ['escape', 'denied'],
      ['after', 'skipped'],
    ]);
    expect(out.tasks[0].error.code).toBe('TASK_DENIED');
    expect(out.tasks[0].decisions[0].decision).toBe('requires_approval');
    expect(existsSync(marker)).toBe(false);
    const audit = auditLines().filter((l) => l.operation === 'command_exec');
    expect(audit.map((l) => [l.task_id, l.agent_type, l.profile, l.decision])).toEqual(
      expect.arrayContaining([
        ['net', 'command', 'offline', 'requires_approval'],
        ['escape', 'command', 'offline', expect.stringMatching(/denied|requires_approval/)],
      ]),
    );
    expect(new Set(audit.map((l) => l.session_id)).size).toBe(1);
  });

  it('runs allowed commands in parallel through the sandbox, merges their output and audits each run', () => {
    const p = plan(
      'p.yaml',
      `name: checks
failure: skip-dependents
tasks:
  - { id: one, agent: command, input: { argv: [echo, first] } }
  - { id: two, agent: command, input: { script: "echo second; cat data.txt" } }
  - { id: three, agent: command, input: { argv: [ls, missing-dir] } }
  - { id: four, agent: command, input: { argv: [echo, fourth] }, dependsOn: [one, two] }
merge: { strategy: concatenate, separator: "" }
`,
    );
    writeFileSync(join(work, 'data.txt'), 'from a file\n');
    const r = run([p, '--json', '--allow-degraded']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['one', 'succeeded'],
      ['two', 'succeeded'],
      ['three', 'failed'],
      ['four', 'succeeded'],
    ]);
    expect(out.tasks[2].error).toMatchObject({ code: 'COMMAND_FAILED', exitCode: 2 });
    expect(out.merged).toMatchObject({ output: 'first\nsecond\nfrom a file\nfourth\n', excluded: ['three'] });
    expect(out.peakConcurrency).toBeGreaterThanOrEqual(1);
    // The same entries as `codex exec` (one pipeline in @codex/core): the policy decision, then the outcome.
    const decided = auditLines().filter((l) => l.operation === 'command_exec' && l.decision === 'allowed');
    expect(decided.map((l) => l.task_id).sort()).toEqual(['four', 'one', 'three', 'two']);
    const runs = auditLines().filter(
      (l) => l.operation === 'process_spawn' && l.details?.stage === 'outcome',
    );
    expect(runs.map((l) => l.task_id).sort()).toEqual(['four', 'one', 'three', 'two']);
    for (const l of runs) {
      expect(typeof l.details?.rung).toBe('string');
      // the effective sandbox is always reported, never silently weaker
      if (l.details?.degraded) {
        const warned = auditLines().some(
          (w) => w.task_id === l.task_id && /^--allow-degraded: .*does NOT enforce/.test(w.reason),
        );
        expect(warned).toBe(true);
      }
    }
    expect(runs.find((l) => l.task_id === 'three')?.details?.exit).toBe(2);
  });

  it('without --allow-degraded, a sandbox that cannot enforce the profile is a denial, audited', () => {
    const p = plan('p.json', { tasks: [{ id: 'x', agent: 'command', input: { argv: ['echo', 'hi'] } }] });
    const r = run([p, '--json']);
    const out = JSON.parse(r.stdout);
    const task = out.tasks[0];
    if (task.status === 'succeeded') {
      // a real sandbox enforced the profile here
      expect(task.output.stdout).toBe('hi\n');
      expect(task.output.rung).not.toBe('none');
    } else {
      expect(task.status).toBe('denied');
      expect(task.error.message).toMatch(/cannot be enforced/);
      expect(
        auditLines().some(
          (l) => l.task_id === 'x' && l.operation === 'process_spawn' && l.decision === 'denied',
        ),
      ).toBe(true);
    }
  });

  it('human output: one row per task, merged output, the run status', () => {
    const p = plan(
      'p.yaml',
      'tasks:\n  - { id: hello, agent: command, input: { argv: [echo, hello] } }\nmerge: { strategy: first-success }\n',
    );
    const r = run([p, '--allow-degraded']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^plan: 1 tasks, parallel, fail-fast, max 4 concurrent, profile offline\n✓ hello\s+command\s+succeeded\s+[\d.]+ s\n--- merged \(first-success: hello\)\nhello\nrun succeeded in [\d.]+ s/,
    );
  });

  it('progress: the header first on stdout, then a line on stderr as each task starts and ends', () => {
    const p = plan(
      'p.yaml',
      'name: demo\ntasks:\n  - { id: first, agent: command, input: { argv: [sleep, "0.2"] } }\n  - { id: second, agent: command, input: { argv: [echo, two] }, dependsOn: [first] }\n',
    );
    const r = run([p, '--allow-degraded']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      'demo: 2 tasks, parallel, fail-fast, max 4 concurrent, profile offline',
    );
    const progress = r.stderr.split('\n').filter((l) => /^[▸✓✗]/.test(l));
    expect(progress).toEqual([
      '▸ first started',
      expect.stringMatching(/^✓ first succeeded in [\d.]+ s$/),
      '▸ second started',
      expect.stringMatching(/^✓ second succeeded in [\d.]+ s$/),
    ]);
    expect(r.stderr).not.toMatch(/\u001b\[/); // not a terminal: no colour
    // --json: stdout is the JSON report only, and no progress lines
    const json = run([p, '--allow-degraded', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'succeeded' });
    expect(json.stderr).not.toMatch(/started|succeeded in/);
  });

  it('--log writes pino JSON lines carrying task_id, agent, profile and decision', () => {
    const p = plan('p.json', {
      failure: 'skip-dependents',
      tasks: [
        { id: 'ok', agent: 'command', input: { argv: ['echo', 'fine'] } },
        { id: 'net', agent: 'command', input: { argv: ['curl', 'http://127.0.0.1:9/'] } },
      ],
    });
    const r = run([p, '--allow-degraded', '--log', 'run.log']);
    expect(r.status).toBe(1);
    const lines = readFileSync(join(work, 'run.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = lines
      .filter((l) => 'decision' in l)
      .map((l) => [l.task_id, l.agent, l.profile, l.decision]);
    expect(decisions).toEqual(
      expect.arrayContaining([
        ['ok', 'ok', 'offline', 'allowed'],
        ['net', 'net', 'offline', 'requires_approval'],
      ]),
    );
    const ends = lines.filter((l) => l.event === 'task_end').map((l) => [l.task_id, l.status]);
    expect(ends).toEqual(
      expect.arrayContaining([
        ['ok', 'succeeded'],
        ['net', 'denied'],
      ]),
    );
  });

  it('per-task timeout kills the command; --max-concurrent caps how many run at once', () => {
    const p = plan('p.json', {
      failure: 'skip-dependents',
      tasks: [
        { id: 'slow', agent: 'command', input: { argv: ['sleep', '30'] }, timeoutMs: 1500 },
        ...[1, 2, 3, 4].map((i) => ({
          id: `quick${i}`,
          agent: 'command',
          input: { argv: ['sleep', '0.2'] },
        })),
      ],
    });
    const r = run([p, '--json', '--allow-degraded', '--max-concurrent', '2']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.maxConcurrent).toBe(2);
    expect(out.peakConcurrency).toBe(2);
    expect(out.tasks[0]).toMatchObject({
      status: 'timed-out',
      error: { code: 'TASK_TIMEOUT', timeoutMs: 1500 },
    });
    expect(out.tasks.slice(1).map((t: { status: string }) => t.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    // codex has exited, and so has every process it started (none is left behind as an orphan)
    const orphans = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u000030\u0000';
        } catch {
          return false;
        }
      })
      .filter((pid) => alive(Number(pid)));
    expect(orphans).toEqual([]);
  }, 60_000);

  it('SIGINT cancels the run: exit 130, and no process of any task is left running', async () => {
    const p = plan('p.json', {
      tasks: [1, 2, 3].map((i) => ({
        id: `sleep${i}`,
        agent: 'command',
        input: { argv: ['sleep', `${60 + i}`] },
      })),
    });
    const child = spawn(
      process.execPath,
      [BIN, 'supervise', p, '--allow-degraded', '--max-concurrent', '2'],
      {
        cwd: work,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CODEX_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const sleeps = () => descendants(child.pid as number).filter((pid) => comm(pid) === 'sleep');
    await waitFor(() => sleeps().length === 2, 60_000, 'two sleeping tasks');
    const pids = sleeps();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await waitFor(() => pids.every((pid) => !alive(pid)), 10_000, 'task processes to exit');
    expect(stdout).toMatch(/run cancelled/);
    expect(stdout).toMatch(/sleep3\s+command\s+cancelled/);
  }, 90_000);
});

describe('codex supervise: plugin, research and mcp agents', () => {
  let plugins: string;
  beforeAll(() => {
    plugins = mkdtempSync(join(tmpdir(), 'codex-supervise-plugins-'));
    if (!MISSING_PLUGIN_TOOLS) execFileSync('node', [BUILD_PLUGINS, plugins], { stdio: 'ignore' });
  }, 180_000);
  afterAll(() => rmSync(plugins, { recursive: true, force: true }));

  it.skipIf(MISSING_PLUGIN_TOOLS)(
    'plugin agent: runs WASM plugins; a runaway plugin fails on its limit, the other succeeds',
    () => {
      const p = plan('p.json', {
        failure: 'skip-dependents',
        tasks: [
          {
            id: 'fmt',
            agent: 'plugin',
            input: { plugin: join(plugins, 'json-format.wasm'), input: '{"b":[1,2]}' },
          },
          {
            id: 'spin',
            agent: 'plugin',
            input: { plugin: join(plugins, 'infinite-loop.wasm'), limits: { timeoutMs: 2000 } },
          },
        ],
      });
      const r = run([p, '--json']);
      expect(r.status).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out.tasks[0]).toMatchObject({
        status: 'succeeded',
        output: { exitCode: 0, stdout: '{\n  "b": [\n    1,\n    2\n  ]\n}\n' },
      });
      expect(out.tasks[1].status).toBe('failed');
      expect(out.tasks[1].error.code).toMatch(/FUEL_EXHAUSTED|TIMEOUT/);
      const audit = auditLines().filter((l) => l.operation === 'plugin_run');
      expect(audit.some((l) => l.task_id === 'fmt' && l.decision === 'allowed')).toBe(true);
      expect(audit.some((l) => l.task_id === 'spin' && l.decision === 'denied')).toBe(true);
    },
    120_000,
  );

  it('research agent: researches a local corpus; highest-score picks the report with most sources', () => {
    const corpus = join(work, 'corpus');
    mkdirSync(corpus);
    writeFileSync(
      join(corpus, 'mailbox.md'),
      '# Bounded mailboxes\n\nA bounded mailbox applies backpressure: when the mailbox is full the producer blocks, or the oldest message is dropped, or the new message is rejected. Bounded mailboxes keep memory use predictable under load.\n',
    );
    writeFileSync(
      join(corpus, 'semaphore.md'),
      '# Semaphores\n\nA counting semaphore caps how many agents work at once. Each agent acquires a permit before working and releases it afterwards, so concurrency never exceeds the cap.\n',
    );
    writeFileSync(
      join(corpus, 'unrelated.md'),
      '# Gardening\n\nTomatoes need sun, water and patience; prune the side shoots every week during the summer.\n',
    );
    const p = plan('p.json', {
      tasks: [
        {
          id: 'wide',
          agent: 'research',
          input: {
            question: 'how does a bounded mailbox apply backpressure?',
            corpus: 'corpus',
            maxSources: 3,
          },
        },
        {
          id: 'narrow',
          agent: 'research',
          input: {
            question: 'how does a bounded mailbox apply backpressure?',
            corpus: 'corpus',
            maxSources: 1,
          },
        },
      ],
      merge: { strategy: 'highest-score' },
    });
    const r = run([p, '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tasks.map((t: { status: string }) => t.status)).toEqual(['succeeded', 'succeeded']);
    expect(out.tasks[0].output).toMatch(/mailbox/i);
    expect(out.tasks[1].score).toBeLessThanOrEqual(1);
    expect(out.tasks[0].score).toBeGreaterThanOrEqual(out.tasks[1].score);
    // the higher score wins; on a tie the first task in order does, and the tie is reported
    expect(out.merged.source).toBe(out.tasks[0].score >= out.tasks[1].score ? 'wide' : 'narrow');
    if (out.tasks[0].score === out.tasks[1].score) expect(out.merged.tied).toEqual(['narrow']);
  }, 60_000);

  it('mcp agent: a tool call goes through the permission proxy: read allowed, write denied under offline, both audited', () => {
    const mcpRequire = createRequire(
      new URL('../../../packages/mcp-permission/package.json', import.meta.url),
    );
    const filesystem = mcpRequire.resolve('@modelcontextprotocol/server-filesystem/dist/index.js');
    writeFileSync(join(work, 'note.txt'), 'hello from the workspace\n');
    const server = [process.execPath, filesystem, work];
    const p = plan('p.json', {
      failure: 'skip-dependents',
      tasks: [
        {
          id: 'read',
          agent: 'mcp',
          input: { server, name: 'fs', tool: 'read_text_file', arguments: { path: join(work, 'note.txt') } },
        },
        {
          id: 'write',
          agent: 'mcp',
          input: {
            server,
            name: 'fs',
            tool: 'write_file',
            arguments: { path: join(work, 'evil.txt'), content: 'x' },
          },
        },
      ],
    });
    const r = run([p, '--json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.tasks[0]).toMatchObject({ status: 'succeeded', output: 'hello from the workspace\n' });
    expect(out.tasks[1]).toMatchObject({ status: 'denied', error: { code: 'TASK_DENIED' } });
    expect(existsSync(join(work, 'evil.txt'))).toBe(false);
    const calls = auditLines().filter((l) => l.operation === 'mcp_tool_call');
    expect(calls.map((l) => [l.target, l.decision])).toEqual(
      expect.arrayContaining([
        ['fs/read_text_file', 'allowed'],
        ['fs/write_file', 'denied'],
      ]),
    );
  }, 60_000);
});

describe('codex supervise: OTLP metrics', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  it('exports the five metrics to the OTLP receiver in OTEL_EXPORTER_OTLP_ENDPOINT (loopback)', async () => {
    const bodies: {
      url: string;
      body: {
        resourceMetrics: {
          scopeMetrics: {
            metrics: {
              name: string;
              sum?: {
                dataPoints: {
                  attributes: { key: string; value: { stringValue?: string } }[];
                  asDouble?: number;
                  asInt?: string | number;
                }[];
              };
            }[];
          }[];
        }[];
      };
    }[] = [];
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => {
        text += c.toString();
      });
      req.on('end', () => {
        bodies.push({ url: req.url ?? '', body: JSON.parse(text) });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const p = plan('p.json', {
      failure: 'skip-dependents',
      tasks: [
        { id: 'ok', agent: 'command', input: { argv: ['echo', 'ok'] } },
        { id: 'net', agent: 'command', input: { argv: ['curl', 'http://127.0.0.1:9/'] } },
      ],
    });
    const child = spawn(process.execPath, [BIN, 'supervise', p, '--allow-degraded'], {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CODEX_HOME: home,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      },
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    expect(bodies[0]?.url).toBe('/v1/metrics');
    const metrics = new Map(
      bodies.flatMap((b) =>
        b.body.resourceMetrics.flatMap((rm) =>
          rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => [m.name, m] as const)),
        ),
      ),
    );
    expect([...metrics.keys()].sort()).toEqual([
      'codex.supervisor.agents.active',
      'codex.supervisor.denials',
      'codex.supervisor.errors',
      'codex.supervisor.task.duration',
      'codex.supervisor.tasks',
    ]);
    const statuses = metrics
      .get('codex.supervisor.tasks')
      ?.sum?.dataPoints.map((d) => d.attributes.find((a) => a.key === 'status')?.value.stringValue)
      .sort();
    expect(statuses).toEqual(['denied', 'succeeded']);
    expect(metrics.get('codex.supervisor.denials')?.sum?.dataPoints.length).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
