/* SHA-256 (FIPS 180-4), for the job_sha256 attribute that tells one job from another. */
#ifndef AESWEEP_SHA256_H
#define AESWEEP_SHA256_H

#include <stddef.h>

/* Writes the 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif
