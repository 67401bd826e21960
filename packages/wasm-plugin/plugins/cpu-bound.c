/* cpu-bound: a deterministic integer workload (xorshift + checksum over N rounds, N from stdin,
 * default 100000) used by the fuel-overhead benchmark and tests. Prints the checksum. */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  char buf[32] = {0};
  size_t got = fread(buf, 1, sizeof buf - 1, stdin);
  unsigned long rounds = got ? strtoul(buf, 0, 10) : 100000;
  unsigned int x = 2463534242u, sum = 0;
  for (unsigned long i = 0; i < rounds; i++) {
    for (int j = 0; j < 16; j++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      sum += x * (unsigned)j;
    }
  }
  printf("%u\n", sum);
  return 0;
}
