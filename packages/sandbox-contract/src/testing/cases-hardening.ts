// Escape cases from the issue-16 red-team findings (run as root, the agents' CI/dev-container
// setting). Each is a real attack with an unsandboxed control that must succeed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { SecurityProfile } from '@codex/security-profile';
import type { Assessment, SandboxResult } from '../contract.js';
import type { EscapeCase, EscapeContext } from './cases.js';

const ALL: SecurityProfile[] = ['offline', 'workspace-write', 'net-read-only', 'workspace-net'];
const WS: SecurityProfile[] = ['workspace-write', 'workspace-net'];
const has = (a: Assessment, m: string) => a.mechanisms.includes(m);
const by = (a: Assessment, g: keyof Assessment['enforced']) => (a.enforced[g]?.length ?? 0) > 0;
const sandboxed = (a: Assessment) => a.mechanisms.some((m) => m !== 'cgroup-pids');
const escapedWord = (r: SandboxResult) => /^ESCAPED/m.test(r.stdout);
const contains = (p: string, marker: string) => existsSync(p) && readFileSync(p, 'utf8').includes(marker);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'pipe' });
// Per-case state, keyed by the world's marker.
const unix = new Map<string, { server: Server; hits: number }>();
const shm = new Map<string, string>();
function unixListener(marker: string, path: string): void {
  rmSync(path, { force: true });
  const entry = {
    server: createServer((s) => {
      entry.hits++;
      s.on('error', () => {});
      s.end();
    }),
    hits: 0,
  };
  entry.server.listen(path);
  unix.set(marker, entry);
}
function unixHits(marker: string, path: string): number {
  const e = unix.get(marker);
  unix.delete(marker);
  e?.server.close();
  rmSync(path, { force: true });
  return e?.hits ?? 0;
}

/** Commits are possible where a mount (bwrap, the helper's namespace) protects git's code-running parts. */
const canCommit = (a: Assessment) => has(a, 'bwrap') || has(a, 'helper-ns');

function filterCase(id: string, op: string, args: (c: EscapeContext) => string[] = () => []): EscapeCase {
  return {
    id,
    category: 'process',
    profiles: ['offline', 'workspace-write'],
    backends: ['linux'],
    enforced: (a) => has(a, 'seccomp'),
    command: (c) => [c.probes.probe, op, ...args(c)],
    escaped: (_c, r) => escapedWord(r),
    control: isRoot,
  };
}

function gitWrite(
  id: string,
  setup: ((c: EscapeContext) => void) | undefined,
  script: (c: EscapeContext) => string,
  check: (c: EscapeContext) => boolean,
): EscapeCase {
  return {
    id,
    category: 'protected-paths',
    profiles: WS,
    enforced: (a) => by(a, 'protected-paths'),
    ...(setup ? { setup } : {}),
    command: (c) => ['sh', '-c', script(c)],
    escaped: (c) => check(c),
  };
}

// Linux-only for now: these were never checked against Seatbelt, whose profile does not follow
// the Linux git layout.
const HARDENING: readonly EscapeCase[] = [
  // ------------------------------------------------------------ capabilities (finding 1)
  {
    id: 'capabilities: all five sets are zero inside (CapInh/CapPrm/CapEff/CapBnd/CapAmb)',
    category: 'process',
    profiles: ALL,
    backends: ['linux'],
    enforced: sandboxed,
    command: (c) => [c.probes.probe, 'caps'],
    escaped: (_c, r) => escapedWord(r),
    control: isRoot,
  },
  // ------------------------------------------------------------ secrets (finding 2)
  {
    id: 'read a private key on the deny-read list',
    category: 'filesystem',
    profiles: ALL,
    enforced: (a) => by(a, 'secrets'),
    command: (c) => ['cat', join(c.world.secrets, 'id_ed25519')],
    escaped: (c, r) => r.stdout.includes(c.world.marker),
  },
  {
    id: 'read a secret file on the deny-read list (~/.netrc style)',
    category: 'filesystem',
    profiles: ALL,
    enforced: (a) => by(a, 'secrets'),
    command: (c) => ['cat', c.world.secretFile],
    escaped: (c, r) => r.stdout.includes(c.world.marker),
  },
  {
    id: 'exfiltrate a private key over loopback (workspace-net)',
    category: 'network',
    profiles: ['workspace-net'],
    needs: ['curl'],
    enforced: (a) => by(a, 'secrets'),
    command: (c) => [
      'sh',
      '-c',
      `cat ${join(c.world.secrets, 'id_ed25519')} | curl -s -m 3 --data-binary @- http://127.0.0.1:${c.net.tcpPort}/ ; cat ${join(c.world.secrets, 'id_ed25519')}`,
    ],
    escaped: (c, r) => r.stdout.includes(c.world.marker),
  },
  // ------------------------------------------------------------ host sockets (finding: tmux ran a command)
  {
    id: 'a tmux server socket under /tmp runs a command on the host',
    category: 'process',
    profiles: ALL,
    needs: ['tmux'],
    enforced: (a) => by(a, 'host-sockets'),
    setup: (c) => {
      execFileSync('tmux', ['-S', `/tmp/codex-esc-tmux-${c.world.marker}`, 'new-session', '-d', 'sleep 60']);
    },
    command: (c) => [
      'tmux',
      '-S',
      `/tmp/codex-esc-tmux-${c.world.marker}`,
      'run-shell',
      `echo ${c.world.marker} > ${join(c.world.outside, 'tmux-pwned')}`,
    ],
    escaped: (c) => {
      const hit = contains(join(c.world.outside, 'tmux-pwned'), c.world.marker);
      spawnSync('tmux', ['-S', `/tmp/codex-esc-tmux-${c.world.marker}`, 'kill-server']);
      rmSync(`/tmp/codex-esc-tmux-${c.world.marker}`, { force: true });
      return hit;
    },
  },
  {
    id: 'a host service socket under /run accepts a connection',
    category: 'process',
    profiles: ALL,
    needs: ['python3'],
    enforced: (a) => by(a, 'host-sockets'),
    setup: (c) => unixListener(c.world.marker, `/run/codex-esc-${c.world.marker}.sock`),
    command: (c) => [
      'python3',
      '-c',
      `import socket; s=socket.socket(socket.AF_UNIX); s.connect('/run/codex-esc-${c.world.marker}.sock'); s.sendall(b'x')`,
    ],
    escaped: (c) => unixHits(c.world.marker, `/run/codex-esc-${c.world.marker}.sock`) > 0,
  },
  // ------------------------------------------------------------ landlock-seccomp rung findings
  filterCase('ioctl(TIOCSTI) keystroke injection', 'tiocsti'),
  filterCase('ioctl(TIOCLINUX)', 'tioclinux'),
  filterCase('prlimit on a process outside', 'prlimit', (c) => [String(c.victim.pid)]),
  filterCase('fanotify_init (watch host files)', 'fanotify'),
  filterCase('sethostname', 'sethostname'),
  filterCase('setdomainname', 'setdomainname'),
  filterCase('syslog (kernel log / console level)', 'syslog'),
  {
    id: 'mknod a block device in the workspace',
    category: 'process',
    profiles: WS,
    backends: ['linux'],
    enforced: (a) => has(a, 'seccomp') || has(a, 'bwrap'),
    command: (c) => [c.probes.probe, 'mknod', join(c.world.ws, 'src', 'blk')],
    escaped: (_c, r) => escapedWord(r),
    control: isRoot,
    undoControl: (c) => rmSync(join(c.world.ws, 'src', 'blk'), { force: true }),
  },
  {
    id: 'write a host SysV shared-memory segment',
    category: 'process',
    profiles: ['offline', 'workspace-write'],
    needs: ['ipcmk', 'ipcrm'],
    backends: ['linux'],
    enforced: (a) => has(a, 'bwrap') || has(a, 'helper-ns'),
    setup: (c) => {
      const out = execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' });
      shm.set(c.world.marker, /(\d+)\s*$/.exec(out.trim())?.[1] ?? '');
    },
    command: (c) => [c.probes.probe, 'shm', shm.get(c.world.marker) ?? '', c.world.marker],
    escaped: (c, r) => {
      spawnSync('ipcrm', ['-m', shm.get(c.world.marker) ?? '']);
      shm.delete(c.world.marker);
      return escapedWord(r);
    },
  },
  {
    id: 'chmod 777 a file outside the workspace (metadata)',
    category: 'filesystem',
    profiles: WS,
    enforced: (a) => by(a, 'metadata'),
    command: (c) => ['chmod', '777', join(c.world.outside, 'victim.txt')],
    escaped: (c) => {
      const mode = execFileSync('stat', ['-c', '%a', join(c.world.outside, 'victim.txt')], {
        encoding: 'utf8',
      });
      return mode.trim() === '777';
    },
  },
  // ------------------------------------------------------------ git (finding: commit + escapes)
  gitWrite(
    'set core.fsmonitor in .git/config',
    undefined,
    (c) => `git -C ${c.world.ws} config core.fsmonitor "./evil-${c.world.marker}"`,
    (c) => contains(join(c.world.ws, '.git', 'config'), c.world.marker),
  ),
  gitWrite(
    'add a filter driver in .git/config',
    undefined,
    (c) => `git -C ${c.world.ws} config filter.x.clean "sh -c touch-${c.world.marker}"`,
    (c) => contains(join(c.world.ws, '.git', 'config'), c.world.marker),
  ),
  gitWrite(
    'select the filter with .git/info/attributes',
    undefined,
    (c) =>
      `mkdir -p ${c.world.ws}/.git/info; echo "* filter=x # ${c.world.marker}" >> ${c.world.ws}/.git/info/attributes`,
    (c) => contains(join(c.world.ws, '.git', 'info', 'attributes'), c.world.marker),
  ),
  gitWrite(
    'write a config file pulled in with include.path',
    (c) => {
      writeFileSync(join(c.world.ws, 'inc.cfg'), '[core]\n\tautocrlf = false\n');
      git(c.world.ws, 'config', 'include.path', '../inc.cfg');
    },
    (c) => `printf '[core]\\n\\tfsmonitor = ./evil-${c.world.marker}\\n' >> ${c.world.ws}/inc.cfg`,
    (c) => contains(join(c.world.ws, 'inc.cfg'), c.world.marker),
  ),
  gitWrite(
    'write a hook in a hooksPath given with a trailing comment',
    (c) => {
      mkdirSync(join(c.world.ws, 'tools', 'githooks'), { recursive: true });
      writeFileSync(
        join(c.world.ws, '.git', 'config'),
        `${readFileSync(join(c.world.ws, '.git', 'config'), 'utf8')}[core]\n\thooksPath = tools/githooks ; shared hooks\n`,
      );
    },
    (c) => `printf '#!/bin/sh\\n# ${c.world.marker}\\n' > ${c.world.ws}/tools/githooks/pre-commit`,
    (c) => contains(join(c.world.ws, 'tools', 'githooks', 'pre-commit'), c.world.marker),
  ),
  gitWrite(
    "point a submodule's .git file at a new git directory",
    (c) => {
      mkdirSync(join(c.world.ws, 'sub'));
      mkdirSync(join(c.world.ws, '.git', 'modules', 'sub'), { recursive: true });
      writeFileSync(join(c.world.ws, 'sub', '.git'), 'gitdir: ../.git/modules/sub\n');
      writeFileSync(join(c.world.ws, '.gitmodules'), '[submodule "sub"]\n\tpath = sub\n\turl = ./sub\n');
    },
    (c) => `echo "gitdir: ../evilgit-${c.world.marker}" > ${c.world.ws}/sub/.git`,
    (c) => contains(join(c.world.ws, 'sub', '.git'), c.world.marker),
  ),
  gitWrite(
    'create .codex/ in a workspace that has none',
    (c) => rmSync(join(c.world.ws, '.codex'), { recursive: true, force: true }),
    (c) => `mkdir -p ${c.world.ws}/.codex && echo ${c.world.marker} > ${c.world.ws}/.codex/config.toml`,
    (c) => contains(join(c.world.ws, '.codex', 'config.toml'), c.world.marker),
  ),
  gitWrite(
    'create .git/hooks when the repository has none',
    (c) => rmSync(join(c.world.ws, '.git', 'hooks'), { recursive: true, force: true }),
    (c) =>
      `mkdir -p ${c.world.ws}/.git/hooks && printf '#!/bin/sh\\n# ${c.world.marker}\\n' > ${c.world.ws}/.git/hooks/pre-commit`,
    (c) => contains(join(c.world.ws, '.git', 'hooks', 'pre-commit'), c.world.marker),
  ),
  gitWrite(
    'redirect git with a new .git/commondir',
    undefined,
    (c) => `echo ../evil-${c.world.marker} > ${c.world.ws}/.git/commondir`,
    (c) => contains(join(c.world.ws, '.git', 'commondir'), c.world.marker),
  ),
  // ------------------------------------------------------------ positive: git commits
  {
    id: 'works: git add + git commit in the workspace repository',
    category: 'positive',
    profiles: WS,
    enforced: canCommit,
    setup: (c) => git(c.world.ws, 'commit', '-q', '--allow-empty', '-m', 'base'),
    command: (c) => [
      'sh',
      '-c',
      `cd ${c.world.ws} && echo ${c.world.marker} > src/new.txt && git add -A && git -c user.name=a -c user.email=a@a commit -qm "sandboxed ${c.world.marker}"`,
    ],
    escaped: (c) =>
      !execFileSync('git', ['-C', c.world.ws, 'log', '-1', '--format=%s'], { encoding: 'utf8' }).includes(
        c.world.marker,
      ),
    control: false,
  },
  {
    id: 'works: git add + git commit in a linked worktree (gitdir under the main .git/worktrees)',
    category: 'positive',
    profiles: WS,
    enforced: canCommit,
    setup: (c) => {
      // Main repository outside the workspace; the workspace becomes a linked worktree of it.
      const main = join(c.world.parent, 'main');
      execFileSync('git', ['init', '-q', main]);
      git(main, 'commit', '-q', '--allow-empty', '-m', 'base');
      rmSync(c.world.ws, { recursive: true, force: true });
      git(main, 'worktree', 'add', '-q', '-b', 'wt', c.world.ws);
    },
    command: (c) => [
      'sh',
      '-c',
      `cd ${c.world.ws} && echo ${c.world.marker} > new.txt && git add -A && git -c user.name=a -c user.email=a@a commit -qm "wt ${c.world.marker}"`,
    ],
    escaped: (c) =>
      !execFileSync('git', ['-C', join(c.world.parent, 'main'), 'log', '-1', '--format=%s', 'wt'], {
        encoding: 'utf8',
      }).includes(c.world.marker),
    control: false,
  },
  {
    id: 'works: create a file in the workspace root',
    category: 'positive',
    profiles: WS,
    // Landlock without a mount namespace cannot grant the root while keeping .git read-only.
    enforced: (a) => !has(a, 'landlock') || canCommit(a),
    command: (c) => ['sh', '-c', `echo ok > ${c.world.ws}/root-file.txt && cat ${c.world.ws}/root-file.txt`],
    escaped: (_c, r) => r.stdout.trim() !== 'ok',
    control: false,
  },
];

export const HARDENING_CASES: readonly EscapeCase[] = HARDENING.map((c) => ({ ...c, backends: ['linux'] }));
