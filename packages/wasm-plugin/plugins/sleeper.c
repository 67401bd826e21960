/* Sleeps for the number of seconds given on stdin (poll_oneoff on a clock), then says so. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  char buf[32] = {0};
  fread(buf, 1, sizeof buf - 1, stdin);
  sleep((unsigned)atoi(buf));
  printf("woke\n");
  return 0;
}
