/**
 * Differential oracle (Linux only): runs scripts the engine allowed with real bash under
 * `strace -f`, inside a bubblewrap sandbox whose only writable place is a throwaway directory,
 * and checks what bash really did against what the engine saw:
 *  - every program that was executed (successful execve) is the command of a segment the engine
 *    allowed (after unwrapping env/xargs/timeout/…);
 *  - no file outside the profile's writable roots was opened for writing, created, renamed,
 *    removed, linked, truncated or had its mode/times changed (attempts count: the sandbox makes
 *    them fail, strace still records them);
 *  - the fake credential file `~/.ssh/id_rsa` was not opened.
 * Many cases run in one sandbox (one bash per case, tagged by its `$0`), so the cost is one
 * bwrap + strace start per batch.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { isWritable, type SandboxPolicy, toSandboxPolicy } from '@codex/security-profile';
import type { EvaluationContext, PolicyEngine, SegmentEvaluation } from '../src/index.js';

export interface OracleCase {
  readonly id: number;
  readonly script: string;
}

export interface Counterexample {
  readonly script: string;
  readonly problems: readonly string[];
}

export function oracleTools(): { ok: boolean; missing: string[] } {
  const missing = ['bash', 'strace', 'bwrap'].filter(
    (t) => spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).status !== 0,
  );
  if (process.platform !== 'linux') missing.push('linux');
  if (missing.length === 0) {
    // bwrap may exist without user namespaces; strace may be blocked by a seccomp profile.
    const probe = spawnSync(
      'bwrap',
      [...BWRAP_BASE, 'strace', '-f', '-qq', '-e', 'trace=execve', '-o', '/dev/null', 'true'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );
    if (probe.status !== 0) missing.push(`bwrap+strace (${(probe.stderr || '').trim().split('\n')[0]})`);
  }
  return { ok: missing.length === 0, missing };
}

const BWRAP_BASE = [
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '--tmpfs',
  '/tmp',
  '--unshare-net',
  '--unshare-pid',
  '--unshare-ipc',
  '--die-with-parent',
];

const TRACED = [
  'execve',
  'execveat',
  'open',
  'openat',
  'openat2',
  'creat',
  'rename',
  'renameat',
  'renameat2',
  'unlink',
  'unlinkat',
  'rmdir',
  'mkdir',
  'mkdirat',
  'link',
  'linkat',
  'symlink',
  'symlinkat',
  'truncate',
  'chmod',
  'fchmodat',
  'chown',
  'lchown',
  'fchownat',
  'utimensat',
  'mknodat',
  'clone',
  'clone3',
  'fork',
  'vfork',
];

/** Programs that a tool runs by itself as part of its documented job (xargs without a command runs echo). */
const IMPLIED: Record<string, readonly string[]> = { zcat: ['gzip'], xargs: ['echo'] };
const WRAPPER_NAMES = new Set([
  'env',
  'time',
  'nohup',
  'command',
  'builtin',
  'exec',
  'nice',
  'stdbuf',
  'timeout',
  'xargs',
]);
const SAFE_WRITE =
  /^\/dev\/(null|tty|stdout|stderr|stdin|fd\/\d+|full|zero|random|urandom|pts\/\d+)$|^\/proc\/self\/fd\/|^pipe:|^socket:/;

/** The program names the engine saw in allowed segments (wrapped commands included). */
function seenPrograms(segments: readonly SegmentEvaluation[]): Set<string> {
  const names = new Set<string>();
  for (const s of segments) {
    if (s.decision !== 'allow' || s.argv.length === 0) continue;
    const base = (w: string) => w.slice(w.lastIndexOf('/') + 1);
    const first = base(s.argv[0]!);
    names.add(first);
    for (const implied of IMPLIED[first] ?? []) names.add(implied);
    if (WRAPPER_NAMES.has(first)) {
      for (const w of s.argv.slice(1)) {
        if (!w.startsWith('-') && !w.includes('=')) {
          names.add(base(w));
          for (const implied of IMPLIED[base(w)] ?? []) names.add(implied);
        }
      }
    }
  }
  return names;
}

interface Event {
  readonly pid: number;
  readonly call: string;
  readonly args: string;
  readonly result: string;
}

/** Reads strace output, joining `<unfinished ...>` / `<... resumed>` pairs. */
function parseStrace(text: string): Event[] {
  const events: Event[] = [];
  const pending = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    let body = m[2]!;
    if (body.startsWith('+++') || body.startsWith('---')) continue;
    if (body.endsWith('<unfinished ...>')) {
      pending.set(pid, body.slice(0, -'<unfinished ...>'.length));
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(body);
    if (resumed) {
      body = (pending.get(pid) ?? '') + resumed[1]!;
      pending.delete(pid);
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/s.exec(body);
    if (call) events.push({ pid, call: call[1]!, args: call[2]!, result: call[3]! });
  }
  return events;
}

/** Splits strace arguments at top-level commas, decoding C strings. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (inStr) {
      cur += c;
      if (c === '\\') cur += args[++i] ?? '';
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{' || c === '(' || c === '<') depth++;
    else if (c === ']' || c === '}' || c === ')' || c === '>') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function cString(token: string): string | undefined {
  const m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/s.exec(token);
  if (!m) return undefined;
  return m[1]!.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[e] ?? e;
  });
}

/** `AT_FDCWD</dir>` or `3</dir>` (strace -y) → `/dir`. */
function fdPath(token: string): string | undefined {
  const m = /<([^>]*)>$/.exec(token);
  return m ? m[1] : undefined;
}

function resolveAt(dirToken: string | undefined, pathToken: string): string | undefined {
  const p = cString(pathToken);
  if (p === undefined) return undefined;
  if (p.startsWith('/')) return posix.normalize(p);
  const dir = dirToken ? fdPath(dirToken) : undefined;
  if (dir === undefined) return undefined;
  return posix.normalize(`${dir}/${p}`);
}

const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;

/** The written paths of one event (undefined entries: a path the oracle could not resolve). */
function writesOf(e: Event, cwdOf: (pid: number) => string | undefined): (string | undefined)[] {
  const a = splitArgs(e.args);
  const cwd = `AT_FDCWD<${cwdOf(e.pid) ?? ''}>`;
  switch (e.call) {
    case 'open':
      return WRITE_FLAGS.test(a[1] ?? '') ? [resolveAt(cwd, a[0]!)] : [];
    case 'openat':
    case 'openat2':
      return WRITE_FLAGS.test(a[2] ?? '') ? [resolveAt(a[0], a[1]!)] : [];
    case 'creat':
    case 'unlink':
    case 'rmdir':
    case 'mkdir':
    case 'truncate':
    case 'chmod':
    case 'chown':
    case 'lchown':
      return [resolveAt(cwd, a[0]!)];
    case 'unlinkat':
    case 'mkdirat':
    case 'fchmodat':
    case 'fchownat':
    case 'mknodat':
      return [resolveAt(a[0], a[1]!)];
    case 'utimensat':
      return a[1] === 'NULL' ? [fdPath(a[0]!)] : [resolveAt(a[0], a[1]!)];
    case 'rename':
    case 'link':
      return [resolveAt(cwd, a[0]!), resolveAt(cwd, a[1]!)];
    case 'symlink':
      return [resolveAt(cwd, a[1]!)];
    case 'renameat':
    case 'renameat2':
    case 'linkat':
      return [resolveAt(a[0], a[1]!), resolveAt(a[2], a[3]!)];
    case 'symlinkat':
      return [resolveAt(a[1], a[2]!)];
    default:
      return [];
  }
}

export interface OracleOptions {
  readonly profile: string;
  /** Per-case timeout inside the sandbox, seconds. */
  readonly timeout?: number;
  readonly batchSize?: number;
  readonly parallel?: number;
}

export interface OracleReport {
  readonly evaluated: number;
  readonly allowed: number;
  readonly ran: number;
  readonly counterexamples: Counterexample[];
}

/** Files every case directory starts with (the generator refers to them). */
export const FIXTURE: Record<string, string> = {
  'proj/a.txt': 'alpha\nbeta\nalpha\n',
  'proj/sub/b.txt': 'x=1\n',
  'proj/rc': '--pre=uptime\n',
  'proj/script.sh': 'uptime\n',
  'home/.ssh/id_rsa': 'PRIVATE\n',
  'home/.bashrc': '',
  'home/.gitconfig': '[core]\n\tpager = uptime\n',
};

/**
 * Evaluates every case under `profile` and runs the allowed ones for real. Returns the
 * counterexamples: allowed scripts that executed an unseen program or wrote outside the roots.
 */
export async function runOracle(
  engine: PolicyEngine,
  cases: readonly OracleCase[],
  options: OracleOptions,
): Promise<OracleReport> {
  const root = mkdtempSync(join(tmpdir(), 'execpolicy-oracle-'));
  try {
    const allowed: { c: OracleCase; dir: string; seen: Set<string>; roots: SandboxPolicy }[] = [];
    for (const c of cases) {
      const dir = join(root, `c${c.id}`);
      const context: EvaluationContext = {
        profile: options.profile,
        cwd: `${dir}/proj`,
        workspaceRoots: [`${dir}/proj`],
        home: `${dir}/home`,
        platform: 'linux',
      };
      const r = engine.evaluate({ script: c.script }, context);
      if (r.decision !== 'allow') continue;
      allowed.push({
        c,
        dir,
        seen: seenPrograms(r.segments),
        roots: toSandboxPolicy(r.profile, { workspaceRoots: [`${dir}/proj`] }),
      });
    }
    const batchSize = options.batchSize ?? 100;
    const batches: (typeof allowed)[] = [];
    for (let i = 0; i < allowed.length; i += batchSize) batches.push(allowed.slice(i, i + batchSize));
    const counterexamples: Counterexample[] = [];
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        counterexamples.push(...(await runBatch(root, batch, options.timeout ?? 5)));
      }
    };
    await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));
    return { evaluated: cases.length, allowed: allowed.length, ran: allowed.length, counterexamples };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function runBatch(
  root: string,
  batch: readonly { c: OracleCase; dir: string; seen: Set<string>; roots: SandboxPolicy }[],
  timeout: number,
): Promise<Counterexample[]> {
  const bdir = mkdtempSync(join(root, 'batch-'));
  for (const { c, dir } of batch) {
    for (const [file, content] of Object.entries(FIXTURE)) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), content);
    }
    writeFileSync(join(dir, 'script'), c.script);
  }
  // The driver runs each case in its own directory with its own HOME, tagged by $0 = case-<id>.
  const driver = [
    'for d in "$@"; do',
    '  S=$(<"$d/script")',
    '  ( cd "$d/proj" && HOME="$d/home" exec timeout -s KILL ' +
      `${timeout} bash -c "$S" "case-\${d##*/c}" ) </dev/null >/dev/null 2>&1`,
    'done',
    'exit 0',
  ].join('\n');
  writeFileSync(join(bdir, 'driver.sh'), driver);
  const log = join(bdir, 'strace.log');
  const args = [
    ...BWRAP_BASE,
    '--bind',
    root,
    root,
    'strace',
    '-f',
    '-qq',
    '-y',
    '-s',
    '65536',
    '--seccomp-bpf',
    '-e',
    `trace=${TRACED.join(',')}`,
    '-o',
    log,
    'bash',
    '--norc',
    '--noprofile',
    join(bdir, 'driver.sh'),
    ...batch.map((b) => b.dir),
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bwrap', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (timeout + 2) * batch.length * 1000 + 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`oracle sandbox exited with ${code}: ${stderr.trim()}`));
    });
  });
  const events = parseStrace(readFileSync(log, 'utf8'));
  // Case of each pid: the bash tagged `case-<id>`, then every descendant (clone results).
  const caseOf = new Map<number, number>();
  const parent = new Map<number, number>();
  const cwd = new Map<number, string>();
  for (const e of events) {
    if (
      (e.call === 'clone' || e.call === 'clone3' || e.call === 'fork' || e.call === 'vfork') &&
      /^\d+/.test(e.result)
    )
      parent.set(Number.parseInt(e.result, 10), e.pid);
    const at = /^AT_FDCWD<([^>]*)>/.exec(e.args);
    if (at) cwd.set(e.pid, at[1]!);
  }
  for (const e of events) {
    if (e.call !== 'execve' || e.result !== '0') continue;
    const tag = /"case-(\d+)"\]/.exec(e.args);
    if (tag && /^"\/usr\/bin\/bash"|^"\/bin\/bash"/.test(e.args)) caseOf.set(e.pid, Number(tag[1]));
  }
  const owner = (pid: number): number | undefined => {
    for (let p: number | undefined = pid, guard = 0; p !== undefined && guard < 10_000; guard++) {
      const c = caseOf.get(p);
      if (c !== undefined) return c;
      p = parent.get(p);
    }
    return undefined;
  };
  const byId = new Map(batch.map((b) => [b.c.id, b]));
  const problems = new Map<number, string[]>();
  const add = (id: number, problem: string) => {
    const list = problems.get(id) ?? [];
    if (!list.includes(problem)) list.push(problem);
    problems.set(id, list);
  };
  const tagged = new Set<number>();
  for (const e of events) {
    const id = owner(e.pid);
    if (id === undefined) continue;
    const b = byId.get(id);
    if (!b) continue;
    if (e.call === 'execve' || e.call === 'execveat') {
      if (e.result !== '0') continue;
      if (caseOf.get(e.pid) === id && !tagged.has(e.pid)) {
        tagged.add(e.pid); // the case's own bash
        continue;
      }
      const path = cString(splitArgs(e.args)[0] ?? '') ?? '?';
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (!b.seen.has(name)) add(id, `executed ${path}, which the engine did not allow as a command`);
      continue;
    }
    if (e.call === 'open' || e.call === 'openat' || e.call === 'openat2') {
      // Reading the fake ~/.ssh/id_rsa is a credential read the engine must have asked about.
      const a = splitArgs(e.args);
      const opened =
        e.call === 'open' ? resolveAt(`AT_FDCWD<${cwd.get(e.pid) ?? ''}>`, a[0]!) : resolveAt(a[0], a[1]!);
      if (opened?.startsWith(`${b.dir}/home/.ssh/`)) add(id, `${e.call} opens ${opened}, a credential file`);
    }
    for (const path of writesOf(e, (pid) => cwd.get(pid))) {
      if (path === undefined) {
        add(id, `${e.call}(${e.args.slice(0, 120)}) writes a path the oracle could not resolve`);
        continue;
      }
      if (SAFE_WRITE.test(path)) continue;
      if (isWritable(b.roots, path)) continue;
      add(id, `${e.call} writes ${path}, outside the writable roots`);
    }
  }
  rmSync(bdir, { recursive: true, force: true });
  return [...problems].map(([id, list]) => ({ script: byId.get(id)!.c.script, problems: list }));
}
