/* Compiled into every executable of a sanitizer build (AESWEEP_SANITIZE,
 * AESWEEP_FUZZ) and into nothing else. The runtime reads these options first;
 * ASAN_OPTIONS in the environment adds to them and can override them.
 *
 * intercept_tls_get_addr=0: the runtime of GCC <= 13 and LLVM <= 16 mistakes a
 * dynamic TLS block that starts 16 bytes into a page for a pre-2.25 glibc block
 * and reads a made-up range from before it, so the leak check at exit crashes
 * ("Tracer caught signal 11") whenever one of Open MPI's dlopened components has
 * its block land there: memory layout decides, so the suite failed at random
 * (issue 14). Without the interceptor LSan finds glibc's blocks as the heap
 * chunks they are, reached from the thread's DTV, and still reports real leaks:
 * tests/sanitize/ shows both. It lives here, not in test.sh, because it belongs to
 * every run of a sanitized binary, ctest by hand included. */
const char *__asan_default_options(void);

const char *__asan_default_options(void) { return "intercept_tls_get_addr=0"; }
