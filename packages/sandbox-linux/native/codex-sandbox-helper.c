/*
 * codex-sandbox-helper: the small, auditable native part of @codex/sandbox-linux.
 *
 * It is compiled from this file on install/build with the machine's C compiler (never
 * downloaded prebuilt) and does, in this order, only what it is asked to:
 *
 *   --cgroup DIR     move itself into the (already created) cgroup DIR (pids limit, tree kill)
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
 *   EPERM when --no-network: socket(domain != AF_UNIX)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXIT_SETUP 121

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

static int landlock_abi(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  return abi < 0 ? -errno : (int)abi;
}

/* ---------------------------------------------------------------- seccomp */

#define MAX_FILTER 160
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

static void install_landlock(char **rw, int nrw, int no_network) {
  int abi = landlock_abi();
  if (abi < 1) {
    errno = -abi;
    die("landlock is not available");
  }
  uint64_t dir_write = LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR |
                       LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO |
                       LL_FS_MAKE_BLOCK | LL_FS_MAKE_SYM;
  uint64_t file_write = LL_FS_WRITE_FILE;
  if (abi >= 2) dir_write |= LL_FS_REFER;
  if (abi >= 3) {
    dir_write |= LL_FS_TRUNCATE;
    file_write |= LL_FS_TRUNCATE;
  }
  struct ll_ruleset_attr attr = {.handled_access_fs = dir_write, .handled_access_net = 0, .scoped = 0};
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
  for (int i = 0; i < nrw; i++) {
    int fd = open(rw[i], O_PATH | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue; /* a writable root that does not exist grants nothing */
      fprintf(stderr, "codex-sandbox-helper: open %s: %s\n", rw[i], strerror(errno));
      exit(EXIT_SETUP);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat");
    struct ll_path_beneath_attr pb = {
        .allowed_access = S_ISDIR(st.st_mode) ? dir_write : file_write,
        .parent_fd = fd,
    };
    if (syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) != 0) {
      fprintf(stderr, "codex-sandbox-helper: landlock_add_rule %s: %s\n", rw[i], strerror(errno));
      exit(EXIT_SETUP);
    }
    close(fd);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)");
  if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) die("landlock_restrict_self");
  close(ruleset);
}

/* ---------------------------------------------------------------- probe */

static int probe(void) {
  int abi = landlock_abi();
  long seccomp_mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  uint32_t action = SECCOMP_RET_ERRNO;
  long errno_avail = syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
  int seccomp_errno = errno_avail == 0 ? 0 : errno;
  printf("{\"arch\":\"%s\",\"landlockAbi\":%d,\"landlockError\":\"%s\",\"seccompMode\":%ld,"
         "\"seccompFilter\":%s,\"seccompError\":\"%s\"}\n",
         CODEX_ARCH_NAME, abi, abi < 0 ? strerror(-abi) : "", seccomp_mode,
         errno_avail == 0 ? "true" : "false", errno_avail == 0 ? "" : strerror(seccomp_errno));
  return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  int use_landlock = 0, use_seccomp = 0, no_network = 0, no_chmod = 0, nnp = 0, new_session = 0;
  const char *cgroup = NULL;
  long nproc = -1;
  char **rw = calloc((size_t)argc, sizeof(char *));
  int nrw = 0, i = 1;
  if (!rw) die("calloc");
  for (; i < argc; i++) {
    const char *a = argv[i];
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
    } else if (strcmp(a, "--rw") == 0 && i + 1 < argc) {
      rw[nrw++] = argv[++i];
    } else if (strcmp(a, "--cgroup") == 0 && i + 1 < argc) {
      cgroup = argv[++i];
    } else if (strcmp(a, "--nproc") == 0 && i + 1 < argc) {
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
  if (nproc > 0) {
    struct rlimit rl = {.rlim_cur = (rlim_t)nproc, .rlim_max = (rlim_t)nproc};
    if (setrlimit(RLIMIT_NPROC, &rl) != 0) die("setrlimit(RLIMIT_NPROC)");
  }
  if (new_session && getsid(0) != getpid() && setsid() < 0) die("setsid");
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("prctl(PR_SET_NO_NEW_PRIVS)");
  if (use_landlock) install_landlock(rw, nrw, no_network);
  if (use_seccomp) install_seccomp(no_network, no_chmod);
  execvp(argv[i], &argv[i]);
  fprintf(stderr, "codex-sandbox-helper: exec %s: %s\n", argv[i], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
