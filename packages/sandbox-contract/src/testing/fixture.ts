// Real fixtures for the escape suite: workspaces on disk, loopback listeners, victim processes
// outside the sandbox, and a compiled probe (escape-probe.c on Linux, portable-probe.c on macOS,
// next to this module). Nothing here is mocked.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Probes {
  /** escape-probe.c (macOS: portable-probe.c; Windows: the backend's test program) compiled. */
  readonly probe: string;
  /** A copy owned by uid 65534 with the setuid bit (macOS, Windows: the probe itself). */
  readonly setuidProbe: string;
  readonly dir: string;
}

const here = () => dirname(fileURLToPath(import.meta.url));

/** Linux: the syscall probe, and a setuid copy owned by nobody (needs root). */
export function compileProbes(): Probes {
  const dir = mkdtempSync('/var/tmp/codex-esc-bin-');
  chmodSync(dir, 0o755);
  const probe = join(dir, 'escape-probe');
  execFileSync('cc', ['-O1', '-o', probe, join(here(), 'escape-probe.c')], {
    stdio: 'pipe',
  });
  const setuidProbe = join(dir, 'escape-probe-setuid');
  copyFileSync(probe, setuidProbe);
  chownSync(setuidProbe, 65534, 65534);
  chmodSync(setuidProbe, 0o4755);
  return { probe, setuidProbe, dir };
}

/** macOS: the portable probe (the Linux one needs Linux headers); no setuid copy (not root). */
export function compilePortableProbe(): Probes {
  const dir = mkdtempSync('/var/tmp/codex-esc-bin-');
  const probe = join(dir, 'portable-probe');
  execFileSync('cc', ['-O1', '-o', probe, join(here(), 'portable-probe.c')]);
  return { probe, setuidProbe: probe, dir };
}

export interface Victim {
  readonly pid: number;
  readonly secret: string;
  alive(): boolean;
  stop(): void;
}

/** Linux: a killed but not yet reaped child is a zombie ("Z" in /proc/<pid>/stat). */
export function zombieByProc(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
}

/** macOS (no /proc): the state column of ps. */
export function zombieByPs(pid: number): boolean {
  return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).startsWith('Z');
}

/**
 * A process outside the sandbox with a secret in its environment. `zombie` tells a dead but not
 * yet reaped child (throwing when the process is gone).
 */
export function startVictim(zombie: (pid: number) => boolean = zombieByProc): Victim {
  const secret = `codex-victim-secret-${randomBytes(6).toString('hex')}`;
  const child: ChildProcess = spawn('sleep', ['300'], {
    env: { ...process.env, CODEX_VICTIM: secret },
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  return {
    pid: child.pid!,
    secret,
    alive: () => {
      if (exited) return false;
      // A killed but not yet reaped child is a zombie: dead for our purpose.
      try {
        return !zombie(child.pid!);
      } catch {
        return false;
      }
    },
    stop: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

export interface Listeners {
  readonly tcpPort: number;
  readonly udpPort: number;
  tcpHits(): number;
  udpHits(): number;
  close(): Promise<void>;
}

/** A TCP and a UDP listener on 127.0.0.1 that count what reaches them. */
export async function startListeners(): Promise<Listeners> {
  let tcp = 0;
  let udp = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((socket) => {
    tcp++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.end('SSH-2.0-codex-escape-test\r\nHTTP/1.0 200 OK\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dgram: Socket = createSocket('udp4');
  dgram.on('message', () => {
    udp++;
  });
  await new Promise<void>((r) => dgram.bind(0, '127.0.0.1', r));
  const tcpPort = (server.address() as { port: number }).port;
  const udpPort = dgram.address().port;
  return {
    tcpPort,
    udpPort,
    tcpHits: () => tcp,
    udpHits: () => udp,
    close: async () => {
      dgram.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface World {
  readonly marker: string;
  /** Fresh workspace: git repo, .codex, .agents, src/, movable.txt, link → outside. */
  readonly ws: string;
  /** Directory outside every writable root, holding victim.txt (mode 0644). */
  readonly outside: string;
  readonly parent: string;
  readonly home: string;
  /** A directory on the deny-read list holding `id_ed25519` (contains the marker). */
  readonly secrets: string;
  /** A file on the deny-read list (contains the marker). */
  readonly secretFile: string;
  cleanup(): void;
}

let templateDir: string | undefined;

/** A workspace template built once per test file (git init is the slow part). */
function template(): string {
  if (templateDir && existsSync(templateDir)) return templateDir;
  const base = mkdtempSync('/var/tmp/codex-esc-template-');
  const ws = join(base, 'ws');
  mkdirSync(ws);
  execFileSync('git', ['init', '-q', ws]);
  writeFileSync(join(ws, '.git', 'hooks', 'pre-push'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  mkdirSync(join(ws, '.codex'));
  writeFileSync(join(ws, '.codex', 'config.toml'), 'profile = "offline"\n');
  mkdirSync(join(ws, '.agents'));
  mkdirSync(join(ws, 'src'));
  writeFileSync(join(ws, 'src', 'hello.txt'), 'hello\n');
  writeFileSync(join(ws, 'movable.txt'), 'move me\n');
  templateDir = ws;
  return ws;
}

/** Removes the workspace template (call from afterAll). */
export function removeTemplate(): void {
  if (templateDir) rmSync(dirname(templateDir), { recursive: true, force: true });
  templateDir = undefined;
}

/** Everything under /var/tmp (not /tmp, which bubblewrap replaces with a private tmpfs). */
export function makeWorld(): World {
  const marker = randomBytes(6).toString('hex');
  const parent = mkdtempSync('/var/tmp/codex-esc-');
  const ws = join(parent, 'ws');
  const outside = join(parent, 'outside');
  cpSync(template(), ws, { recursive: true, verbatimSymlinks: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'victim.txt'), 'original\n', { mode: 0o644 });
  chmodSync(join(outside, 'victim.txt'), 0o644);
  symlinkSync(outside, join(ws, 'link'));
  const secrets = join(parent, 'ssh');
  mkdirSync(secrets, { mode: 0o700 });
  writeFileSync(join(secrets, 'id_ed25519'), `-----BEGIN OPENSSH PRIVATE KEY----- ${marker}\n`, {
    mode: 0o600,
  });
  const secretFile = join(parent, 'netrc');
  writeFileSync(secretFile, `machine example.test login u password ${marker}\n`, { mode: 0o600 });
  return {
    marker,
    ws,
    outside,
    parent,
    secrets,
    secretFile,
    home: process.env.HOME ?? '/root',
    cleanup: () => {
      const mnt = join(outside, 'mnt');
      if (existsSync(mnt)) {
        try {
          execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
        } catch {
          /* not mounted */
        }
      }
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/**
 * Windows: a workspace holding `.git` (config, hooks) and `.codex`, and a directory outside it,
 * under the temporary directory. No secrets are written (the Windows backend has no deny-read).
 */
export function makeWindowsWorld(): World {
  const marker = randomBytes(6).toString('hex');
  const parent = mkdtempSync(join(tmpdir(), 'codex-win-esc-'));
  const ws = join(parent, 'ws');
  const outside = join(parent, 'outside');
  mkdirSync(join(ws, '.git', 'hooks'), { recursive: true });
  writeFileSync(join(ws, '.git', 'config'), '[core]\n');
  mkdirSync(join(ws, '.codex'));
  mkdirSync(outside);
  return {
    marker,
    ws,
    outside,
    parent,
    home: homedir(),
    secrets: join(parent, 'ssh'),
    secretFile: join(parent, 'netrc'),
    cleanup: () => rmSync(parent, { recursive: true, force: true }),
  };
}

/** Processes whose command line contains `needle` (host view). */
export function processesMatching(needle: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', needle], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}

export function isMountedOnHost(path: string): boolean {
  return execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' })
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}
