#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "fsutil.h"

#define MAGIC "aesweep-checkpoint-2\n"
#define MAGIC_LEN 24 /* NUL-padded: the header has no padding, its layout is fixed */

/* What precedes the config text and the trainer's bytes (little-endian on the
 * machines aesweep runs on): magic, job_sha256, trial, fold, epochs, epoch at
 * byte 100, config_len, blob_len, checksum; 128 bytes. */
typedef struct {
    char magic[MAGIC_LEN];
    char sha[64];
    int32_t trial, fold, epochs, epoch;
    uint64_t config_len, blob_len, checksum;
} Header;

/* FNV-1a over 8-byte words (bytes for the tail): a checkpoint is read back once
 * per resume and written once per epoch, so this must cost little beside an
 * fsync of tens of megabytes; it guards against damage, not against malice. */
static uint64_t checksum(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* Over the header (its checksum field zero), the config text and the blob:
 * a damaged epoch count is caught as surely as a damaged weight. */
static uint64_t checksum_of(const Header *h, const void *config, const void *blob) {
    Header zeroed = *h;
    zeroed.checksum = 0;
    uint64_t c = checksum(0xcbf29ce484222325ull, &zeroed, sizeof zeroed);
    return checksum(checksum(c, config, h->config_len), blob, h->blob_len);
}

static Header header_of(const CheckpointId *id, int epoch, size_t blob_len) {
    Header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, sizeof MAGIC);
    memcpy(h.sha, id->job_sha256, sizeof h.sha);
    h.trial = id->trial, h.fold = id->fold, h.epochs = id->epochs, h.epoch = epoch;
    h.config_len = strlen(id->config);
    h.blob_len = blob_len;
    return h;
}

int checkpoint_write(const char *path, const CheckpointId *id, int epoch, const void *blob,
                     size_t n, Err *e) {
    Header h = header_of(id, epoch, n);
    h.checksum = checksum_of(&h, id->config, blob);
    Bytes parts[3] = {{&h, sizeof h}, {id->config, h.config_len}, {blob, n}};
    return write_durably(path, parts, 3, e);
}

_Static_assert(sizeof(Header) == 128, "a checkpoint's header has a fixed layout");

static int read_exact(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

int checkpoint_read(const char *path, const CheckpointId *id, void **blob, size_t *n, int *epoch,
                    Err *e) {
    *blob = NULL;
    *n = 0;
    *epoch = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? AE_OK
                                   : err_set(e, AE_EINPUT, "%s: cannot open: %s", path,
                                             strerror(errno));
    Header h, want = header_of(id, 0, 0);
    struct stat st;
    char *config = NULL, *data = NULL;
    int rc = AE_OK;
    if (fstat(fileno(f), &st) != 0 || read_exact(f, &h, sizeof h) ||
        memcmp(h.magic, want.magic, MAGIC_LEN))
        rc = err_set(e, AE_EINPUT, "%s: not an aesweep checkpoint", path);
    else if (memcmp(h.sha, want.sha, sizeof h.sha) || h.trial != want.trial ||
             h.fold != want.fold || h.epochs != want.epochs || h.config_len != want.config_len)
        rc = err_set(e, AE_EINPUT, "%s: another task's checkpoint (job, trial, fold or epochs "
                     "differ)", path);
    else if ((uint64_t)st.st_size != sizeof h + h.config_len + h.blob_len)
        rc = err_set(e, AE_EINPUT, "%s: %lld bytes where its header says %llu: truncated", path,
                     (long long)st.st_size,
                     (unsigned long long)(sizeof h + h.config_len + h.blob_len));
    if (!rc) {
        config = malloc(h.config_len + 1);
        data = malloc(h.blob_len ? h.blob_len : 1);
        if (!config || !data) rc = err_set(e, AE_ERUN, "%s: out of memory", path);
        else if (read_exact(f, config, h.config_len) || read_exact(f, data, h.blob_len))
            rc = err_set(e, AE_EINPUT, "%s: cannot read: %s", path, strerror(errno));
        else if (memcmp(config, id->config, h.config_len))
            rc = err_set(e, AE_EINPUT, "%s: another task's checkpoint (its overrides differ)",
                         path);
        else if (checksum_of(&h, config, data) != h.checksum)
            rc = err_set(e, AE_EINPUT, "%s: damaged (its checksum does not match)", path);
    }
    fclose(f);
    free(config);
    if (rc) {
        free(data);
        return rc;
    }
    *blob = data;
    *n = h.blob_len;
    *epoch = h.epoch;
    return AE_OK;
}
