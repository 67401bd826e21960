// Issue-16 hardening outside the table-driven escape suite: inherited descriptors (needs a parent
// process that really holds one), trusted launcher paths, host diagnosis, the helper build, and
// what `status` may offer. Real processes, real files, real bwrap and helper.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidRungError, SandboxSetupError } from '@codex/sandbox-contract';
import { rungAvailable } from '@codex/sandbox-contract/testing';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinuxSandbox } from '../src/backend.js';
import { diagnoseUserns } from '../src/diagnose.js';
import { secretsToMask } from '../src/run.js';
import { untrustedReason } from '../src/trust.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = mkdtempSync('/var/tmp/codex-hardening-');
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sandbox = createLinuxSandbox();
const isRoot = process.getuid?.() === 0;

describe('descriptors above 2 are closed before exec', () => {
  // codex itself started with fd 20 open on a file (as `codex … 20>file` would): a child node
  // process that really holds it runs the sandbox from the built package.
  const script = `
    import { createLinuxSandbox } from ${JSON.stringify(join(pkg, 'dist', 'index.js'))};
    import { toSandboxPolicy } from ${JSON.stringify(join(pkg, '..', 'security-profile', 'dist', 'index.js'))};
    const [rung, ws, marker] = process.argv.slice(1);
    const r = await createLinuxSandbox().run({
      policy: toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }),
      command: ['bash', '-c', 'echo ' + marker + ' >&20 && echo WROTE'],
      cwd: ws, rung, allowDegraded: true,
    });
    console.log(JSON.stringify({ code: r.exitCode, out: r.stdout, err: r.stderr }));
  `;
  const run = (rung: string) => {
    const dir = mkdtempSync(join(root, 'fd-'));
    const ws = join(dir, 'ws');
    mkdirSync(ws);
    const target = join(dir, 'outside.txt');
    writeFileSync(target, '');
    const marker = `m${Date.now()}`;
    const stdio: ('pipe' | 'ignore' | number)[] = ['ignore', 'pipe', 'pipe'];
    const fd = openSync(target, 'a');
    for (let i = 3; i < 20; i++) stdio.push('ignore');
    stdio.push(fd);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, rung, ws, marker], {
      stdio,
      encoding: 'utf8',
      timeout: 60_000,
    });
    closeSync(fd);
    return { wrote: readFileSync(target, 'utf8').includes(marker), out: `${r.stdout}${r.stderr}` };
  };
  it('control: without a sandbox the command writes through fd 20', () => {
    const r = run('none');
    expect(r.wrote, r.out).toBe(true);
  });
  for (const rung of ['full', 'landlock-seccomp', 'seccomp', 'bwrap-only']) {
    it(`${rung}: fd 20 is closed inside`, async (t) => {
      const s = await sandbox.probe();
      if (!s.rungs.find((x) => x.id === rung)?.available) return t.skip(`rung ${rung} unavailable here`);
      const r = run(rung);
      expect(r.wrote, r.out).toBe(false);
      expect(r.out).toMatch(/Bad file descriptor/);
    });
  }
});

describe('the cgroup descriptor handed to the helper (full rung)', () => {
  // codex opens the run's cgroup.procs and passes it as fd 3; the helper inside bwrap joins the
  // cgroup through it and closes it. The command must find no way back to that descriptor: not
  // its own fd 3, not bwrap's processes' (reopening /proc/PID/fd/N would reach the host's
  // writable cgroup file system).
  it('the command is in the run cgroup and reaches no cgroup.procs descriptor', async (t) => {
    const s = await sandbox.probe();
    const full = s.rungs.find((x) => x.id === 'full');
    if (!full?.available || !full.mechanisms.includes('cgroup-pids'))
      return t.skip('full rung with cgroup-pids unavailable here');
    const ws = mkdtempSync(join(root, 'cg-'));
    const probe = [
      'grep -q codex-sbx- /proc/self/cgroup && echo IN_CGROUP',
      '(echo 0 >&3) 2>/dev/null && echo OWN_FD3_OPEN',
      'for f in /proc/[0-9]*/fd/*; do',
      '  t=$(readlink "$f" 2>/dev/null) || continue',
      '  case "$t" in *cgroup*) echo "SEEN $f $t";; esac',
      '  (echo 0 > "$f") 2>/dev/null && case "$t" in *cgroup*) echo "WROTE $f";; esac',
      'done',
      'echo DONE',
    ].join('\n');
    const r = await sandbox.run({
      policy: toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }),
      command: ['sh', '-c', probe],
      cwd: ws,
      rung: 'full',
    });
    expect(r.stdout, r.stderr).toContain('IN_CGROUP');
    expect(r.stdout).toContain('DONE');
    expect(r.stdout).not.toContain('OWN_FD3_OPEN');
    expect(r.stdout).not.toMatch(/SEEN|WROTE/);
  });
});

describe('bwrap and the helper come from fixed, trusted paths', () => {
  it('a bwrap planted in a writable directory on PATH is never used', async () => {
    const venv = mkdtempSync(join(root, 'venv-'));
    chmodSync(venv, 0o777);
    writeFileSync(join(venv, 'bwrap'), '#!/bin/sh\nshift $#\nexec "$@"\n', { mode: 0o755 });
    const s = await createLinuxSandbox({
      env: { ...process.env, PATH: `${venv}:${process.env.PATH}` },
    }).probe();
    const bw = s.mechanisms.find((m) => m.id === 'bwrap')!;
    if (bw.available) expect(bw.details?.path).not.toBe(join(venv, 'bwrap'));
    expect(JSON.stringify(s)).not.toContain(venv);
  });
  it('CODEX_BWRAP naming a file in a world-writable directory is refused, and the rung degrades', async () => {
    const dir = mkdtempSync(join(root, 'planted-'));
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, 'bwrap'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const s = await createLinuxSandbox({ env: { ...process.env, CODEX_BWRAP: join(dir, 'bwrap') } }).probe();
    const bw = s.mechanisms.find((m) => m.id === 'bwrap')!;
    expect(bw.available).toBe(false);
    expect(bw.reason).toMatch(/refused.*writable by group or others/);
    expect(s.best).not.toBe('full');
  });
  it('untrustedReason: owner and mode of the file and every parent', () => {
    expect(untrustedReason('/usr/bin/env')).toBeNull();
    const dir = mkdtempSync(join(root, 'gw-'));
    writeFileSync(join(dir, 'x'), '', { mode: 0o755 });
    chmodSync(join(dir, 'x'), 0o775);
    expect(untrustedReason(join(dir, 'x'))).toMatch(/writable by group or others \(mode 775\)/);
    expect(untrustedReason(join(dir, 'missing'))).toMatch(/ENOENT/);
  });
  it('a helper inside the writable root is refused at launch (the run could replace it)', async () => {
    const ws = mkdtempSync(join(root, 'ws-helper-'));
    const copy = join(ws, 'codex-sandbox-helper');
    writeFileSync(copy, readFileSync(join(pkg, 'dist', 'codex-sandbox-helper')), { mode: 0o755 });
    const b = createLinuxSandbox({ env: { ...process.env, CODEX_SANDBOX_HELPER: copy } });
    await expect(
      b.run({
        policy: toSandboxPolicy('workspace-write', { workspaceRoots: [ws] }),
        command: ['true'],
        cwd: ws,
        allowDegraded: true,
      }),
    ).rejects.toBeInstanceOf(SandboxSetupError);
  });
});

describe('the rung is reported only after the launch proves it', () => {
  it('a helper that skips every layer (no ready line) makes the run fail instead of reporting the rung', async (t) => {
    // A root-owned stand-in that answers --probe truthfully but then just runs the command.
    const dir = mkdtempSync(join(root, 'fake-helper-'));
    chmodSync(dir, 0o755);
    const fake = join(dir, 'codex-sandbox-helper');
    writeFileSync(
      fake,
      `#!/bin/sh\n[ "$1" = --probe ] && exec ${join(pkg, 'dist', 'codex-sandbox-helper')} --probe\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n`,
      { mode: 0o755 },
    );
    const b = createLinuxSandbox({ env: { ...process.env, CODEX_SANDBOX_HELPER: fake } });
    const s = await b.probe();
    if (!rungAvailable(s, 'landlock-seccomp')) return t.skip('landlock-seccomp unavailable here');
    await expect(
      b.run({ policy: toSandboxPolicy('offline'), command: ['true'], rung: 'landlock-seccomp' }),
    ).rejects.toThrow(/did not prove rung "landlock-seccomp"/);
    // The real helper proves it, and its ready line never reaches the command's stderr.
    const ok = await sandbox.run({ policy: toSandboxPolicy('offline'), command: ['sh', '-c', 'echo e >&2'] });
    expect(ok.stderr).toBe('e\n');
  });
});

describe('without the helper, status never offers a rung that cannot start', () => {
  it('every rung but none is unavailable, with the helper named as missing', async () => {
    const b = createLinuxSandbox({ env: { ...process.env, CODEX_SANDBOX_HELPER: '/nonexistent/helper' } });
    const s = await b.probe();
    for (const r of s.rungs.filter((x) => x.id !== 'none')) {
      expect(r.available, r.id).toBe(false);
      expect(r.missing, r.id).toContain('helper');
    }
    expect(s.best).toBe('none');
    await expect(
      b.run({
        policy: toSandboxPolicy('offline'),
        command: ['true'],
        rung: 'bwrap-only',
        allowDegraded: true,
      }),
    ).rejects.toBeInstanceOf(InvalidRungError);
  });
});

describe('helper build (one build path, fails loudly)', () => {
  const build = (env: Record<string, string>) =>
    spawnSync(process.execPath, [join(pkg, 'scripts', 'build-helper.mjs')], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
  it('a compiler error exits 1 and leaves no (stale) binary', () => {
    const dir = mkdtempSync(join(root, 'build-'));
    const out = join(dir, 'helper');
    writeFileSync(out, 'stale');
    const cc = join(dir, 'badcc');
    writeFileSync(cc, '#!/bin/sh\necho "error: simulated" >&2\nexit 1\n', { mode: 0o755 });
    const r = build({ CC: cc, CODEX_HELPER_OUT: out });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/BUILD FAILED/);
    expect(existsSync(out)).toBe(false);
  });
  it('uses the flags of native/build.json (-Wall -Wextra -Werror), the same the run-time fallback uses', () => {
    const flags = JSON.parse(readFileSync(join(pkg, 'native', 'build.json'), 'utf8')).cflags;
    expect(flags).toEqual(expect.arrayContaining(['-Wall', '-Wextra', '-Werror']));
    const dir = mkdtempSync(join(root, 'build-'));
    const r = build({ CODEX_HELPER_OUT: join(dir, 'helper') });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(flags.join(' '));
  });
  it('links statically where the static C library exists, and dynamically (said so) where it does not', () => {
    const staticFlags = JSON.parse(readFileSync(join(pkg, 'native', 'build.json'), 'utf8')).static;
    expect(staticFlags).toEqual(['-static']);
    const dir = mkdtempSync(join(root, 'build-'));
    // A compiler whose static link fails, as on a machine without glibc-static.
    const cc = join(dir, 'nostatic-cc');
    writeFileSync(
      cc,
      '#!/bin/sh\nfor a in "$@"; do [ "$a" = -static ] && { echo "ld: cannot find -lc" >&2; exit 1; }; done\nexec cc "$@"\n',
      { mode: 0o755 },
    );
    const dynamic = build({ CC: cc, CODEX_HELPER_OUT: join(dir, 'dyn') });
    expect(dynamic.status, dynamic.stderr).toBe(0);
    expect(dynamic.stdout).toMatch(/\(dynamic\)/);
    expect(dynamic.stderr).not.toMatch(/cannot find/);
    const elfInterp = (file: string) => readFileSync(file).includes(Buffer.from('/lib64/ld-linux'));
    expect(elfInterp(join(dir, 'dyn'))).toBe(true);
    const hasStaticLibc = [
      '/usr/lib/x86_64-linux-gnu/libc.a',
      '/usr/lib/aarch64-linux-gnu/libc.a',
      '/usr/lib64/libc.a',
      '/usr/lib/libc.a',
    ].some((f) => existsSync(f));
    const best = build({ CODEX_HELPER_OUT: join(dir, 'best') });
    expect(best.status, best.stderr).toBe(0);
    expect(best.stdout).toMatch(hasStaticLibc ? /-static \(static\)/ : /\(dynamic\)/);
    expect(elfInterp(join(dir, 'best'))).toBe(!hasStaticLibc);
  });
  it('no compiler: not built, said loudly; an error under CI=true', () => {
    const dir = mkdtempSync(join(root, 'build-'));
    const env = { PATH: dir, CC: '', CODEX_HELPER_OUT: join(dir, 'helper') };
    const soft = build({ ...env, CI: 'false' });
    expect(soft.status).toBe(0);
    expect(soft.stderr).toMatch(/NOT BUILT/);
    expect(build({ ...env, CI: 'true' }).status).toBe(1);
  });
});

describe('host diagnosis: why user namespaces fail, and the exact fix', () => {
  const facts = (sysctls: Record<string, string>, error: string, container = false) => ({
    sysctl: (n: string) => sysctls[n] ?? null,
    error,
    container,
  });
  it('names each cause', () => {
    const apparmor = diagnoseUserns(
      facts(
        { 'kernel.apparmor_restrict_unprivileged_userns': '1' },
        'bwrap: setting up uid map: Permission denied',
      ),
    );
    expect(apparmor.cause).toBe('apparmor-userns');
    expect(apparmor.fix).toMatch(/apparmor/);
    expect(diagnoseUserns(facts({ 'user.max_user_namespaces': '0' }, '')).cause).toBe('max-user-namespaces');
    expect(diagnoseUserns(facts({ 'kernel.unprivileged_userns_clone': '0' }, 'x')).cause).toBe(
      'unprivileged-userns-clone',
    );
    expect(
      diagnoseUserns(facts({}, 'bwrap: Creating new namespace failed: Operation not permitted', true)).cause,
    ).toBe('container-no-sys-admin');
  });
  it('in a chroot ("/" not a mount point) the helper reports why its namespaces cannot be set up', (t) => {
    if (!isRoot) return t.skip('needs root to chroot');
    const chroot = ['/usr/sbin/chroot', '/sbin/chroot', '/usr/bin/chroot'].find((p) => existsSync(p));
    if (!chroot) return t.skip('no chroot (coreutils) here');
    // Found on a fresh machine simulated with unshare + chroot: the probe said "helper-ns
    // available" and every run then failed with "make / private: Invalid argument".
    const dir = mkdtempSync(join(root, 'chroot-'));
    const helper = join(pkg, 'dist', 'codex-sandbox-helper');
    const binds = ['usr', 'lib', 'lib64', 'bin'].filter((d) => existsSync(`/${d}`));
    const script = [
      ...binds.map((d) =>
        lstatSync(`/${d}`).isSymbolicLink()
          ? `ln -s ${readlinkSync(`/${d}`)} ${dir}/${d}`
          : `mkdir ${dir}/${d} && mount --bind /${d} ${dir}/${d}`,
      ),
      `cp ${helper} ${dir}/helper`,
      `exec ${chroot} ${dir} /helper --probe`,
    ].join(' && ');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.status !== 0 && /unshare failed|Operation not permitted/.test(r.stderr))
      return t.skip(`cannot create a mount namespace here: ${r.stderr}`);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      canUnshare: false,
      nsError: expect.stringMatching(/^the root directory is not a mount point \(a chroot\?\)/),
    });
    // Outside the chroot the same helper can.
    expect(JSON.parse(spawnSync(helper, ['--probe'], { encoding: 'utf8' }).stdout).canUnshare).toBe(true);
  });
  it('a real user namespace with user.max_user_namespaces=0: the probe names the cause and degrades', async (t) => {
    if (!isRoot) return t.skip('needs root to write the limit in a child user namespace');
    // The diagnosis is of bwrap's failure, so it needs a bwrap that works on this host.
    if (!rungAvailable(await createLinuxSandbox().probe(), 'full')) return t.skip('no working bwrap here');
    const script = `
      import { probeLinux } from ${JSON.stringify(join(pkg, 'dist', 'index.js'))};
      const p = await probeLinux({ refresh: true });
      console.log(JSON.stringify({ best: p.status.best, diagnosis: p.status.diagnosis ?? [] }));
    `;
    const r = spawnSync(
      'unshare',
      [
        '--user',
        '--map-root-user',
        'sh',
        '-c',
        `echo 0 > /proc/sys/user/max_user_namespaces && exec "${process.execPath}" --input-type=module -e '${script}'`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0 && /unshare failed|Operation not permitted/.test(r.stderr))
      return t.skip(`cannot create a user namespace here: ${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect(got.best).not.toBe('full');
    expect(got.diagnosis[0]).toMatchObject({ mechanism: 'bwrap', cause: 'max-user-namespaces' });
    expect(got.diagnosis[0].fix).toMatch(/sysctl -w user.max_user_namespaces/);
  });
});

describe('secrets: what status lists as masked', () => {
  it('the built-in list, expanded against the home, reduced to what exists', () => {
    const home = mkdtempSync(join(root, 'home-'));
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.netrc'), 'x');
    const got = secretsToMask(toSandboxPolicy('workspace-write'), home);
    expect(got).toEqual([
      { path: join(home, '.ssh'), dir: true },
      { path: join(home, '.netrc'), dir: false },
    ]);
    expect(secretsToMask(toSandboxPolicy('trusted', { explicit: true }), home)).toEqual([]);
    expect(
      secretsToMask(toSandboxPolicy('offline', { allowRead: ['~/.netrc'], homeDir: home }), home),
    ).toEqual([{ path: join(home, '.ssh'), dir: true }]);
  });
});
