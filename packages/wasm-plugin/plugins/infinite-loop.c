/* infinite-loop: spins forever. Stopped by fuel (instrumented loop header) or, with fuel
 * off or huge, by the worker being terminated at the deadline. */
int main(void) {
  volatile unsigned long long n = 0;
  for (;;) n++;
}
