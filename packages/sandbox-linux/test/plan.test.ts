import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toSandboxPolicy } from '@codex/security-profile';
import { afterEach, describe, expect, it } from 'vitest';
import { expandWithExclusions, planLaunch, protectedPaths } from '../src/plan.js';

const dirs: string[] = [];
function ws(): string {
  const d = mkdtempSync('/var/tmp/codex-plan-');
  dirs.push(d);
  mkdirSync(join(d, '.git', 'hooks'), { recursive: true });
  mkdirSync(join(d, 'src', 'deep'), { recursive: true });
  writeFileSync(join(d, 'README'), 'x');
  symlinkSync('/etc', join(d, 'etc-link'));
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const base = {
  helperPath: '/h',
  bwrapPath: '/bw',
  cgroupDir: null,
  privateTmpDir: null,
  cwd: '/w',
  command: ['true'],
};

describe('expandWithExclusions (Landlock cannot carve holes, so grant the siblings)', () => {
  it('grants the root itself when nothing protected lies beneath', () => {
    const d = ws();
    expect(expandWithExclusions(d, ['/elsewhere/.git'])).toEqual([d]);
  });
  it('grants every sibling of .git but neither .git, the root, nor symlinks', () => {
    const d = ws();
    const got = expandWithExclusions(d, [join(d, '.git')]);
    expect(got).toEqual([join(d, 'README'), join(d, 'src')]);
    expect(got).not.toContain(d);
    expect(got).not.toContain(join(d, 'etc-link'));
  });
  it('descends to protect a nested path and grants nothing when the root itself is protected', () => {
    const d = ws();
    expect(expandWithExclusions(d, [join(d, 'src', 'deep')])).toEqual([join(d, '.git'), join(d, 'README')]);
    expect(expandWithExclusions(d, [d])).toEqual([]);
  });
});

describe('protectedPaths', () => {
  it('a .git file is protected, and the code-running parts of the git dir it points to', () => {
    const d = ws();
    rmSync(join(d, '.git'), { recursive: true });
    mkdirSync(join(d, 'src', 'realgit', 'hooks'), { recursive: true });
    writeFileSync(join(d, 'src', 'realgit', 'config'), '[core]\n\tbare = false\n');
    writeFileSync(join(d, '.git'), 'gitdir: src/realgit\n');
    mkdirSync(join(d, '.codex'));
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [d] });
    expect(protectedPaths(policy)).toEqual(
      [
        join(d, '.codex'),
        join(d, '.git'),
        join(d, 'src', 'realgit', 'config'),
        join(d, 'src', 'realgit', 'hooks'),
      ].sort(),
    );
  });
});

describe('core.hooksPath', () => {
  it('a hooks directory configured in the repository is protected too, even with a trailing comment', () => {
    const d = ws();
    mkdirSync(join(d, 'tools', 'hooks'), { recursive: true });
    writeFileSync(
      join(d, '.git', 'config'),
      '[core]\n\tbare = false\n\thooksPath = tools/hooks ; by the attacker\n',
    );
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [d] });
    expect(protectedPaths(policy)).toEqual([
      join(d, '.git', 'config'),
      join(d, '.git', 'hooks'),
      join(d, 'tools', 'hooks'),
    ]);
  });
});

describe('planLaunch', () => {
  it('full rung: bwrap with read-only root, binds, net unshared, then the helper joining the cgroup through fd 3, with Landlock+seccomp', () => {
    const d = ws();
    const policy = toSandboxPolicy('workspace-write', { workspaceRoots: [d] });
    const plan = planLaunch({
      ...base,
      cgroupDir: '/cg',
      policy,
      mechanisms: ['bwrap', 'landlock', 'seccomp', 'cgroup-pids'],
    });
    const a = plan.argv.join(' ');
    expect(plan.argv[0]).toBe('/bw');
    expect(plan.cgroupProcsFd).toBe(true);
    expect(a).not.toContain('--cgroup /cg');
    expect(a).toContain('/bw --new-session --die-with-parent --unshare-user --unshare-pid');
    expect(a).toContain('--unshare-net');
    expect(a).toContain('--cap-drop ALL --ro-bind / / --dev /dev --proc /proc --tmpfs /run --tmpfs /tmp');
    expect(a).toContain(`--bind ${d} ${d}`);
    expect(a).toContain(`--ro-bind ${join(d, '.git', 'hooks')} ${join(d, '.git', 'hooks')}`);
    expect(a).not.toContain(`--ro-bind ${join(d, '.git')} ${join(d, '.git')} `);
    expect(a).toMatch(
      /-- \/h --cgroup-fd 3 --drop-caps --landlock .*--seccomp --no-network --close-fds -- true$/,
    );
    expect(plan.landlockWritable).toContain(d);
  });
  it('gate: the helper waits on the descriptor after the cgroup one, after every layer and before closing descriptors; none without it', () => {
    const policy = toSandboxPolicy('offline');
    const full = ['bwrap', 'landlock', 'seccomp', 'cgroup-pids'];
    const withCg = planLaunch({
      ...base,
      cgroupDir: '/cg',
      policy,
      mechanisms: full,
      gate: true,
      nonce: 'n',
    });
    expect(withCg.gateFd).toBe(4);
    expect(withCg.argv.join(' ')).toMatch(/--seccomp --no-network --gate 4 --close-fds .*--ready n -- true$/);
    const noCg = planLaunch({ ...base, policy, mechanisms: ['landlock', 'seccomp'], gate: true });
    expect(noCg.gateFd).toBe(3);
    expect(noCg.argv.join(' ')).toContain('--gate 3 --close-fds');
    const ungated = planLaunch({ ...base, cgroupDir: '/cg', policy, mechanisms: full });
    expect(ungated.gateFd).toBeNull();
    expect(ungated.argv).not.toContain('--gate');
    // No helper in the launch (trusted): nothing can wait, the caller waits before spawning.
    const trusted = planLaunch({
      ...base,
      policy: toSandboxPolicy('trusted', { explicit: true }),
      mechanisms: [],
      gate: true,
    });
    expect(trusted.gateFd).toBeNull();
  });
  it('what the launch needs under the private /tmp (cwd, helper, program) is bound back read-only, or covered by its writable root', () => {
    const offline = toSandboxPolicy('offline', { workspaceRoots: ['/tmp/clone'] });
    const a = planLaunch({ ...base, cwd: '/tmp/clone/sub', policy: offline, mechanisms: ['bwrap'] }).argv;
    const tmpfs = a.indexOf('--tmpfs');
    const back = a.findIndex((x, i) => x === '--ro-bind' && a[i + 1] === '/tmp/clone/sub');
    expect(tmpfs).toBeGreaterThan(-1);
    expect(back).toBeGreaterThan(tmpfs);
    expect(a.slice(a.indexOf('--chdir'), a.indexOf('--chdir') + 2)).toEqual(['--chdir', '/tmp/clone/sub']);
    const helper = planLaunch({
      ...base,
      helperPath: '/tmp/clone/dist/helper',
      command: ['/tmp/probe', '-x'],
      cwd: '/w',
      policy: offline,
      mechanisms: ['bwrap', 'seccomp'],
    }).argv.join(' ');
    expect(helper).toContain('--tmpfs /tmp --ro-bind /tmp/clone/dist/helper /tmp/clone/dist/helper');
    expect(helper).toContain('--ro-bind /tmp/probe /tmp/probe');
    const elsewhere = planLaunch({ ...base, cwd: '/w', policy: offline, mechanisms: ['bwrap'] }).argv;
    expect(elsewhere.filter((x) => x === '--ro-bind')).toHaveLength(1); // only `/`
    const d = mkdtempSync('/tmp/codex-plan-');
    dirs.push(d);
    const ww = toSandboxPolicy('workspace-write', { workspaceRoots: [d] });
    const w = planLaunch({ ...base, cwd: d, policy: ww, mechanisms: ['bwrap'] }).argv.join(' ');
    expect(w).toContain(`--bind ${d} ${d}`);
    expect(w).not.toContain(`--ro-bind ${d} ${d}`);
  });
  it('proxied network profiles get their own empty netns, the egress binds, and no --no-network', () => {
    const d = ws();
    const policy = toSandboxPolicy('workspace-net', { workspaceRoots: [d] });
    const a = planLaunch({
      ...base,
      policy,
      mechanisms: ['bwrap', 'landlock', 'seccomp'],
      egressBinds: ['/tmp/codex-egress-x'],
    }).argv.join(' ');
    expect(a).toContain('--unshare-net');
    expect(a).toContain('--ro-bind /tmp/codex-egress-x /tmp/codex-egress-x');
    expect(a).not.toContain('--no-network');
  });
  it('only a trusted (full network) policy keeps the host network namespace', () => {
    const policy = toSandboxPolicy('trusted');
    const a = planLaunch({ ...base, policy, mechanisms: ['bwrap', 'landlock', 'seccomp'] }).argv.join(' ');
    expect(a).not.toContain('--unshare-net');
  });
  it('landlock-seccomp rung: one helper, expanded grants, private TMPDIR, metadata calls denied when nothing is writable', () => {
    const d = ws();
    const rw = planLaunch({
      ...base,
      privateTmpDir: '/var/tmp/p',
      policy: toSandboxPolicy('workspace-write', { workspaceRoots: [d] }),
      mechanisms: ['landlock', 'seccomp'],
    });
    expect(rw.argv[0]).toBe('/h');
    expect(rw.landlockWritable).toEqual([
      join(d, 'README'),
      join(d, 'src'),
      '/var/tmp/p',
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/tty',
      '/dev/ptmx',
      '/dev/pts',
    ]);
    expect(rw.env.TMPDIR).toBe('/var/tmp/p');
    expect(rw.argv).not.toContain('--no-chmod');
    const ro = planLaunch({
      ...base,
      policy: toSandboxPolicy('offline'),
      mechanisms: ['landlock', 'seccomp'],
    });
    expect(ro.argv).toContain('--no-chmod');
    expect(ro.landlockWritable.filter((p) => !p.startsWith('/dev/'))).toEqual([]);
  });
  it('no mechanisms: the bare command', () => {
    expect(planLaunch({ ...base, policy: toSandboxPolicy('offline'), mechanisms: [] }).argv).toEqual([
      'true',
    ]);
  });
});
