/* What every escape-suite probe prints (shared by escape-probe.c and portable-probe.c):
 * ESCAPED <what> (exit 0) when the operation succeeded, DENIED <what> <error> (exit 3) when not. */
#ifndef CODEX_PROBE_RESULT_H
#define CODEX_PROBE_RESULT_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int result(long rc, const char *what) {
  if (rc >= 0) {
    printf("ESCAPED %s\n", what);
    return 0;
  }
  printf("DENIED %s %s\n", what, strerror(errno));
  return 3;
}
#endif
