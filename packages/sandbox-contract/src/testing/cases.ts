// The escape cases, as a table that any POSIX SandboxBackend can run (see suite.ts; Windows has
// its own table, cases-windows.ts). Each case runs a real command and decides from the *host's*
// point of view whether the forbidden effect happened (a file appeared, a listener saw a
// connection, a victim process died…). Every case that can be run outside the sandbox is also
// run there as a control, and the control must escape: otherwise the case proves nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { SecurityProfile } from '@codex/security-profile';
import type { Assessment, SandboxResult } from '../contract.js';
import { HARDENING_CASES } from './cases-hardening.js';
import { MACOS_CASES } from './cases-macos.js';
import type { Listeners, Probes, Victim, World } from './fixture.js';
import { isMountedOnHost, processesMatching } from './fixture.js';

export interface EscapeContext {
  readonly world: World;
  readonly net: Listeners;
  readonly probes: Probes;
  readonly victim: Victim;
}

export type Category = 'network' | 'filesystem' | 'protected-paths' | 'process' | 'limits' | 'positive';

export interface EscapeCase {
  readonly id: string;
  readonly category: Category;
  readonly profiles: readonly SecurityProfile[];
  /** Binaries the case needs; missing ones skip it (reported in the test title). */
  readonly needs?: readonly string[];
  /** Backends that can express this case (default: every backend). */
  readonly backends?: readonly string[];
  /** The suite's rungs this case runs against (default: all of them). */
  readonly rungs?: readonly string[];
  /** True when the rung is expected to deny this case (otherwise the case is skipped for it). */
  enforced(a: Assessment): boolean;
  setup?(c: EscapeContext): void;
  /** Runs on the host while the sandboxed command runs (e.g. connect to a port it listens on). */
  during?(c: EscapeContext): Promise<void>;
  command(c: EscapeContext): string[];
  /** Run options. */
  readonly limits?: { timeoutMs?: number; maxProcesses?: number; maxOutputBytes?: number };
  /** Did the forbidden thing happen? (For positive cases: did the command fail to work?) */
  escaped(c: EscapeContext, r: SandboxResult): boolean;
  /** Why this kernel cannot even attempt the attack (the case is then skipped), or undefined. */
  hostLacks?(probes: Probes): string | undefined;
  /** `false`: too dangerous or meaningless outside a sandbox (e.g. a fork bomb). */
  readonly control?: boolean;
  /** Undo what a successful control run did to the host. */
  undoControl?(c: EscapeContext): void;
}

const NO_NET: SecurityProfile[] = ['offline', 'workspace-write'];
const NET: SecurityProfile[] = ['net-read-only', 'workspace-net'];
const ALL: SecurityProfile[] = ['offline', 'workspace-write', 'net-read-only', 'workspace-net'];
const READ_ONLY: SecurityProfile[] = ['offline', 'net-read-only'];
const WS: SecurityProfile[] = ['workspace-write', 'workspace-net'];

const has = (a: Assessment, m: string) => a.mechanisms.includes(m);
const by = (a: Assessment, g: keyof Assessment['enforced']) => (a.enforced[g]?.length ?? 0) > 0;
const tcpDenied = (a: Assessment) => by(a, 'network') || by(a, 'network-tcp');
const udpDenied = (a: Assessment) => by(a, 'network');
const socketFilter = (a: Assessment) =>
  has(a, 'seccomp') && a.profile !== 'net-read-only' && a.profile !== 'workspace-net';
const fsDenied = (a: Assessment) => by(a, 'filesystem-write');
const protDenied = (a: Assessment) => by(a, 'protected-paths');
const metadataDenied = (a: Assessment) =>
  has(a, 'bwrap') ||
  has(a, 'helper-ns') ||
  (has(a, 'seccomp') && (a.profile === 'offline' || a.profile === 'net-read-only'));
const otherProcessDenied = (a: Assessment) => has(a, 'bwrap') || has(a, 'landlock');
const syscallDenied = (a: Assessment) => has(a, 'seccomp');
const nnp = (a: Assessment) => has(a, 'bwrap') || has(a, 'landlock') || has(a, 'seccomp');
const limited = (a: Assessment) => has(a, 'cgroup-pids');
const always = () => true;

const out = (r: SandboxResult) => r.stdout + r.stderr;
// Directly (signal) or as reported by bubblewrap's init for its child (128 + SIGSYS).
const killedBySigsys = (r: SandboxResult) => r.signal === 'SIGSYS' || r.exitCode === 128 + 31;
const escapedWord = (r: SandboxResult) => /^ESCAPED/m.test(r.stdout);
const tcp = (c: EscapeContext) => c.net.tcpHits() > 0;
const udp = (c: EscapeContext) => c.net.udpHits() > 0;
const victimFile = (c: EscapeContext) => join(c.world.outside, 'victim.txt');
const rmIfExists = (p: string) => () => rmSync(p, { recursive: true, force: true });

function net(
  id: string,
  command: (c: EscapeContext) => string[],
  needs: string[],
  kind: 'tcp' | 'udp' = 'tcp',
): EscapeCase {
  return {
    id,
    category: 'network',
    // Network profiles are proxied: no direct connection either, only the egress proxy.
    profiles: ALL,
    needs,
    enforced: kind === 'tcp' ? tcpDenied : udpDenied,
    command,
    escaped: kind === 'tcp' ? tcp : udp,
  };
}

function socketCase(family: string): EscapeCase {
  return {
    id: `socket(${family}) creation`,
    category: 'network',
    profiles: NO_NET,
    backends: ['linux'],
    enforced: socketFilter,
    command: (c) => [c.probes.probe, 'socket', family],
    escaped: (_c, r) => escapedWord(r),
  };
}

function syscallCase(id: string, op: string): EscapeCase {
  return {
    id,
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    backends: ['linux'],
    enforced: syscallDenied,
    command: (c) => [c.probes.probe, op],
    escaped: (_c, r) => escapedWord(r),
  };
}

function protectedWrite(
  id: string,
  rel: string,
  script: (p: string, marker: string) => string,
  check: (p: string, marker: string) => boolean,
): EscapeCase {
  return {
    id,
    category: 'protected-paths',
    profiles: WS,
    enforced: protDenied,
    command: (c) => ['sh', '-c', script(join(c.world.ws, rel), c.world.marker)],
    escaped: (c) => check(join(c.world.ws, rel), c.world.marker),
  };
}

const inboundReached = new Set<string>();
const inboundPort = (c: EscapeContext) => 20000 + (parseInt(c.world.marker.slice(0, 6), 16) % 30000);
function tryConnect(port: number, marker: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(500, () => done(data.includes(marker)));
    s.on('data', (d) => {
      data += d.toString();
      if (data.includes(marker)) done(true);
    });
    s.once('end', () => done(data.includes(marker)));
    s.once('error', () => done(false));
  });
}

const contains = (p: string, marker: string) => existsSync(p) && readFileSync(p, 'utf8').includes(marker);

export const ESCAPE_CASES: readonly EscapeCase[] = [
  // ---------------------------------------------------------------- network (loopback only)
  net(
    'curl to a 127.0.0.1 listener',
    (c) => ['curl', '-s', '-m', '3', `http://127.0.0.1:${c.net.tcpPort}/`],
    ['curl'],
  ),
  net('curl to localhost by name', (c) => ['curl', '-s', '-m', '3', `http://localhost:${c.net.tcpPort}/`], [
    'curl',
  ]),
  net(
    'wget to a 127.0.0.1 listener',
    (c) => ['wget', '-q', '-T', '3', '-t', '1', '-O', '/dev/null', `http://127.0.0.1:${c.net.tcpPort}/`],
    ['wget'],
  ),
  net('bash /dev/tcp', (c) => ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${c.net.tcpPort}; echo hi >&3`], [
    'bash',
  ]),
  net(
    'node net.connect',
    (c) => [
      'node',
      '-e',
      `require('net').connect(${c.net.tcpPort},'127.0.0.1').on('connect',function(){this.end('x')}).on('error',e=>{console.error(e.message);process.exit(1)})`,
    ],
    ['node'],
  ),
  net(
    'python socket.create_connection',
    (c) => [
      'python3',
      '-c',
      `import socket; s=socket.create_connection(('127.0.0.1',${c.net.tcpPort}),3); s.sendall(b'x')`,
    ],
    ['python3'],
  ),
  net(
    'perl IO::Socket::INET',
    (c) => [
      'perl',
      '-MIO::Socket::INET',
      '-e',
      `IO::Socket::INET->new(PeerAddr=>"127.0.0.1:${c.net.tcpPort}", Timeout=>3) or die "connect: $!"`,
    ],
    ['perl'],
  ),
  net(
    'ssh to a 127.0.0.1 port',
    (c) => [
      'ssh',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'ConnectTimeout=3',
      '-p',
      String(c.net.tcpPort),
      '127.0.0.1',
      'true',
    ],
    ['ssh'],
  ),
  net(
    'python DNS query over UDP',
    (c) => [
      'python3',
      '-c',
      `import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(bytes.fromhex('12340100000100000000000007636f646578657304746573740000010001'), ('127.0.0.1', ${c.net.udpPort}))`,
    ],
    ['python3'],
    'udp',
  ),
  net(
    'node dgram send',
    (c) => [
      'node',
      '-e',
      `const s=require('dgram').createSocket('udp4'); s.send('x', ${c.net.udpPort}, '127.0.0.1', (e)=>{ if(e){console.error(e.message);process.exit(1)} s.close() })`,
    ],
    ['node'],
    'udp',
  ),
  net(
    'bash /dev/udp',
    (c) => ['bash', '-c', `echo x > /dev/udp/127.0.0.1/${c.net.udpPort}`],
    ['bash'],
    'udp',
  ),
  socketCase('inet'),
  socketCase('inet6'),
  socketCase('udp'),
  socketCase('raw'),
  socketCase('netlink'),
  socketCase('packet'),
  {
    id: 'inbound: a listener inside is reachable from the host',
    category: 'network',
    profiles: NO_NET,
    needs: ['python3'],
    enforced: tcpDenied,
    command: (c) => [
      'python3',
      '-c',
      `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("127.0.0.1", ${inboundPort(c)}))\ns.listen(1)\ns.settimeout(2.5)\ntry:\n  a,_=s.accept(); a.sendall(b"${c.world.marker}"); a.close(); print("ACCEPTED")\nexcept Exception as e:\n  print("NONE", e)`,
    ],
    during: async (c) => {
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        // Only the sandboxed listener knows the marker: another service on the port is no escape.
        if (await tryConnect(inboundPort(c), c.world.marker)) {
          inboundReached.add(c.world.marker);
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    escaped: (c) => inboundReached.has(c.world.marker),
  },

  // ---------------------------------------------------------------- filesystem
  {
    id: 'write into /etc',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `echo x > /etc/codex-escape-${c.world.marker}`],
    escaped: (c) => existsSync(`/etc/codex-escape-${c.world.marker}`),
    undoControl: (c) => rmIfExists(`/etc/codex-escape-${c.world.marker}`)(),
  },
  {
    id: 'write into $HOME',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `echo x > "${c.world.home}/.codex-escape-${c.world.marker}"`],
    escaped: (c) => existsSync(join(c.world.home, `.codex-escape-${c.world.marker}`)),
    undoControl: (c) => rmIfExists(join(c.world.home, `.codex-escape-${c.world.marker}`))(),
  },
  {
    id: 'create a file outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `echo x > ${c.world.outside}/new.txt`],
    escaped: (c) => existsSync(join(c.world.outside, 'new.txt')),
  },
  {
    id: 'append to a file outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `echo ${c.world.marker} >> ${victimFile(c)}`],
    escaped: (c) => contains(victimFile(c), c.world.marker),
  },
  {
    id: 'mkdir outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['mkdir', join(c.world.outside, 'dir')],
    escaped: (c) => existsSync(join(c.world.outside, 'dir')),
  },
  {
    id: 'delete a file outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['rm', '-f', victimFile(c)],
    escaped: (c) => !existsSync(victimFile(c)),
  },
  {
    id: 'truncate a file outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['truncate', '-s', '0', victimFile(c)],
    escaped: (c) => statSync(victimFile(c)).size === 0,
  },
  {
    id: 'chmod a file outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: metadataDenied,
    command: (c) => ['chmod', '666', victimFile(c)],
    escaped: (c) => (statSync(victimFile(c)).mode & 0o777) === 0o666,
  },
  {
    id: 'touch -d (utimes) outside the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: metadataDenied,
    command: (c) => ['touch', '-d', '2001-01-01', victimFile(c)],
    escaped: (c) => statSync(victimFile(c)).mtime.getUTCFullYear() === 2001,
  },
  {
    id: 'write through a symlink in the workspace that points out',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `cd ${c.world.ws} && echo x > link/via-link.txt`],
    escaped: (c) => existsSync(join(c.world.outside, 'via-link.txt')),
  },
  {
    id: 'hard link an outside file into the workspace and write it',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => [
      'sh',
      '-c',
      `cd ${c.world.ws} && ln ${victimFile(c)} src/hl && echo ${c.world.marker} >> src/hl`,
    ],
    escaped: (c) => contains(victimFile(c), c.world.marker),
  },
  {
    id: '.. traversal out of the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `cd ${c.world.ws}/src && echo x > ../../dotdot.txt`],
    escaped: (c) => existsSync(join(c.world.parent, 'dotdot.txt')),
  },
  {
    id: 'rename a workspace file out of the workspace',
    category: 'filesystem',
    profiles: ALL,
    enforced: fsDenied,
    command: (c) => ['mv', join(c.world.ws, 'movable.txt'), join(c.world.outside, 'moved.txt')],
    escaped: (c) => existsSync(join(c.world.outside, 'moved.txt')),
  },
  {
    id: 'write in the workspace under a read-only profile',
    category: 'filesystem',
    profiles: READ_ONLY,
    enforced: fsDenied,
    command: (c) => ['sh', '-c', `echo ${c.world.marker} >> ${c.world.ws}/src/hello.txt`],
    escaped: (c) => contains(join(c.world.ws, 'src', 'hello.txt'), c.world.marker),
  },
  {
    id: 'create a file in the workspace under a read-only profile',
    category: 'filesystem',
    profiles: READ_ONLY,
    enforced: fsDenied,
    command: (c) => ['touch', join(c.world.ws, 'src', 'new.txt')],
    escaped: (c) => existsSync(join(c.world.ws, 'src', 'new.txt')),
  },

  // ---------------------------------------------------------------- protected paths
  protectedWrite('append to .git/config', '.git/config', (p, m) => `echo "# ${m}" >> ${p}`, contains),
  protectedWrite(
    'create .git/hooks/pre-commit',
    '.git/hooks/pre-commit',
    (p, m) => `printf '#!/bin/sh\\n# ${m}\\n' > ${p} && chmod +x ${p}`,
    contains,
  ),
  protectedWrite(
    'overwrite an existing git hook',
    '.git/hooks/pre-push',
    (p, m) => `echo "# ${m}" > ${p}`,
    contains,
  ),
  protectedWrite(
    'delete .git/config',
    '.git/config',
    (p) => `rm -f ${p}`,
    (p) => !existsSync(p),
  ),
  protectedWrite(
    'write .codex/config.toml',
    '.codex/config.toml',
    (p, m) => `echo "# ${m}" >> ${p}`,
    contains,
  ),
  protectedWrite('create a file in .agents', '.agents/agent.md', (p, m) => `echo ${m} > ${p}`, contains),
  {
    id: 'rename .git away',
    category: 'protected-paths',
    profiles: WS,
    enforced: protDenied,
    command: (c) => ['mv', join(c.world.ws, '.git'), join(c.world.ws, 'src', 'git-moved')],
    escaped: (c) => existsSync(join(c.world.ws, 'src', 'git-moved')),
  },
  {
    id: 'write the hooks of a gitdir: target inside the workspace',
    category: 'protected-paths',
    profiles: WS,
    enforced: protDenied,
    setup: (c) => {
      // A worktree/submodule layout: .git is a file pointing at the real git directory.
      renameSync(join(c.world.ws, '.git'), join(c.world.ws, 'src', 'realgit'));
      writeFileSync(join(c.world.ws, '.git'), 'gitdir: src/realgit\n');
    },
    command: (c) => [
      'sh',
      '-c',
      `echo "# ${c.world.marker}" > ${c.world.ws}/src/realgit/hooks/post-checkout`,
    ],
    escaped: (c) => contains(join(c.world.ws, 'src', 'realgit', 'hooks', 'post-checkout'), c.world.marker),
  },

  {
    id: 'write a hook in the core.hooksPath directory',
    category: 'protected-paths',
    profiles: WS,
    enforced: protDenied,
    setup: (c) => {
      mkdirSync(join(c.world.ws, 'tools', 'hooks'), { recursive: true });
      execFileSync('git', ['-C', c.world.ws, 'config', 'core.hooksPath', 'tools/hooks']);
    },
    command: (c) => ['sh', '-c', `echo "# ${c.world.marker}" > ${c.world.ws}/tools/hooks/pre-commit`],
    escaped: (c) => contains(join(c.world.ws, 'tools', 'hooks', 'pre-commit'), c.world.marker),
  },

  // ---------------------------------------------------------------- process and privilege
  {
    id: 'ptrace attach to a process outside',
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    backends: ['linux'],
    enforced: (a) => has(a, 'seccomp') || otherProcessDenied(a),
    command: (c) => [c.probes.probe, 'ptrace', String(c.victim.pid)],
    escaped: (_c, r) => escapedWord(r),
  },
  {
    id: 'process_vm_readv on a process outside',
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    backends: ['linux'],
    enforced: (a) => has(a, 'seccomp') || otherProcessDenied(a),
    command: (c) => [c.probes.probe, 'vmread', String(c.victim.pid)],
    escaped: (_c, r) => escapedWord(r),
  },
  {
    id: 'signal a process outside (kill -TERM)',
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    enforced: otherProcessDenied,
    command: (c) => ['kill', '-TERM', String(c.victim.pid)],
    escaped: (c) => !c.victim.alive(),
  },
  {
    id: "read another process's /proc/PID/environ",
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    // Landlock denies ptrace and process_vm_readv of outside processes but, measured on this
    // kernel (6.18, ABI 7), not reading their /proc/PID/environ: only the pid namespace hides it.
    enforced: (a) => has(a, 'bwrap'),
    command: (c) => ['cat', `/proc/${c.victim.pid}/environ`],
    escaped: (c, r) => r.stdout.includes(c.victim.secret),
  },
  {
    id: 'mount a tmpfs visible on the host',
    category: 'process',
    profiles: ['offline', 'workspace-write'],
    backends: ['linux'],
    enforced: nnp,
    setup: (c) => mkdirSync(join(c.world.outside, 'mnt')),
    command: (c) => [c.probes.probe, 'mount', join(c.world.outside, 'mnt')],
    escaped: (c) => isMountedOnHost(join(c.world.outside, 'mnt')),
    undoControl: (c) => {
      execFileSync('umount', ['-l', join(c.world.outside, 'mnt')]);
    },
  },
  syscallCase('unshare(CLONE_NEWUSER|CLONE_NEWNS)', 'unshare'),
  syscallCase('clone(CLONE_NEWUSER)', 'clone_newuser'),
  syscallCase('io_uring_setup', 'io_uring'),
  syscallCase('bpf(BPF_MAP_CREATE)', 'bpf'),
  syscallCase('add_key', 'add_key'),
  {
    id: 'unshare -r (util-linux)',
    category: 'process',
    profiles: ['offline'],
    needs: ['unshare'],
    backends: ['linux'],
    enforced: syscallDenied,
    command: () => ['unshare', '-r', 'true'],
    escaped: (_c, r) => r.exitCode === 0,
  },
  {
    id: 'x32 system call number (filter bypass attempt)',
    category: 'process',
    profiles: ['offline'],
    backends: ['linux'],
    enforced: syscallDenied,
    command: (c) => [c.probes.probe, 'x32'],
    // The kernel may lack x32 (ENOSYS outside); inside, the filter must kill the process.
    escaped: (_c, r) => !killedBySigsys(r),
  },
  {
    id: 'ia32 int 0x80 system call (filter bypass attempt)',
    category: 'process',
    profiles: ['offline'],
    backends: ['linux'],
    enforced: syscallDenied,
    hostLacks: (p) => {
      // Kernels built or booted without ia32 emulation fault on int 0x80 before any system call
      // table (SIGSEGV): there is nothing to bypass. GitHub's runners have it, so CI runs the case.
      const r = spawnSync(p.probe, ['int80'], { encoding: 'utf8' });
      return r.signal === 'SIGSEGV' ? 'this kernel has no ia32 emulation (int 0x80 faults)' : undefined;
    },
    command: (c) => [c.probes.probe, 'int80'],
    // Escaped when the call came back to the program (it printed ESCAPED or DENIED): the filter must
    // kill it first. A kernel without ia32 emulation faults on int 0x80 (SIGSEGV, nothing printed):
    // the call never reached a system call table, so that is not an escape either.
    escaped: (_c, r) => !killedBySigsys(r) && /^(ESCAPED|DENIED)/m.test(r.stdout),
  },
  {
    id: 'setuid binary gains its owner (no_new_privs)',
    category: 'process',
    profiles: ['offline', 'workspace-net'],
    backends: ['linux'],
    enforced: nnp,
    command: (c) => [c.probes.setuidProbe, 'euid'],
    escaped: (_c, r) => /EUID 65534/.test(r.stdout),
  },

  // ---------------------------------------------------------------- limits
  {
    id: 'process count is limited (100 forks, limit 20)',
    category: 'limits',
    profiles: ['offline'],
    needs: ['python3'],
    enforced: limited,
    limits: { maxProcesses: 20, timeoutMs: 20_000 },
    command: () => [
      'python3',
      '-c',
      'import os,time\nn=0\nfor i in range(100):\n  try:\n    pid=os.fork()\n  except OSError:\n    break\n  if pid==0:\n    time.sleep(3); os._exit(0)\n  n+=1\nprint("FORKED", n)',
    ],
    escaped: (_c, r) => Number(/FORKED (\d+)/.exec(r.stdout)?.[1] ?? 0) >= 50,
  },
  {
    id: 'a fork bomb is contained and cleaned up',
    category: 'limits',
    profiles: ['offline'],
    enforced: limited,
    control: false,
    limits: { maxProcesses: 16, timeoutMs: 3000 },
    command: (c) => ['bash', '-c', `exec -a codex-bomb-${c.world.marker} bash -c ':(){ :|:& };:; sleep 2'`],
    escaped: (c, r) => processesMatching(`codex-bomb-${c.world.marker}`).length > 0 || r.durationMs > 20_000,
  },
  {
    id: 'background processes do not outlive the command',
    category: 'limits',
    profiles: ['offline'],
    enforced: (a) => has(a, 'bwrap') || limited(a),
    command: (c) => [
      'sh',
      '-c',
      `(setsid sleep 61.${parseInt(c.world.marker.slice(0, 4), 16)} >/dev/null 2>&1 < /dev/null &); sleep 0.3; echo started`,
    ],
    escaped: (c) => processesMatching(`sleep 61.${parseInt(c.world.marker.slice(0, 4), 16)}`).length > 0,
    undoControl: (c) => {
      for (const pid of processesMatching(`sleep 61.${parseInt(c.world.marker.slice(0, 4), 16)}`))
        process.kill(pid, 'SIGKILL');
    },
  },
  {
    id: 'timeout kills the whole tree',
    category: 'limits',
    profiles: ['offline'],
    enforced: always,
    limits: { timeoutMs: 500 },
    command: (c) => ['sh', '-c', `sleep 62.${parseInt(c.world.marker.slice(0, 4), 16)} & sleep 30`],
    escaped: (c, r) =>
      !r.timedOut ||
      r.durationMs > 10_000 ||
      processesMatching(`sleep 62.${parseInt(c.world.marker.slice(0, 4), 16)}`).length > 0,
    control: false,
  },
  {
    id: 'output is capped',
    category: 'limits',
    profiles: ['offline'],
    enforced: always,
    limits: { maxOutputBytes: 1000 },
    command: () => ['sh', '-c', 'yes | head -c 3000000; echo done >&2'],
    escaped: (_c, r) => r.stdout.length !== 1000 || !r.stdoutTruncated || !r.stderr.includes('done'),
    control: false,
  },

  // ---------------------------------------------------------------- positive: must keep working
  ...positive(
    'ls /',
    () => ['ls', '/'],
    (r) => r.exitCode === 0 && /\busr\b/.test(r.stdout),
  ),
  ...positive(
    'cat /etc/os-release',
    () => ['cat', '/etc/os-release'],
    (r) => r.exitCode === 0 && /NAME=/.test(r.stdout),
  ),
  ...positive(
    'grep',
    () => ['grep', '-c', 'root', '/etc/passwd'],
    (r) => r.exitCode === 0,
  ),
  ...positive(
    'git status in the workspace',
    (c) => ['git', '-C', c.world.ws, 'status', '--porcelain'],
    (r) => r.exitCode === 0 && r.stdout.includes('movable.txt'),
  ),
  ...positive(
    'node --version',
    () => ['node', '--version'],
    (r) => r.exitCode === 0 && /^v\d+/.test(r.stdout),
  ),
  ...positive(
    'python3 runs',
    () => ['python3', '-c', 'print(6*7)'],
    (r) => r.exitCode === 0 && r.stdout.trim() === '42',
  ),
  ...positive(
    'write to /dev/null',
    () => ['sh', '-c', 'echo x > /dev/null && echo ok'],
    (r) => r.stdout.trim() === 'ok',
  ),
  ...positive(
    'write and read $TMPDIR',
    () => [
      'sh',
      '-c',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion
      'd="${TMPDIR:-/tmp}"; echo hi > "$d/codex-t.$$" && cat "$d/codex-t.$$" && rm "$d/codex-t.$$"',
    ],
    (r) => r.stdout.trim() === 'hi',
  ),
  ...positive(
    'AF_UNIX sockets still work',
    (c) => [c.probes.probe, 'socket', 'unix'],
    (r) => escapedWord(r),
  ),
  ...positive(
    'edit and build inside the workspace',
    (c) => [
      'sh',
      '-c',
      `cd ${c.world.ws}/src && printf 'int main(void){return 7;}\\n' > m.c && cc -o m m.c && ./m; echo "rc=$?"`,
    ],
    (r) => r.stdout.trim() === 'rc=7',
    WS,
  ),
  // Network profiles reach the network only through the egress proxy, which answers (here: a
  // refusal, nothing is allowed by default); egress.test.ts covers allowed hosts end to end.
  ...positive(
    'the egress proxy answers under network profiles',
    () => ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '5', 'http://example.test/'],
    (r) => r.stdout === '403',
    NET,
  ).map((c) => ({ ...c, enforced: (a: Assessment) => has(a, 'bwrap') })),
  ...HARDENING_CASES,
  ...MACOS_CASES,
];

function positive(
  id: string,
  command: (c: EscapeContext) => string[],
  works: (r: SandboxResult, c: EscapeContext) => boolean,
  profiles: readonly SecurityProfile[] = ALL,
): EscapeCase[] {
  return [
    {
      id: `works: ${id}`,
      category: 'positive',
      profiles,
      enforced: always,
      command,
      escaped: (c, r) => !works(r, c),
      control: false,
    },
  ];
}

export function describeOutput(r: SandboxResult): string {
  return `exit=${r.exitCode} signal=${r.signal} out=${JSON.stringify(out(r).slice(0, 400))}`;
}
