/*
 * codex-sandbox-helper: the small, auditable native part of @codex/sandbox-linux.
 *
 * It is compiled from this file on install/build with the machine's C compiler (never
 * downloaded prebuilt) and does, in this order, only what it is asked to:
 *
 *   --cgroup DIR     move itself into the (already created) cgroup DIR (pids limit, tree kill)
 *   --cgroup-fd N    the same through N, the cgroup's cgroup.procs opened for writing by the
 *                    launcher (inside bwrap, where the cgroup directory is read-only): writes 0
 *                    ("this process") to it, then closes it
 *   --nproc N        set RLIMIT_NPROC to N (effective for non-root users only)
 *   --setsid         start a new session (no controlling terminal: no TIOCSTI injection)
 *   --landlock       restrict filesystem writes to the --rw paths (Landlock ABI >= 1);
 *                    with --no-network also deny TCP bind/connect (ABI >= 4);
 *                    scope signals and abstract unix sockets to the sandbox (ABI >= 6)
 *   --rw PATH        (repeatable) a directory or file that stays writable under --landlock
 *   --seccomp        install the seccomp-BPF filter described below (implies no_new_privs)
 *   --no-network     with --seccomp: socket() fails with EPERM for every family but AF_UNIX
 *   --no-chmod       with --seccomp: chmod/chown/xattr/utime family fails with EPERM (used when
 *                    nothing may be written and no mount namespace makes the disk read-only)
 *   --no-new-privs   set PR_SET_NO_NEW_PRIVS (always set by --landlock and --seccomp)
 *   --unshare-ipc-uts  new IPC and UTS namespaces (needs CAP_SYS_ADMIN: root without bwrap)
 *   --mount-ns       new mount namespace, propagation private, every mount read-only; then, in
 *                    order: --bind-rw PATH (writable again), --bind-ro PATH (read-only bind of a
 *                    protected path), --mask PATH SRC (bind SRC, a mode-000 file or directory,
 *                    over a secret), --tmpfs PATH (empty private tmpfs, e.g. /run, /dev/shm),
 *                    --rebind PATH (bind PATH's host file back after a --tmpfs hid it;
 *                    --rebind-rw PATH: writable)
 *   --read PATH      (repeatable, with --landlock) reading files/executing is limited to these
 *                    paths (the built-in secrets are left out of the list)
 *   --drop-caps      clear the bounding, ambient, inheritable, permitted and effective capability
 *                    sets (securebits NOROOT locked first when allowed); verified, fatal otherwise
 *   --close-fds      close every descriptor above 2 before exec (--keep-fd N keeps N)
 *   --host-ns LIST   refuse to run unless each namespace "name:[inode]" in LIST (comma separated)
 *                    differs from ours: proves the launcher above us really created them
 *   --forward A:P=S  (repeatable) the egress bridge: listen on loopback address A (127.0.0.1 or
 *                    ::1) port P in this (the sandbox's own) network namespace, and join every
 *                    connection to the Unix socket S (the egress proxy, bind-mounted in) with
 *                    splice(2), in one child process that dies with the command. The listening
 *                    sockets exist before the command starts.
 *   --gate N         once every other layer is in place, wait on descriptor N (above 2) for the
 *                    launcher's go-ahead: one byte "g" lets the command run; anything else or
 *                    end of file ends the helper with exit 122, the command never started. The
 *                    launcher sets the sandbox up while it still decides whether to run at all.
 *   --ready NONCE    just before exec, write "codex-sandbox-helper: ready NONCE <layers>" on stderr
 *   -- CMD ARGS...   execvp the command
 *
 *   --probe          print one JSON line describing what this kernel offers, then exit 0
 *
 * Any failure to apply a requested layer is fatal (exit 121, message on stderr): the helper
 * never runs the command with less than it was asked to enforce.
 *
 * The seccomp filter (checked architecture first; a foreign architecture or an x32 system
 * call number kills the process, so the ia32/x32 entry points cannot bypass the filter):
 *   EPERM: ptrace, process_vm_readv/writev, mount, umount2, pivot_root, unshare, setns,
 *          bpf, keyctl, add_key, request_key, kexec_load, kexec_file_load, perf_event_open,
 *          init_module, finit_module, delete_module, io_uring_setup/enter/register,
 *          open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr,
 *          userfaultfd, clone(flags with any CLONE_NEW*)
 *   ENOSYS: clone3 (its flags live in memory a filter cannot read; libc falls back to clone)
 *          fanotify_init, sethostname, setdomainname, syslog, reboot, swapon, swapoff, acct,
 *          settimeofday, clock_settime, clock_adjtime, adjtimex, iopl, ioperm, quotactl,
 *          vhangup, open_by_handle_at, lookup_dcookie, pidfd_getfd,
 *          ioctl(TIOCSTI/TIOCLINUX) (keystroke injection into a terminal),
 *          mknod/mknodat of a character or block device, prlimit64 on another process (pid != 0)
 *   EPERM when --no-network: socket(domain != AF_UNIX)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/un.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_SETUP 121
/* --gate closed without the go-ahead: the launcher cancelled the run before the command started. */
#define EXIT_CANCELLED 122

/* Landlock constants, defined here so that old kernel headers still build a full helper. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#define LL_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

#if defined(__x86_64__)
#define CODEX_AUDIT_ARCH AUDIT_ARCH_X86_64
#define CODEX_ARCH_NAME "x86_64"
#define CODEX_X32_BIT 0x40000000U
#elif defined(__aarch64__)
#define CODEX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#define CODEX_ARCH_NAME "aarch64"
#else
#error "codex-sandbox-helper: unsupported architecture (x86_64 and aarch64 only)"
#endif

#define NS_FLAGS                                                                              \
  (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
   CLONE_NEWCGROUP)

static void die(const char *what) {
  fprintf(stderr, "codex-sandbox-helper: %s: %s\n", what, strerror(errno));
  exit(EXIT_SETUP);
}

static void die_msg(const char *msg) {
  fprintf(stderr, "codex-sandbox-helper: %s\n", msg);
  exit(EXIT_SETUP);
}

/* A descriptor number given to `flag` (--cgroup-fd, --gate): 3 to 1023, else a setup error. */
static int fd_arg(const char *value, const char *flag) {
  char *end = NULL;
  long n = strtol(value, &end, 10);
  if (!end || *end || n < 3 || n > 1023) {
    fprintf(stderr, "codex-sandbox-helper: %s needs a descriptor number above 2\n", flag);
    exit(EXIT_SETUP);
  }
  return (int)n;
}

static int landlock_abi(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? -errno : (int)abi;
}

/* ---------------------------------------------------------------- seccomp */

#define MAX_FILTER 256
static struct sock_filter filter[MAX_FILTER];
static unsigned short flen = 0;

static void emit(struct sock_filter insn) {
  if (flen >= MAX_FILTER) die_msg("seccomp filter too long");
  filter[flen++] = insn;
}

#define RET(v) emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))
#define LOAD_NR() emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)))

/* if (nr == n) return value; */
static void deny_nr(long nr, uint32_t value) {
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1));
  RET(value);
}

static void install_seccomp(int no_network, int no_chmod) {
  const uint32_t eperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  const uint32_t enosys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
  /* Architecture check: anything but the native ABI is killed. */
  emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CODEX_AUDIT_ARCH, 1, 0));
  RET(SECCOMP_RET_KILL_PROCESS);
  LOAD_NR();
#ifdef CODEX_X32_BIT
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, CODEX_X32_BIT, 0, 1));
  RET(SECCOMP_RET_KILL_PROCESS);
#endif
  static const long denied[] = {
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev, __NR_mount, __NR_umount2,
    __NR_pivot_root, __NR_unshare, __NR_setns, __NR_bpf, __NR_keyctl, __NR_add_key,
    __NR_request_key, __NR_kexec_load,
#ifdef __NR_kexec_file_load
    __NR_kexec_file_load,
#endif
    __NR_perf_event_open, __NR_init_module, __NR_finit_module, __NR_delete_module,
    __NR_userfaultfd,
#ifdef __NR_io_uring_setup
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
#else
    425, 426, 427,
#endif
#ifdef __NR_open_tree
    __NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
#else
    428, 429, 430, 431, 432, 433,
#endif
#ifdef __NR_mount_setattr
    __NR_mount_setattr,
#else
    442,
#endif
  };
  for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) deny_nr(denied[i], eperm);
#ifdef __NR_clone3
  deny_nr(__NR_clone3, enosys);
#else
  deny_nr(435, enosys);
#endif
  if (no_chmod) {
    static const long meta[] = {
#ifdef __NR_chmod
      __NR_chmod, __NR_chown, __NR_lchown, __NR_utime, __NR_utimes, __NR_futimesat,
#endif
      __NR_fchmod, __NR_fchmodat, __NR_fchown, __NR_fchownat, __NR_utimensat,
      __NR_setxattr, __NR_lsetxattr, __NR_fsetxattr, __NR_removexattr, __NR_lremovexattr,
      __NR_fremovexattr,
#ifdef __NR_fchmodat2
      __NR_fchmodat2,
#else
      452,
#endif
    };
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++) deny_nr(meta[i], eperm);
  }
  static const long admin[] = {
    __NR_fanotify_init, __NR_sethostname, __NR_setdomainname, __NR_syslog, __NR_reboot,
    __NR_swapon, __NR_swapoff, __NR_acct, __NR_settimeofday, __NR_clock_settime,
    __NR_clock_adjtime, __NR_adjtimex, __NR_quotactl, __NR_vhangup, __NR_open_by_handle_at,
#ifdef __NR_iopl
    __NR_iopl, __NR_ioperm,
#endif
#ifdef __NR_lookup_dcookie
    __NR_lookup_dcookie,
#endif
#ifdef __NR_pidfd_getfd
    __NR_pidfd_getfd,
#else
    438,
#endif
  };
  for (size_t i = 0; i < sizeof admin / sizeof admin[0]; i++) deny_nr(admin[i], eperm);
  /* ioctl(fd, TIOCSTI | TIOCLINUX): typing into (or reprogramming) a terminal. Arg 1, low word. */
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 4));
  emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1));
  RET(eperm);
  LOAD_NR();
  /* prlimit64(pid, ...): only on ourselves (pid 0). */
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prlimit64, 0, 3));
  emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
  RET(eperm);
  LOAD_NR();
  /* mknod(path, mode, dev) / mknodat(dirfd, path, mode, dev): no character or block devices. */
#ifdef __NR_mknod
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknod, 0, 5));
  emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
  emit((struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1));
  RET(eperm);
  LOAD_NR();
#endif
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknodat, 0, 5));
  emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])));
  emit((struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1));
  RET(eperm);
  LOAD_NR();
  /* clone: creating namespaces is the same as unshare. Flags are argument 0 (low word). */
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3));
  emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
  emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1));
  RET(eperm);
  if (no_network) {
    LOAD_NR();
    /* socket(domain, ...): only AF_UNIX. (There is no socketcall on x86_64/aarch64.) */
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3));
    emit((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
    emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0));
    RET(eperm);
  }
  RET(SECCOMP_RET_ALLOW);

  struct sock_fprog prog = {.len = flen, .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)");
  if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) die("seccomp(SECCOMP_SET_MODE_FILTER)");
}

/* ---------------------------------------------------------------- landlock */

static void install_landlock(char **rw, int nrw, char **rd, int nrd, int no_network) {
  int abi = landlock_abi();
  if (abi < 1) {
    errno = -abi;
    die("landlock is not available");
  }
  uint64_t dir_write = LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR |
                       LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO |
                       LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM;
  uint64_t file_write = LL_FS_WRITE_FILE;
  /* With --read, reading file contents and executing are handled too (directory listing is not:
     a grant on / would cover every directory below it). */
  uint64_t read_rights = nrd > 0 ? (LL_FS_READ_FILE | LL_FS_EXECUTE) : 0;
  if (abi >= 2) dir_write |= LL_FS_REFER;
  if (abi >= 3) {
    dir_write |= LL_FS_TRUNCATE;
    file_write |= LL_FS_TRUNCATE;
  }
  struct ll_ruleset_attr attr = {.handled_access_fs = dir_write | read_rights, .handled_access_net = 0, .scoped = 0};
  size_t size = sizeof(uint64_t);
  if (abi >= 4) {
    size = 2 * sizeof(uint64_t);
    if (no_network) attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
  }
  if (abi >= 6) {
    size = 3 * sizeof(uint64_t);
    attr.scoped = LL_SCOPE_SIGNAL | (no_network ? LL_SCOPE_ABSTRACT_UNIX_SOCKET : 0);
  }
  int ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0) die("landlock_create_ruleset");
  for (int i = 0; i < nrw + nrd; i++) {
    const char *path = i < nrw ? rw[i] : rd[i - nrw];
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue; /* a root that does not exist grants nothing */
      fprintf(stderr, "codex-sandbox-helper: open %s: %s\n", path, strerror(errno));
      exit(EXIT_SETUP);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat");
    uint64_t file_read = read_rights;
    uint64_t access = i < nrw ? (S_ISDIR(st.st_mode) ? dir_write : file_write) | read_rights
                              : (S_ISDIR(st.st_mode) ? read_rights : file_read);
    struct ll_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};
    if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) != 0) {
      fprintf(stderr, "codex-sandbox-helper: landlock_add_rule %s: %s\n", path, strerror(errno));
      exit(EXIT_SETUP);
    }
    close(fd);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)");
  if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) die("landlock_restrict_self");
  close(ruleset);
}


/* ---------------------------------------------------------------- capabilities */

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define SB_NOROOT (1 << 0)
#define SB_NOROOT_LOCKED (1 << 1)
#define SB_NO_SETUID_FIXUP (1 << 2)
#define SB_NO_SETUID_FIXUP_LOCKED (1 << 3)

static int last_cap(void) {
  int last = 40;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = 40;
    fclose(f);
  }
  return last;
}

static int has_effective(int cap) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return 0;
  return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* Clears all five capability sets and verifies it. Root without capabilities is an ordinary user
   that happens to own root's files: Landlock, seccomp and read-only mounts still bound it. */
static void drop_caps(void) {
  int last = last_cap();
  /* Keep root from regaining everything at exec (and at setuid) where we may set it. */
  if (has_effective(8 /* CAP_SETPCAP */)) {
    int bits = SB_NOROOT | SB_NOROOT_LOCKED | SB_NO_SETUID_FIXUP | SB_NO_SETUID_FIXUP_LOCKED;
    if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0) die("prctl(PR_SET_SECUREBITS)");
  }
  for (int c = 0; c <= last; c++) {
    int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
    if (r == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) die("prctl(PR_CAPBSET_DROP)");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    die("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  if (syscall(SYS_capset, &h, d) != 0) die("capset");
  /* Verify. */
  if (syscall(SYS_capget, &h, d) != 0) die("capget");
  for (int i = 0; i < 2; i++)
    if (d[i].effective || d[i].permitted || d[i].inheritable) die_msg("capabilities remain after capset");
  for (int c = 0; c <= last; c++) {
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) die_msg("bounding set not empty");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) die_msg("ambient set not empty");
  }
}

/* ---------------------------------------------------------------- descriptors */

static void close_fds(const int *keep, int nkeep) {
  int maxfd = 3;
  for (int k = 0; k < nkeep; k++)
    if (keep[k] + 1 > maxfd) maxfd = keep[k] + 1;
  /* Close everything above 2 except the kept ones (few, so close the gaps one range at a time). */
  unsigned int from = 3;
  for (;;) {
    int next = -1;
    for (int k = 0; k < nkeep; k++)
      if (keep[k] >= (int)from && (next < 0 || keep[k] < next)) next = keep[k];
    unsigned int to = next < 0 ? ~0U : (unsigned int)next - 1;
    if (to >= from) {
#ifdef SYS_close_range
      if (syscall(SYS_close_range, from, to, 0) != 0)
#endif
      {
        long lim = sysconf(_SC_OPEN_MAX);
        if (lim < 0 || lim > 1048576) lim = 1048576;
        for (long fd = from; fd <= (long)to && fd < lim; fd++) close((int)fd);
      }
    }
    if (next < 0) break;
    from = (unsigned int)next + 1;
  }
  (void)maxfd;
}

/* ---------------------------------------------------------------- namespaces and mounts */

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
struct codex_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static void set_ro(const char *path, int ro, int recursive) {
  struct codex_mount_attr a = {0};
  if (ro) a.attr_set = MOUNT_ATTR_RDONLY;
  else a.attr_clr = MOUNT_ATTR_RDONLY;
  if (syscall(__NR_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof a) != 0) {
    fprintf(stderr, "codex-sandbox-helper: mount_setattr %s: %s\n", path, strerror(errno));
    exit(EXIT_SETUP);
  }
}

static void bind_mount(const char *src, const char *dst) {
  if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) {
    fprintf(stderr, "codex-sandbox-helper: bind %s on %s: %s\n", src, dst, strerror(errno));
    exit(EXIT_SETUP);
  }
}

enum { OP_RW, OP_RO, OP_MASK, OP_TMPFS, OP_REBIND, OP_REBIND_RW };
struct mount_op {
  int kind;
  const char *a;
  const char *b;
  int fd; /* OP_REBIND: the host file, opened before any tmpfs hides it */
};

static void mkdirs_for(const char *path, int is_dir) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) die_msg("path too long");
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    mkdir(buf, 0755);
    *p = '/';
  }
  if (is_dir) mkdir(buf, 0755);
  else {
    int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
  }
}

static void apply_mounts(struct mount_op *ops, int nops) {
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) die("getcwd");
  if (unshare(CLONE_NEWNS) != 0) die("unshare(CLONE_NEWNS)");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make / private");
  /* Sources a --tmpfs may hide later are opened now, in the new namespace's copy of the host's view
     (a descriptor from the old namespace cannot be bind-mounted). */
  for (int i = 0; i < nops; i++) {
    if (ops[i].kind == OP_REBIND || ops[i].kind == OP_REBIND_RW) ops[i].fd = open(ops[i].a, O_PATH | O_CLOEXEC);
    if (ops[i].kind == OP_MASK) {
      ops[i].fd = open(ops[i].b, O_PATH | O_CLOEXEC);
      if (ops[i].fd < 0) die("open mask source");
    }
  }
  set_ro("/", 1, 1);
  for (int i = 0; i < nops; i++) {
    struct mount_op *o = &ops[i];
    struct stat st;
    switch (o->kind) {
    case OP_RW:
      if (stat(o->a, &st) != 0) continue; /* nothing to grant */
      bind_mount(o->a, o->a);
      set_ro(o->a, 0, 0);
      break;
    case OP_RO:
      if (stat(o->a, &st) != 0) continue;
      bind_mount(o->a, o->a);
      set_ro(o->a, 1, 1);
      break;
    case OP_MASK: {
      if (lstat(o->a, &st) != 0) continue;
      char src[64];
      snprintf(src, sizeof src, "/proc/self/fd/%d", o->fd);
      bind_mount(src, o->a);
      set_ro(o->a, 1, 0);
      close(o->fd);
      break;
    }
    case OP_TMPFS:
      if (stat(o->a, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (mount("tmpfs", o->a, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
        fprintf(stderr, "codex-sandbox-helper: tmpfs on %s: %s\n", o->a, strerror(errno));
        exit(EXIT_SETUP);
      }
      if (strcmp(o->a, "/dev/shm") == 0 || strcmp(o->a, "/tmp") == 0) chmod(o->a, 01777);
      break;
    case OP_REBIND:
    case OP_REBIND_RW: {
      if (o->fd < 0) continue;
      char src[64];
      snprintf(src, sizeof src, "/proc/self/fd/%d", o->fd);
      if (fstat(o->fd, &st) != 0) die("fstat");
      mkdirs_for(o->a, S_ISDIR(st.st_mode));
      bind_mount(src, o->a);
      set_ro(o->a, o->kind == OP_REBIND, 0);
      close(o->fd);
      break;
    }
    }
  }
  /* Our working directory still points into the old (now read-only) mounts. */
  if (chdir(cwd) != 0) die("chdir back to the working directory");
}

/* "pid:[4026531836],net:[4026531840]": each of our namespaces must differ from these. */
static void check_host_ns(const char *list) {
  char buf[1024];
  if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) die_msg("--host-ns too long");
  for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
    char *colon = strchr(tok, ':');
    if (!colon) die_msg("--host-ns: expected name:[inode]");
    char path[128], link[128];
    snprintf(path, sizeof path, "/proc/self/ns/%.*s", (int)(colon - tok), tok);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) die("readlink /proc/self/ns");
    link[n] = 0;
    if (strcmp(link, tok) == 0) {
      fprintf(stderr, "codex-sandbox-helper: still in the host's %.*s namespace: the launcher did not isolate\n",
              (int)(colon - tok), tok);
      exit(EXIT_SETUP);
    }
  }
}

/* Can this process create IPC/UTS/mount namespaces itself (root with CAP_SYS_ADMIN)? */
/* Whether the helper can set up its own namespaces the way a run does: 0 yes; 1 unshare failed
   (no CAP_SYS_ADMIN); 2 "/" cannot be made private because it is not a mount point (a chroot). */
static int ns_check(void) {
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) != 0) _exit(1);
    _exit(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 ? 0 : 2);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* ---------------------------------------------------------------- forward */

struct forward {
  int listen_fd;
  const char *path;
};

/* One direction of a joined connection: bytes read from `from` wait in a pipe for `to`. */
struct half {
  int from, to;
  int pipe_r, pipe_w;
  size_t pending;
  int eof, shut;
};

struct conn {
  struct half h[2];
  int live;
};

#define FWD_PIPE_BYTES (256 * 1024)

static int parse_forward(const char *spec, struct forward *f) {
  /* Exactly 127.0.0.1:PORT=/path or [::1]:PORT=/path: the sandbox's own loopback, nothing else. */
  int v6;
  const char *p;
  if (strncmp(spec, "127.0.0.1:", 10) == 0) {
    v6 = 0;
    p = spec + 10;
  } else if (strncmp(spec, "[::1]:", 6) == 0) {
    v6 = 1;
    p = spec + 6;
  } else {
    return -1;
  }
  const char *eq = strchr(p, '=');
  if (!eq || eq[1] != '/' || strlen(eq + 1) >= sizeof(((struct sockaddr_un *)0)->sun_path)) return -1;
  char *end = NULL;
  long port = strtol(p, &end, 10);
  if (end != eq || port < 1 || port > 65535) return -1;
  struct sockaddr_storage ss = {0};
  socklen_t len;
  if (v6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  }
  int one = 1;
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("forward: socket");
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) die("forward: bind");
  if (listen(fd, 128) != 0) die("forward: listen");
  f->listen_fd = fd;
  f->path = eq + 1;
  return 0;
}

static void close_conn(struct conn *c) {
  for (int d = 0; d < 2; d++) {
    close(c->h[d].pipe_r);
    close(c->h[d].pipe_w);
  }
  close(c->h[0].from);
  close(c->h[0].to);
  c->live = 0;
}

static int open_conn(struct conn *c, int client, const char *path) {
  int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (up < 0) return -1;
  /* A proxy with a full backlog holds connect() for at most a second, not every connection. */
  struct timeval limit = {.tv_sec = 1};
  setsockopt(up, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, path); /* length checked by parse_forward */
  if (connect(up, (struct sockaddr *)&a, sizeof a) != 0) {
    close(up);
    return -1;
  }
  fcntl(up, F_SETFL, O_NONBLOCK);
  int p0[2], p1[2];
  if (pipe2(p0, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(up);
    return -1;
  }
  if (pipe2(p1, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(p0[0]);
    close(p0[1]);
    close(up);
    return -1;
  }
  fcntl(p0[1], F_SETPIPE_SZ, FWD_PIPE_BYTES); /* best effort: 64 KiB works too */
  fcntl(p1[1], F_SETPIPE_SZ, FWD_PIPE_BYTES);
  *c = (struct conn){.live = 1};
  c->h[0] = (struct half){.from = client, .to = up, .pipe_r = p0[0], .pipe_w = p0[1]};
  c->h[1] = (struct half){.from = up, .to = client, .pipe_r = p1[0], .pipe_w = p1[1]};
  return 0;
}

/* Moves what it can; returns -1 when the connection must end (an error on either side). */
static int pump(struct half *h) {
  while (!h->eof && h->pending < FWD_PIPE_BYTES) {
    ssize_t n = splice(h->from, NULL, h->pipe_w, NULL, FWD_PIPE_BYTES - h->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) h->pending += (size_t)n;
    else if (n == 0) h->eof = 1;
    else if (errno == EAGAIN) break;
    else if (errno == EINTR) continue;
    else return -1;
  }
  while (h->pending > 0) {
    ssize_t n = splice(h->pipe_r, NULL, h->to, NULL, h->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) h->pending -= (size_t)n;
    else if (n < 0 && errno == EINTR) continue;
    else if (n < 0 && errno == EAGAIN) break;
    else return -1;
  }
  if (h->eof && h->pending == 0 && !h->shut) {
    shutdown(h->to, SHUT_WR); /* half-close: the other direction goes on */
    h->shut = 1;
  }
  return 0;
}

/* With `live` connections open, whether one more fits under the descriptor limit (-1: none). */
static int room_for_one_more(long fd_limit, int nfw, int live) {
  return fd_limit < 0 || 3 + nfw + 6L * (live + 1) <= fd_limit;
}

/* The forwarder's loop: never returns. It runs until the command (its parent) exits. */
static void run_forwarder(struct forward *fw, int nfw) {
  struct conn *conns = NULL;
  int nconns = 0;
  struct pollfd *pfd = NULL;
  int accept_paused = 0; /* out of descriptors: accept again once a connection has closed */
  /* Descriptors this process may hold. Only stdio (/dev/null) and the listeners are open besides
   * the connections, each of which holds six (client, upstream, two pipes): a connection is
   * accepted only when there is room for all six, so a burst past the limit waits in the
   * listener's backlog instead of being accepted and then closed halfway through its set-up. */
  struct rlimit nofile;
  long fd_limit = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY ? (long)nofile.rlim_cur : -1;
  int live = 0;
  for (;;) {
    pfd = realloc(pfd, sizeof *pfd * (size_t)(nfw + 4 * nconns));
    if (!pfd) _exit(1);
    int n = 0;
    int room = room_for_one_more(fd_limit, nfw, live);
    for (int i = 0; i < nfw; i++)
      pfd[n++] = (struct pollfd){.fd = accept_paused || !room ? -1 : fw[i].listen_fd, .events = POLLIN};
    for (int i = 0; i < nconns; i++) {
      struct conn *c = &conns[i];
      for (int d = 0; d < 2; d++) {
        struct half *h = &c->h[d];
        /* Input is waited for only with the pipe empty: a pipe fills by slots, not bytes, so
         * small writes can fill it long before FWD_PIPE_BYTES, and a readable source with a full
         * pipe and a stalled reader would wake poll at once, forever. With bytes pending, the
         * reader's POLLOUT is what moves them, and the pump reads more after that. */
        pfd[n++] = (struct pollfd){.fd = c->live && !h->eof && h->pending == 0 ? h->from : -1, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = c->live && h->pending > 0 ? h->to : -1, .events = POLLOUT};
      }
    }
    int ready = poll(pfd, (nfds_t)n, accept_paused ? 100 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (ready == 0) accept_paused = 0; /* paused 100 ms with nothing closing: try again */
    for (int i = 0; i < nconns; i++) {
      struct conn *c = &conns[i];
      if (!c->live) continue;
      int base = nfw + 4 * i, bad = 0;
      for (int d = 0; d < 2 && !bad; d++)
        if (pfd[base + 2 * d].revents || pfd[base + 2 * d + 1].revents) bad = pump(&c->h[d]) != 0;
      if (bad || (c->h[0].shut && c->h[1].shut)) {
        close_conn(c);
        live--;
        accept_paused = 0;
      }
    }
    for (int i = 0; i < nfw; i++) {
      if (!(pfd[i].revents & POLLIN)) continue;
      while (room_for_one_more(fd_limit, nfw, live)) {
        int client = accept4(fw[i].listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) {
          /* Without a descriptor to spare the pending connection stays readable: stop polling
           * for it (a busy loop otherwise) until one closes. */
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) accept_paused = 1;
          break;
        }
        int slot = -1;
        for (int k = 0; k < nconns; k++)
          if (!conns[k].live) slot = k;
        if (slot < 0) {
          struct conn *more = realloc(conns, sizeof *conns * (size_t)(nconns + 1));
          if (!more) {
            close(client);
            continue;
          }
          conns = more;
          slot = nconns++;
        }
        if (open_conn(&conns[slot], client, fw[i].path) != 0) {
          if (errno == EMFILE || errno == ENFILE) accept_paused = 1;
          close(client); /* no proxy, or no descriptors: the client sees the connection close */
          conns[slot].live = 0;
        } else
          live++;
      }
    }
  }
}

/* Forks the forwarder. It holds the listening sockets; this process (the command) does not. */
static void start_forwarder(struct forward *fw, int nfw) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) die("forward: fork");
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) _exit(0);
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      if (null > 2) close(null);
    }
    int *keep = calloc((size_t)nfw, sizeof(int));
    if (!keep) _exit(1);
    for (int i = 0; i < nfw; i++) keep[i] = fw[i].listen_fd;
    close_fds(keep, nfw); /* nothing of the command's (the gate, inherited descriptors) */
    run_forwarder(fw, nfw);
  }
  for (int i = 0; i < nfw; i++) close(fw[i].listen_fd);
}

/* ---------------------------------------------------------------- gate */

/* Blocks until the launcher says go ("g") on fd; anything else cancels the run quietly. */
static void wait_gate(int fd) {
  char c = 0;
  ssize_t n;
  do n = read(fd, &c, 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n != 1 || c != 'g') _exit(EXIT_CANCELLED);
}

/* ---------------------------------------------------------------- probe */

static int probe(void) {
  int abi = landlock_abi();
  long seccomp_mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  uint32_t action = SECCOMP_RET_ERRNO;
  long errno_avail = syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
  int seccomp_errno = errno_avail == 0 ? 0 : errno;
  int ns = ns_check();
  printf("{\"arch\":\"%s\",\"landlockAbi\":%d,\"landlockError\":\"%s\",\"seccompMode\":%ld,"
         "\"seccompFilter\":%s,\"seccompError\":\"%s\",\"canUnshare\":%s,\"nsError\":\"%s\"}\n",
         CODEX_ARCH_NAME, abi, abi < 0 ? strerror(-abi) : "", seccomp_mode,
         errno_avail == 0 ? "true" : "false", errno_avail == 0 ? "" : strerror(seccomp_errno),
         ns == 0 ? "true" : "false",
         ns == 2 ? "the root directory is not a mount point (a chroot?), so the helper cannot make its mounts "
                   "private; run codex in a container or a mount namespace whose root is a mount"
                 : "");
  return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  int use_landlock = 0, use_seccomp = 0, no_network = 0, no_chmod = 0, nnp = 0, new_session = 0;
  int dropcaps = 0, closefds = 0, unshare_ipc_uts = 0, mount_ns = 0;
  const char *cgroup = NULL, *host_ns = NULL, *ready = NULL;
  int cgroup_fd = -1, gate_fd = -1;
  long nproc = -1;
  char **rw = calloc((size_t)argc, sizeof(char *));
  char **rd = calloc((size_t)argc, sizeof(char *));
  int *keep = calloc((size_t)argc, sizeof(int));
  struct mount_op *ops = calloc((size_t)argc, sizeof(struct mount_op));
  const char **fwd = calloc((size_t)argc, sizeof(char *));
  int nrw = 0, nrd = 0, nkeep = 0, nops = 0, nfwd = 0, i = 1;
  if (!rw || !rd || !keep || !ops || !fwd) die("calloc");
  for (; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--probe") == 0) {
      return probe();
    } else if (strcmp(a, "--landlock") == 0) {
      use_landlock = 1;
    } else if (strcmp(a, "--seccomp") == 0) {
      use_seccomp = 1;
    } else if (strcmp(a, "--no-network") == 0) {
      no_network = 1;
    } else if (strcmp(a, "--no-chmod") == 0) {
      no_chmod = 1;
    } else if (strcmp(a, "--no-new-privs") == 0) {
      nnp = 1;
    } else if (strcmp(a, "--setsid") == 0) {
      new_session = 1;
    } else if (strcmp(a, "--drop-caps") == 0) {
      dropcaps = 1;
    } else if (strcmp(a, "--close-fds") == 0) {
      closefds = 1;
    } else if (strcmp(a, "--unshare-ipc-uts") == 0) {
      unshare_ipc_uts = 1;
    } else if (strcmp(a, "--mount-ns") == 0) {
      mount_ns = 1;
    } else if (strcmp(a, "--keep-fd") == 0 && more) {
      keep[nkeep++] = atoi(argv[++i]);
    } else if (strcmp(a, "--rw") == 0 && more) {
      rw[nrw++] = argv[++i];
    } else if (strcmp(a, "--read") == 0 && more) {
      rd[nrd++] = argv[++i];
    } else if (strcmp(a, "--bind-rw") == 0 && more) {
      ops[nops++] = (struct mount_op){OP_RW, argv[++i], NULL, -1};
    } else if (strcmp(a, "--bind-ro") == 0 && more) {
      ops[nops++] = (struct mount_op){OP_RO, argv[++i], NULL, -1};
    } else if (strcmp(a, "--tmpfs") == 0 && more) {
      ops[nops++] = (struct mount_op){OP_TMPFS, argv[++i], NULL, -1};
    } else if (strcmp(a, "--rebind") == 0 && more) {
      ops[nops++] = (struct mount_op){OP_REBIND, argv[++i], NULL, -1};
    } else if (strcmp(a, "--rebind-rw") == 0 && more) {
      ops[nops++] = (struct mount_op){OP_REBIND_RW, argv[++i], NULL, -1};
    } else if (strcmp(a, "--mask") == 0 && i + 2 < argc) {
      ops[nops].kind = OP_MASK;
      ops[nops].a = argv[++i];
      ops[nops].b = argv[++i];
      ops[nops++].fd = -1;
    } else if (strcmp(a, "--host-ns") == 0 && more) {
      host_ns = argv[++i];
    } else if (strcmp(a, "--ready") == 0 && more) {
      ready = argv[++i];
    } else if (strcmp(a, "--cgroup") == 0 && more) {
      cgroup = argv[++i];
    } else if (strcmp(a, "--cgroup-fd") == 0 && more) {
      cgroup_fd = fd_arg(argv[++i], a);
    } else if (strcmp(a, "--forward") == 0 && more) {
      fwd[nfwd++] = argv[++i];
    } else if (strcmp(a, "--gate") == 0 && more) {
      gate_fd = fd_arg(argv[++i], a);
    } else if (strcmp(a, "--nproc") == 0 && more) {
      char *end = NULL;
      nproc = strtol(argv[++i], &end, 10);
      if (!end || *end || nproc < 1) die_msg("--nproc needs a positive integer");
    } else {
      fprintf(stderr, "codex-sandbox-helper: unknown argument %s\n", a);
      return EXIT_SETUP;
    }
  }
  if (i >= argc) die_msg("no command after --");

  if (cgroup) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/cgroup.procs", cgroup) >= (int)sizeof path) die_msg("cgroup path too long");
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("open cgroup.procs");
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (write(fd, pid, (size_t)n) != n) die("join cgroup");
    close(fd);
  }
  if (cgroup_fd >= 0) {
    /* "0" is the writer itself, whatever its pid is in the namespace it sees. */
    if (write(cgroup_fd, "0\n", 2) != 2) die("join cgroup (--cgroup-fd)");
    close(cgroup_fd);
  }
  if (host_ns) check_host_ns(host_ns);
  if (nproc > 0) {
    struct rlimit rl = {.rlim_cur = (rlim_t)nproc, .rlim_max = (rlim_t)nproc};
    if (setrlimit(RLIMIT_NPROC, &rl) != 0) die("setrlimit(RLIMIT_NPROC)");
  }
  if (new_session && getsid(0) != getpid() && setsid() < 0) die("setsid");
  if (unshare_ipc_uts && unshare(CLONE_NEWIPC | CLONE_NEWUTS) != 0) die("unshare(CLONE_NEWIPC|CLONE_NEWUTS)");
  if (mount_ns) apply_mounts(ops, nops);
  if (dropcaps) drop_caps();
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)");
  if (use_landlock) install_landlock(rw, nrw, rd, nrd, no_network);
  if (use_seccomp) install_seccomp(no_network, no_chmod);
  if (nfwd > 0) {
    struct forward *fw = calloc((size_t)nfwd, sizeof *fw);
    if (!fw) die("calloc");
    for (int k = 0; k < nfwd; k++)
      if (parse_forward(fwd[k], &fw[k]) != 0) {
        fprintf(stderr, "codex-sandbox-helper: --forward wants 127.0.0.1:PORT=/socket or [::1]:PORT=/socket, got %s\n", fwd[k]);
        exit(EXIT_SETUP);
      }
    start_forwarder(fw, nfwd);
  }
  if (gate_fd >= 0) wait_gate(gate_fd);
  if (closefds) close_fds(keep, nkeep);
  if (ready) {
    fprintf(stderr, "codex-sandbox-helper: ready %s caps=%s ns=%s%s landlock=%d seccomp=%d fds=%s\n", ready,
            dropcaps ? "0" : "kept", unshare_ipc_uts ? "ipc,uts" : "", mount_ns ? ",mnt" : "",
            use_landlock ? landlock_abi() : 0, use_seccomp, closefds ? "closed" : "inherited");
    fflush(stderr);
  }
  execvp(argv[i], &argv[i]);
  fprintf(stderr, "codex-sandbox-helper: exec %s: %s\n", argv[i], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
