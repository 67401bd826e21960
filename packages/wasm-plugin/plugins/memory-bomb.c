/* memory-bomb: allocates and touches 1 MiB blocks until allocation fails. Under the
 * memory cap the allocator's memory.grow is refused, which the host reports as MEMORY_LIMIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void *volatile sink; /* keeps every block reachable so nothing is optimised away */
int main(void) {
  for (unsigned long i = 0;; i++) {
    char *p = malloc(1 << 20);
    if (!p) {
      fprintf(stderr, "memory-bomb: malloc failed after %lu MiB\n", i);
      return 12;
    }
    memset(p, 0xAB, 1 << 20);
    *(void **)p = sink;
    sink = p;
  }
}
