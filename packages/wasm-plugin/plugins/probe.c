/* probe: tries every kind of ambient authority and reports what it got, one line each.
 * Args: none. Input: a list of probes on stdin (default: all), e.g. "fs env net".
 * A host that follows the allow-list must make fs/net fail inside the guest. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

extern char **environ;

static void probe_fs(void) {
  const char *paths[] = {"/etc/passwd", "/", ".", "/proc/self/environ", "../../etc/hostname"};
  for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
    FILE *f = fopen(paths[i], "r");
    printf("fs.read %s: %s\n", paths[i], f ? "OPENED" : strerror(errno));
    if (f) fclose(f);
  }
  FILE *w = fopen("/tmp/codex-wasm-probe-was-here", "w");
  printf("fs.write /tmp/codex-wasm-probe-was-here: %s\n", w ? "OPENED" : strerror(errno));
  DIR *d = opendir("/");
  printf("fs.opendir /: %s\n", d ? "OPENED" : strerror(errno));
  /* the first preopen would be fd 3 */
  __wasi_prestat_t pre;
  __wasi_errno_t e = __wasi_fd_prestat_get(3, &pre);
  printf("fs.preopen fd3: %s\n", e == 0 ? "PRESENT" : "none");
}
static void probe_env(void) {
  int n = 0;
  for (char **e = environ; e && *e; e++) {
    printf("env.entry %s\n", *e);
    n++;
  }
  printf("env.count %d\n", n);
  const char *home = getenv("HOME");
  printf("env.HOME %s\n", home ? home : "(unset)");
  const char *path = getenv("PATH");
  printf("env.PATH %s\n", path ? path : "(unset)");
}
static void probe_net(void) {
  /* preview1 has no socket creation; the only socket calls act on inherited fds. */
  __wasi_fd_t out;
  for (__wasi_fd_t fd = 3; fd < 8; fd++) {
    __wasi_errno_t e = __wasi_sock_accept(fd, 0, &out);
    printf("net.accept fd%u: %s\n", (unsigned)fd, e == 0 ? "ACCEPTED" : "denied");
  }
}
static void probe_clock(void) {
  struct timespec ts;
  int r = clock_gettime(CLOCK_REALTIME, &ts);
  printf("clock.realtime %s %lld\n", r == 0 ? "ok" : "error", (long long)ts.tv_sec);
}
static void probe_random(void) {
  unsigned char b[16];
  int r = getentropy(b, sizeof b);
  printf("random %s %02x%02x%02x%02x\n", r == 0 ? "ok" : "error", b[0], b[1], b[2], b[3]);
}
int main(void) {
  char what[256] = {0};
  size_t got = fread(what, 1, sizeof what - 1, stdin);
  int all = got == 0;
  if (all || strstr(what, "fs")) probe_fs();
  if (all || strstr(what, "env")) probe_env();
  if (all || strstr(what, "net")) probe_net();
  if (all || strstr(what, "clock")) probe_clock();
  if (all || strstr(what, "random")) probe_random();
  printf("probe.done\n");
  return 0;
}
