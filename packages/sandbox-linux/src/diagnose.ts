// Why user namespaces (and so bubblewrap) do not work on this host, and the exact fix.
import { existsSync, readFileSync } from 'node:fs';

export interface HostDiagnosis {
  /** Short identifier of the cause. */
  readonly cause:
    | 'apparmor-userns'
    | 'max-user-namespaces'
    | 'unprivileged-userns-clone'
    | 'container-no-sys-admin'
    | 'unknown';
  /** What is wrong, in one sentence. */
  readonly message: string;
  /** The exact fix (a command or a setting). */
  readonly fix: string;
}

export interface HostFacts {
  /** `/proc/sys/...` value by name (null when the file does not exist). */
  readonly sysctl: (name: string) => string | null;
  /** The error bwrap (or a namespace attempt) printed. */
  readonly error: string;
  /** Running inside a container (Docker, Podman, Kubernetes…). */
  readonly container: boolean;
}

export function readSysctl(name: string): string | null {
  try {
    return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return null;
  }
}

export function inContainer(): boolean {
  if (existsSync('/.dockerenv') || existsSync('/run/.containerenv')) return true;
  try {
    return /docker|kubepods|containerd|libpod|lxc/.test(readFileSync('/proc/1/cgroup', 'utf8'));
  } catch {
    return false;
  }
}

/** Names the cause of a failed user-namespace creation from host facts. */
export function diagnoseUserns(f: HostFacts): HostDiagnosis {
  const max = f.sysctl('user.max_user_namespaces');
  if (max === '0' || /no space left on device|ENOSPC/i.test(f.error)) {
    return {
      cause: 'max-user-namespaces',
      message: 'user namespaces are disabled: user.max_user_namespaces is 0',
      fix: 'sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/90-userns.conf)',
    };
  }
  if (f.sysctl('kernel.apparmor_restrict_unprivileged_userns') === '1') {
    return {
      cause: 'apparmor-userns',
      message:
        'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10+)',
      fix: "install an AppArmor profile that allows bwrap to create user namespaces: printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile bwrap /usr/bin/bwrap flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee /etc/apparmor.d/bwrap && sudo apparmor_parser -r /etc/apparmor.d/bwrap (or, machine-wide: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)",
    };
  }
  if (f.sysctl('kernel.unprivileged_userns_clone') === '0') {
    return {
      cause: 'unprivileged-userns-clone',
      message: 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)',
      fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1',
    };
  }
  if (f.container && /operation not permitted|EPERM|permission denied/i.test(f.error)) {
    return {
      cause: 'container-no-sys-admin',
      message: "this container's seccomp profile or missing CAP_SYS_ADMIN forbids creating namespaces",
      fix: 'run the container with --security-opt seccomp=unconfined --security-opt apparmor=unconfined (or --cap-add SYS_ADMIN); otherwise codex uses the landlock-seccomp rung',
    };
  }
  return {
    cause: 'unknown',
    message: `namespaces cannot be created: ${f.error || 'unknown error'}`,
    fix: 'check `unshare --user --map-root-user true` on this host; see docs/sandbox-degradation.md',
  };
}
