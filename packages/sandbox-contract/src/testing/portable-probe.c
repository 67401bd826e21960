/* Test-only probe for the macOS escape suite (the Linux probe needs Linux headers).
 * Prints ESCAPED or DENIED <errno>; exit 0 = escaped, 3 = denied. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>
#include "probe-result.h"

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (!strcmp(argv[1], "socket") && argc > 2) {
    int fam = !strcmp(argv[2], "unix") ? AF_UNIX : !strcmp(argv[2], "inet6") ? AF_INET6 : AF_INET;
    int type = !strcmp(argv[2], "udp") ? SOCK_DGRAM : SOCK_STREAM;
    return result(socket(fam, type, 0), argv[2]);
  }
  if (!strcmp(argv[1], "kill") && argc > 2) return result(kill(atoi(argv[2]), SIGTERM), "kill");
  fprintf(stderr, "unknown op %s\n", argv[1]);
  return 2;
}
