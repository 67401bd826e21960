/* deep-recursion: unbounded non-tail recursion with a stack frame in linear memory. Ends in a
 * trap (shadow-stack overflow out of bounds, or the engine's call-stack limit). */
#include <stdio.h>
__attribute__((noinline)) static unsigned long dive(unsigned long n, volatile char *prev) {
  volatile char frame[256];
  frame[0] = (char)n;
  frame[255] = prev ? prev[0] : 0;
  if (n == ~0ul) return frame[255]; /* never true in practice; keeps -Winfinite-recursion quiet */
  return dive(n + 1, frame) + frame[255];
}
int main(void) {
  printf("%lu\n", dive(0, 0));
  return 0;
}
