/* A library with 104 bytes of thread-local storage and 4-byte alignment, loaded
 * with dlopen by dtls_trap: glibc then allocates its block with malloc(104). */
struct block {
    int v[26];
};
static __thread struct block tls;

char *dtls_block_touch(void);
char *dtls_block_touch(void) {
    tls.v[0] = 1;
    return (char *)&tls;
}
