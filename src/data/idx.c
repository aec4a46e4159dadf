/* IDX reader (the MNIST file format): a big-endian header, then raw bytes.
 * Files go through zlib's gz* calls, which read .gz and raw files alike.
 * Every fault in a file is AE_EINPUT with a message that starts with its path. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dataset.h"
#include "fsutil.h"

#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAX_SIDE 4096

/* gzread takes an unsigned length and returns an int, so large reads go in chunks. */
#define READ_CHUNK (1u << 30)

/* The first allocation for the payload; it then doubles as data arrives, so a header
 * that claims far more data than the file holds reports truncation instead of asking
 * for terabytes (or 64 MB for every 16-byte header the fuzzer makes up). */
#define FIRST_ALLOC ((size_t)4 << 20)

static int open_idx(const char *path, gzFile *gz, Err *e) {
    *gz = NULL;
    int rc = check_input_file(path, e); /* a FIFO would block, /dev/zero never end */
    if (rc) return rc;
    errno = 0;
    *gz = gzopen(path, "rb");
    if (!*gz)
        return err_set(e, AE_EINPUT, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "zlib could not open it");
    /* A bigger buffer than zlib's 8 KiB default makes the big pixel reads cheaper. */
    gzbuffer(*gz, 1u << 17);
    return AE_OK;
}

static void read_error(gzFile gz, const char *path, Err *e) {
    int zerr;
    const char *msg = gzerror(gz, &zerr);
    if (zerr == Z_ERRNO) {
        err_set(e, AE_EINPUT, "%s: read error: %s", path, strerror(errno));
        return;
    }
    /* zlib's message already starts with the path; say it once. */
    size_t plen = strlen(path);
    if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
    err_set(e, AE_EINPUT, "%s: %s (%s)", path,
            zerr == Z_DATA_ERROR ? "corrupt gzip data" : "read error", msg);
}

/* Reads up to len bytes; returns how many arrived (short only at end of data),
 * or -1 on a read error, with the message in e. */
static long long read_some(gzFile gz, const char *path, void *buf, size_t len, Err *e) {
    size_t got = 0;
    while (got < len) {
        size_t want = len - got < READ_CHUNK ? len - got : READ_CHUNK;
        int r = gzread(gz, (char *)buf + got, (unsigned)want);
        if (r < 0) {
            read_error(gz, path, e);
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

/* Why data ended early: zlib flags a gzip stream that was cut off (Z_BUF_ERROR). */
static const char *short_read_hint(gzFile gz) {
    int zerr;
    gzerror(gz, &zerr);
    return zerr == Z_BUF_ERROR ? " (the gzip stream ends early)" : "";
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads the magic and `ndims` dimension words. */
static int read_header(gzFile gz, const char *path, uint32_t expect_magic, uint32_t *dims,
                       int ndims, Err *e) {
    unsigned char h[16];
    size_t len = 4 * (size_t)(1 + ndims);
    long long got = read_some(gz, path, h, len, e);
    if (got < 0) return AE_EINPUT;
    if (got == 0 && !gzdirect(gz))
        return err_set(e, AE_EINPUT, "%s: a gzip file with no data in it (cut short or damaged?)",
                       path);
    if (got == 0) return err_set(e, AE_EINPUT, "%s: empty file, expected an IDX header", path);
    if ((size_t)got < 4)
        return err_set(e, AE_EINPUT, "%s: truncated: expected a 4-byte magic number, got %lld bytes%s",
                       path, got, short_read_hint(gz));
    uint32_t magic = be32(h);
    if (magic != expect_magic) {
        const char *hint = magic == IDX_MAGIC_LABELS   ? " (that is a label file)"
                           : magic == IDX_MAGIC_IMAGES ? " (that is an image file)"
                           : (h[0] == 0x1f && h[1] == 0x8b) ? " (a damaged gzip header)"
                                                            : "";
        return err_set(e, AE_EINPUT, "%s: bad magic number 0x%08x, expected 0x%08x (IDX %s)%s",
                       path, (unsigned)magic, (unsigned)expect_magic,
                       expect_magic == IDX_MAGIC_IMAGES ? "images" : "labels", hint);
    }
    if ((size_t)got < len)
        return err_set(e, AE_EINPUT, "%s: truncated: expected a %zu-byte header, got %lld bytes%s",
                       path, len, got, short_read_hint(gz));
    for (int i = 0; i < ndims; i++) dims[i] = be32(h + 4 * (i + 1));
    return AE_OK;
}

/* Reads exactly `len` payload bytes into a fresh buffer, growing it as the data comes
 * (see FIRST_ALLOC). `what` names the payload in the truncation message. */
static int read_payload(gzFile gz, const char *path, size_t len, const char *what,
                        uint8_t **out, Err *e) {
    size_t cap = len < FIRST_ALLOC ? len : FIRST_ALLOC;
    uint8_t *buf = xmalloc(cap, e);
    if (!buf) return AE_ERUN;
    size_t got = 0;
    int rc = AE_EINPUT;
    for (;;) {
        long long r = read_some(gz, path, buf + got, cap - got, e);
        if (r < 0) goto fail;
        got += (size_t)r;
        if (got < cap || got == len) break;  /* the data ended, or all of it is here */
        size_t ncap = cap > len / 2 ? len : cap * 2;
        uint8_t *nb = realloc(buf, ncap);
        if (!nb) {
            rc = err_set(e, AE_ERUN, "%s: out of memory (%zu bytes)", path, ncap);
            goto fail;
        }
        buf = nb;
        cap = ncap;
    }
    if (got < len) {
        err_set(e, AE_EINPUT, "%s: truncated: expected %zu bytes of %s, got %zu%s", path, len,
                what, got, short_read_hint(gz));
        goto fail;
    }
    *out = buf;
    return AE_OK;
fail:
    free(buf);
    return rc;
}

/* The header's count must match the data exactly: extra bytes mean a wrong count. */
static int check_no_trailing(gzFile gz, const char *path, int n, const char *unit, Err *e) {
    unsigned char buf[1 << 14];
    unsigned long long extra = 0;
    for (;;) {
        long long r = read_some(gz, path, buf, sizeof buf, e);
        if (r < 0) return AE_EINPUT;
        if (r == 0) break;
        extra += (unsigned long long)r;
    }
    if (extra)
        return err_set(e, AE_EINPUT,
                       "%s: %llu trailing byte%s after the %d %s the header counts "
                       "(wrong count in the header?)",
                       path, extra, extra == 1 ? "" : "s", n, unit);
    return AE_OK;
}

static int check_count(const char *path, uint32_t count, const char *unit, Err *e) {
    if (count < 1 || count > (uint32_t)INT_MAX)
        return err_set(e, AE_EINPUT, "%s: bad count of %s %u in the header (expected 1..%d)",
                       path, unit, (unsigned)count, INT_MAX);
    return AE_OK;
}

static int read_images_from(gzFile gz, const char *path, Images *out, Err *e) {
    uint32_t d[3] = {0};
    int rc = read_header(gz, path, IDX_MAGIC_IMAGES, d, 3, e);
    if (rc) return rc;
    if (check_count(path, d[0], "images", e)) return AE_EINPUT;
    if (d[1] < 1 || d[1] > IDX_MAX_SIDE || d[2] < 1 || d[2] > IDX_MAX_SIDE)
        return err_set(e, AE_EINPUT, "%s: bad image dimensions %u x %u (rows and cols must be 1..%d)",
                       path, (unsigned)d[1], (unsigned)d[2], IDX_MAX_SIDE);
    uint64_t dim = (uint64_t)d[1] * d[2];
    /* At most 2^31 * 2^24 bytes: only a 32-bit size_t can overflow here. */
    if ((uint64_t)d[0] > (uint64_t)(SIZE_MAX / 2) / dim)
        return err_set(e, AE_EINPUT, "%s: %u images of %u x %u do not fit in memory", path,
                       (unsigned)d[0], (unsigned)d[1], (unsigned)d[2]);
    Images im = {.n = (int)d[0], .channels = 1, .rows = (int)d[1], .cols = (int)d[2], .dim = (int)dim};
    rc = read_payload(gz, path, (size_t)d[0] * (size_t)dim, "pixel data", &im.pixels, e);
    if (rc) return rc;
    if (check_no_trailing(gz, path, im.n, "images", e)) {
        free(im.pixels);
        return AE_EINPUT;
    }
    *out = im;
    return AE_OK;
}

int idx_read_images(const char *path, Images *out, Err *e) {
    memset(out, 0, sizeof *out);
    gzFile gz;
    if (open_idx(path, &gz, e)) return AE_EINPUT;
    int rc = read_images_from(gz, path, out, e);
    gzclose(gz);
    return rc;
}

static int check_labels(const char *path, const uint8_t *lab, int n, Err *e) {
    for (int i = 0; i < n; i++)
        if (lab[i] >= AE_MAX_CLASSES)
            return err_set(e, AE_EINPUT, "%s: label %d of item %d is out of range (labels must be below %d)",
                           path, lab[i], i, AE_MAX_CLASSES);
    return AE_OK;
}

static int read_labels_from(gzFile gz, const char *path, uint8_t **labels, int *n, Err *e) {
    uint32_t count = 0;
    int rc = read_header(gz, path, IDX_MAGIC_LABELS, &count, 1, e);
    if (rc) return rc;
    if (check_count(path, count, "labels", e)) return AE_EINPUT;
    uint8_t *lab;
    rc = read_payload(gz, path, count, "label data", &lab, e);
    if (rc) return rc;
    if (check_no_trailing(gz, path, (int)count, "labels", e) ||
        check_labels(path, lab, (int)count, e)) {
        free(lab);
        return AE_EINPUT;
    }
    *labels = lab;
    *n = (int)count;
    return AE_OK;
}

int idx_read_labels(const char *path, uint8_t **labels, int *n, Err *e) {
    *labels = NULL;
    *n = 0;
    gzFile gz;
    if (open_idx(path, &gz, e)) return AE_EINPUT;
    int rc = read_labels_from(gz, path, labels, n, e);
    gzclose(gz);
    return rc;
}
