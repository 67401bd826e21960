/* Test-only probe: tries one forbidden operation and prints ESCAPED or DENIED <errno>.
 * Compiled by the escape suite with the machine's C compiler. Exit 0 = escaped, 3 = denied. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <termios.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include "probe-result.h"

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *op = argv[1];
  if (!strcmp(op, "socket") && argc > 2) {
    int fam = !strcmp(argv[2], "inet") ? AF_INET : !strcmp(argv[2], "inet6") ? AF_INET6
            : !strcmp(argv[2], "netlink") ? AF_NETLINK : !strcmp(argv[2], "packet") ? AF_PACKET : -1;
    int type = SOCK_STREAM, proto = 0;
    if (!strcmp(argv[2], "raw")) { fam = AF_INET; type = SOCK_RAW; proto = IPPROTO_ICMP; }
    if (!strcmp(argv[2], "udp")) { fam = AF_INET; type = SOCK_DGRAM; }
    if (!strcmp(argv[2], "netlink") || !strcmp(argv[2], "packet")) type = SOCK_RAW;
    if (!strcmp(argv[2], "unix")) fam = AF_UNIX;
    return result(socket(fam, type, proto), argv[2]);
  }
  if (!strcmp(op, "ptrace") && argc > 2) return result(ptrace(PTRACE_ATTACH, atoi(argv[2]), 0, 0), "ptrace");
  if (!strcmp(op, "vmread") && argc > 2) {
    char buf[16], *remote = (char *)0x400000;
    struct iovec l = {buf, sizeof buf}, r = {remote, sizeof buf};
    long rc = syscall(__NR_process_vm_readv, atoi(argv[2]), &l, 1, &r, 1, 0);
    /* EFAULT means the kernel let us in and only the address was wrong: that is an escape. */
    if (rc < 0 && errno == EFAULT) rc = 0;
    return result(rc, "process_vm_readv");
  }
  if (!strcmp(op, "io_uring")) {
    char params[120];
    memset(params, 0, sizeof params);
    return result(syscall(425, 4, params), "io_uring_setup");
  }
  if (!strcmp(op, "bpf")) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    return result(syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof a), "bpf");
  }
  if (!strcmp(op, "add_key"))
    return result(syscall(__NR_add_key, "user", "codex-escape", "x", 1, -3 /* session keyring */), "add_key");
  if (!strcmp(op, "unshare")) return result(unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare");
  if (!strcmp(op, "clone_newuser")) {
    long pid = syscall(__NR_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return result(pid, "clone(CLONE_NEWUSER)");
  }
  if (!strcmp(op, "mount") && argc > 2) return result(mount("none", argv[2], "tmpfs", 0, ""), "mount");
  if (!strcmp(op, "kill") && argc > 2) return result(kill(atoi(argv[2]), SIGTERM), "kill");
#ifdef __x86_64__
  if (!strcmp(op, "x32")) return result(syscall(0x40000000 | __NR_getpid), "x32 getpid");
  if (!strcmp(op, "int80")) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) /* ia32 getpid */ : "memory");
    if (ret < 0) errno = (int)-ret;
    return result(ret < 0 ? -1 : ret, "ia32 int80 getpid");
  }
#endif
  /* Filter checks: the call reached the kernel unless it failed with EPERM (a kernel answer such
     as ENOTTY still means no filter stood in the way). */
  if (!strcmp(op, "tiocsti")) {
    char c = 'x';
    long rc = ioctl(1, TIOCSTI, &c);
    if (rc < 0 && errno != EPERM) rc = 0;
    return result(rc, "ioctl(TIOCSTI)");
  }
  if (!strcmp(op, "tioclinux")) {
    char sub = 6; /* TIOCL_GETSHIFTSTATE */
    long rc = ioctl(1, TIOCLINUX, &sub);
    if (rc < 0 && errno != EPERM) rc = 0;
    return result(rc, "ioctl(TIOCLINUX)");
  }
  if (!strcmp(op, "mknod") && argc > 2)
    return result(mknod(argv[2], S_IFBLK | 0600, makedev(7, 0)), "mknod(block device)");
  if (!strcmp(op, "prlimit") && argc > 2) {
    struct rlimit old;
    if (prlimit(atoi(argv[2]), RLIMIT_CORE, NULL, &old) != 0) return result(-1, "prlimit(read)");
    return result(prlimit(atoi(argv[2]), RLIMIT_CORE, &old, NULL), "prlimit(other process)");
  }
  if (!strcmp(op, "fanotify")) return result(fanotify_init(FAN_CLASS_NOTIF, O_RDONLY), "fanotify_init");
  if (!strcmp(op, "sethostname")) {
    char name[256] = {0};
    gethostname(name, sizeof name - 1);
    return result(sethostname(name, strlen(name)), "sethostname(same name)");
  }
  if (!strcmp(op, "setdomainname")) {
    char name[256] = {0};
    getdomainname(name, sizeof name - 1);
    return result(setdomainname(name, strlen(name)), "setdomainname(same name)");
  }
  if (!strcmp(op, "syslog")) return result(klogctl(10 /* SIZE_BUFFER */, NULL, 0), "syslog");
  if (!strcmp(op, "shm") && argc > 3) {
    char *p = shmat(atoi(argv[2]), NULL, 0);
    if (p == (void *)-1) return result(-1, "shmat");
    strcpy(p, argv[3]);
    return result(0, "shm write");
  }
  if (!strcmp(op, "caps")) {
    /* Prints the five capability sets; escaped when any is non-zero. */
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int nonzero = 0;
    while (f && fgets(line, sizeof line, f)) {
      if (strncmp(line, "Cap", 3) != 0) continue;
      fputs(line, stdout);
      char *v = strchr(line, ':');
      if (v && strtoull(v + 1, NULL, 16) != 0) nonzero = 1;
    }
    if (f) fclose(f);
    printf(nonzero ? "ESCAPED capabilities\n" : "DENIED capabilities all zero\n");
    return nonzero ? 0 : 3;
  }
  if (!strcmp(op, "fds")) {
    /* Writes to every descriptor above 2 that is open: escaped when one reached us. */
    int found = 0;
    for (int fd = 3; fd < 1024; fd++) {
      if (fcntl(fd, F_GETFD) < 0) continue;
      char path[64], target[256] = {0};
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      if (readlink(path, target, sizeof target - 1) < 0) continue;
      if (!strncmp(target, "/proc/", 6)) continue;
      if (write(fd, argc > 2 ? argv[2] : "x", strlen(argc > 2 ? argv[2] : "x")) > 0) found = 1;
      printf("fd %d -> %s\n", fd, target);
    }
    printf(found ? "ESCAPED fd\n" : "DENIED no inherited fd\n");
    return found ? 0 : 3;
  }
  if (!strcmp(op, "euid")) {
    printf("EUID %d\n", (int)geteuid());
    return geteuid() == 0 ? 3 : 0;
  }
  fprintf(stderr, "unknown op %s\n", op);
  return 2;
}
