/* Sets the trap that made LeakSanitizer crash at the exit of aesweep's MPI runs
 * (issue 14), deterministically, then exits with nothing leaked.
 *
 * The sanitizer runtime of GCC <= 13 and LLVM <= 16 intercepts __tls_get_addr and
 * takes a dynamic TLS block that starts 16 bytes into a page for a glibc < 2.25
 * block with a header in front, reading the two words before it as the block's
 * start and size. glibc >= 2.25 writes no such header, so the leak check then scans
 * a made-up range and dies: "Tracer caught signal 11 ... LeakSanitizer has
 * encountered a fatal error". Open MPI dlopens dozens of components with TLS, so
 * where their blocks land (memory layout, load) decided whether a run failed.
 *
 * Here the block lands there on purpose: 104-byte allocations walk the allocator's
 * size class up to the chunk before a page's 16th byte, so that glibc's
 * malloc(104) for the library's block takes that one. With the defaults compiled
 * into every sanitizer build (src/core/sanitizer_defaults.c) the program exits 0.
 *
 * usage: dtls_trap LIBRARY.so   exit 0: passed; 77: the block could not be placed
 * (an allocator laid out otherwise), so nothing was shown; anything else: failed. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCK 104 /* dtls_block.c's TLS size */
#define MAX_WALK 8192

static void *walk[MAX_WALK]; /* reachable to the end: nothing here leaks */

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY.so\n", argv[0]);
        return 2;
    }
    walk[0] = malloc(BLOCK);
    walk[1] = malloc(BLOCK);
    uintptr_t stride = (uintptr_t)walk[1] - (uintptr_t)walk[0];
    int n = 2;
    while (n < MAX_WALK && ((uintptr_t)walk[n - 1] + stride) % 4096 != 16) {
        walk[n] = malloc(BLOCK);
        if ((uintptr_t)walk[n] - (uintptr_t)walk[n - 1] != stride) break; /* not in order */
        n++;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "dtls_trap: %s\n", dlerror());
        return 1;
    }
    char *(*touch)(void) = (char *(*)(void))(uintptr_t)dlsym(lib, "dtls_block_touch");
    if (!touch) {
        fprintf(stderr, "dtls_trap: %s: no dtls_block_touch\n", argv[1]);
        return 1;
    }
    uintptr_t at = (uintptr_t)touch() % 4096;
    printf("dtls_trap: the library's TLS block starts %lu bytes into a page (after %d "
           "allocations of %d bytes, %lu apart)\n",
           (unsigned long)at, n, BLOCK, (unsigned long)stride);
    fflush(stdout); /* the leak check ends the process without flushing stdio */
    return at == 16 ? 0 : 77;
}
