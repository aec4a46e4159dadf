/* IDX reading (real Fashion-MNIST and damaged copies this test writes itself),
 * dataset folders, float batches, and the stratified subset / holdout / k-fold splits. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "augment.h"
#include "dataset.h"
#include "test.h"

/* Short enough that every path built on it fits in AE_PATH_MAX. */
static char tmp_root[1024];

/* ---- writing files -------------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t n;
} Buf;

static void mkdirs(const char *path) {
    char p[AE_PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0777);
            *s = '/';
        }
    mkdir(p, 0777);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes buf raw, or gzip-compressed when gz; returns 0 on success. */
static int write_file(const char *path, const uint8_t *buf, size_t len, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f) return -1;
        int ok = len == 0 || gzwrite(f, buf, (unsigned)len) == (int)len;
        return gzclose(f) == Z_OK && ok ? 0 : -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(buf, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* An IDX image file whose header says `count` images but which holds `n` of
 * rows x cols; pixels follow a fixed pattern (or pseudo-random bytes, which gzip
 * cannot shrink, when `noisy`). */
static Buf make_images(uint32_t count, int n, uint32_t rows, uint32_t cols, int noisy) {
    size_t len = 16 + (size_t)n * rows * cols;
    Buf b = {malloc(len), len};
    put_be32(b.p, 0x803);
    put_be32(b.p + 4, count);
    put_be32(b.p + 8, rows);
    put_be32(b.p + 12, cols);
    uint32_t x = 12345;
    for (size_t i = 16; i < len; i++) {
        x = x * 1664525u + 1013904223u;
        b.p[i] = noisy ? (uint8_t)(x >> 24) : (uint8_t)((i - 16) * 7 % 256);
    }
    return b;
}

/* An IDX label file: header count `count`, n labels i % classes. */
static Buf make_labels(uint32_t count, int n, int classes) {
    Buf b = {malloc(8 + (size_t)n), 8 + (size_t)n};
    put_be32(b.p, 0x801);
    put_be32(b.p + 4, count);
    for (int i = 0; i < n; i++) b.p[8 + i] = (uint8_t)(i % classes);
    return b;
}

static void tmp_path(char *out, const char *sub, const char *name) {
    snprintf(out, AE_PATH_MAX, "%s/%s/%s", tmp_root, sub, name);
}

/* Writes b to tmp/sub/name (freeing b) and returns the path in out. */
static void write_tmp(char *out, const char *sub, const char *name, Buf b, int gz) {
    char dir[AE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", tmp_root, sub);
    mkdirs(dir);
    tmp_path(out, sub, name);
    CHECK(write_file(out, b.p, b.n, gz) == 0, "cannot write %s: %s", out, strerror(errno));
    free(b.p);
}

/* ---- checking faults ------------------------------------------------------------ */

/* The call failed with AE_EINPUT, the message starts with `path` and says `word`. */
static void check_fault(int rc, const Err *e, const char *path, const char *word,
                        const char *what) {
    CHECK(rc == AE_EINPUT, "%s: rc %d, want AE_EINPUT (%s)", what, rc, e->msg);
    CHECK(e->code == AE_EINPUT, "%s: e.code %d", what, e->code);
    CHECK(strncmp(e->msg, path, strlen(path)) == 0, "%s: message does not start with %s: %s",
          what, path, e->msg);
    CHECK(strstr(e->msg, word) != NULL, "%s: message lacks \"%s\": %s", what, word, e->msg);
}

static void images_fault(const char *path, const char *word, const char *what) {
    Images im;
    Err e = {0};
    int rc = idx_read_images(path, &im, &e);
    check_fault(rc, &e, path, word, what);
    CHECK(im.pixels == NULL && im.labels == NULL && im.n == 0, "%s: output not cleared", what);
    images_free(&im);
}

static void labels_fault(const char *path, const char *word, const char *what) {
    static uint8_t stale[1];
    uint8_t *lab = stale;
    int n = -1;
    Err e = {0};
    int rc = idx_read_labels(path, &lab, &n, &e);
    check_fault(rc, &e, path, word, what);
    CHECK(lab == NULL && n == 0, "%s: output not cleared", what);
    free(rc ? NULL : lab);
}

/* ---- IDX files ------------------------------------------------------------------ */

static void test_idx_good(int gz) {
    const char *sub = gz ? "idx_gz" : "idx_raw";
    char path[AE_PATH_MAX];
    write_tmp(path, sub, "good-images", make_images(5, 5, 3, 4, 0), gz);
    Images im;
    Err e = {0};
    int rc = idx_read_images(path, &im, &e);
    CHECK(rc == AE_OK, "good images (gz %d): %s", gz, e.msg);
    if (rc == AE_OK) {
        CHECK(im.n == 5 && im.rows == 3 && im.cols == 4 && im.dim == 12, "shape %d %dx%d", im.n,
              im.rows, im.cols);
        CHECK(im.pixels[0] == 0 && im.pixels[13] == 91 && im.pixels[59] == (59 * 7) % 256,
              "pixel pattern");
        CHECK(im.labels == NULL, "an image file has no labels");
    }
    images_free(&im);

    write_tmp(path, sub, "good-labels", make_labels(7, 7, 3), gz);
    uint8_t *lab = NULL;
    int n = 0;
    rc = idx_read_labels(path, &lab, &n, &e);
    CHECK(rc == AE_OK && n == 7, "good labels (gz %d): rc %d n %d %s", gz, rc, n, e.msg);
    if (rc == AE_OK) CHECK(lab[0] == 0 && lab[4] == 1 && lab[6] == 0, "label values");
    free(lab);
}

static void test_idx_faults(int gz) {
    const char *sub = gz ? "idx_gz" : "idx_raw";
    char path[AE_PATH_MAX];
    Buf b;

    b = make_images(5, 5, 3, 4, 0);
    b.p[3] = 0x04;
    write_tmp(path, sub, "bad-magic", b, gz);
    images_fault(path, "magic", "bad magic");
    labels_fault(path, "magic", "bad magic (labels)");

    write_tmp(path, sub, "labels-as-images", make_labels(5, 5, 3), gz);
    images_fault(path, "label file", "a label file read as images");

    b = make_images(5, 5, 3, 4, 0);
    b.n -= 10;
    write_tmp(path, sub, "cut-pixels", b, gz);
    images_fault(path, "truncated: expected 60 bytes of pixel data, got 50", "cut pixel data");

    write_tmp(path, sub, "count-too-big", make_images(6, 5, 3, 4, 0), gz);
    images_fault(path, "truncated", "header count larger than the data");

    write_tmp(path, sub, "count-too-small", make_images(4, 5, 3, 4, 0), gz);
    images_fault(path, "trailing", "header count smaller than the data");

    b = make_images(5, 5, 3, 4, 0);
    b.n = 0;
    write_tmp(path, sub, "empty", b, gz);
    images_fault(path, "empty", "empty file");
    labels_fault(path, "empty", "empty file (labels)");

    b = make_images(5, 5, 3, 4, 0);
    b.n = 6;
    write_tmp(path, sub, "cut-header", b, gz);
    images_fault(path, "truncated", "cut header");

    write_tmp(path, sub, "zero-rows", make_images(5, 5, 0, 4, 0), gz);
    images_fault(path, "dimensions", "zero rows");
    write_tmp(path, sub, "huge-cols", make_images(1, 0, 3, 5000, 0), gz);
    images_fault(path, "dimensions", "5000 cols");
    write_tmp(path, sub, "zero-count", make_images(0, 0, 3, 4, 0), gz);
    images_fault(path, "count", "zero images");
    /* A header that claims 2^31-1 images must report truncation, not exhaust memory. */
    write_tmp(path, sub, "count-huge", make_images(0x7fffffff, 5, 28, 28, 0), gz);
    images_fault(path, "truncated", "2^31-1 images claimed");

    b = make_labels(9, 9, 5);
    b.p[8 + 3] = 200;
    write_tmp(path, sub, "label-200", b, gz);
    labels_fault(path, "label 200", "label 200");
    labels_fault(path, "range", "label 200");

    b = make_labels(9, 9, 5);
    b.n -= 2;
    write_tmp(path, sub, "labels-cut", b, gz);
    labels_fault(path, "truncated: expected 9 bytes of label data, got 7", "cut labels");
    write_tmp(path, sub, "labels-trailing", make_labels(8, 9, 5), gz);
    labels_fault(path, "trailing", "labels with trailing bytes");
    write_tmp(path, sub, "images-as-labels", make_images(5, 5, 3, 4, 0), gz);
    labels_fault(path, "image file", "an image file read as labels");

    tmp_path(path, sub, "no-such-file");
    images_fault(path, strerror(ENOENT), "missing file");
    labels_fault(path, strerror(ENOENT), "missing file (labels)");
}

/* gzip damage: a cut-off stream and flipped bytes inside the compressed data. */
static void test_gz_damage(void) {
    char path[AE_PATH_MAX];
    write_tmp(path, "idx_gz", "gz-cut", make_images(100, 100, 28, 28, 1), 1);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 20000, "noisy gz size");
    CHECK(truncate(path, st.st_size / 2) == 0, "truncate %s", path);
    images_fault(path, "truncated", "gzip stream cut in half");

    write_tmp(path, "idx_gz", "gz-flipped", make_images(100, 100, 28, 28, 1), 1);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL, "open %s", path);
    if (f) {
        uint8_t junk[64];
        memset(junk, 0xA5, sizeof junk);
        fseek(f, 4000, SEEK_SET);
        fwrite(junk, 1, sizeof junk, f);
        fclose(f);
    }
    /* Random pixels are stored uncompressed, so the damage shows as a CRC mismatch. */
    images_fault(path, "corrupt gzip data", "flipped bytes in a gzip stream");

    /* A folder is not a file. */
    char dir[AE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/idx_gz", tmp_root);
    images_fault(dir, "is a folder", "a folder");
    labels_fault(dir, "is a folder", "a folder (labels)");
    /* A FIFO with no writer would block a plain open forever; /dev/zero never ends. */
    char fifo[AE_PATH_MAX];
    tmp_path(fifo, "idx_raw", "fifo");
    unlink(fifo);
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo %s: %s", fifo, strerror(errno));
    images_fault(fifo, "not a regular file", "a FIFO");
    images_fault("/dev/zero", "not a regular file", "/dev/zero");
    labels_fault("/dev/zero", "not a regular file", "/dev/zero (labels)");
}

/* ---- dataset folders (small synthetic ones) ------------------------------------- */

static void write_set(const char *sub, int dotted, int gz, int ntrain, int ntest, int test_cols) {
    const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    Buf bufs[4] = {make_images((uint32_t)ntrain, ntrain, 3, 4, 0), make_labels(20, 20, 4),
                   make_images((uint32_t)ntest, ntest, 3, (uint32_t)test_cols, 0),
                   make_labels(8, 8, 3)};
    for (int i = 0; i < 4; i++) {
        char name[64], path[AE_PATH_MAX];
        int zip = gz && i % 2;  /* a mixed folder: only the labels compressed */
        snprintf(name, sizeof name, "%s%s", names[i], zip ? ".gz" : "");
        if (dotted) *strstr(name, "-idx") = '.';
        write_tmp(path, sub, name, bufs[i], zip);
    }
}

static void test_folders(void) {
    char dir[AE_PATH_MAX];
    Dataset d;
    Err e = {0};

    write_set("set_dotted", 1, 1, 20, 8, 4);
    snprintf(dir, sizeof dir, "%s/set_dotted", tmp_root);
    int rc = dataset_load(dir, &d, &e);
    CHECK(rc == AE_OK, "dotted names: %s", e.msg);
    if (rc == AE_OK)
        CHECK(d.train.n == 20 && d.test.n == 8 && d.n_classes == 4 && d.train.dim == 12,
              "dotted set: %d %d %d", d.train.n, d.test.n, d.n_classes);
    dataset_free(&d);
    CHECK(d.train.pixels == NULL && d.test.labels == NULL, "dataset_free clears");

    char path[AE_PATH_MAX];
    tmp_path(path, "set_dotted", "t10k-labels.idx1-ubyte.gz");
    unlink(path);
    rc = dataset_load(dir, &d, &e);
    check_fault(rc, &e, dir, "t10k-labels-idx1-ubyte", "a missing file in the folder");
    CHECK(d.train.pixels == NULL, "a failed load leaves nothing allocated");

    write_set("set_count", 0, 0, 19, 8, 4);
    snprintf(dir, sizeof dir, "%s/set_count", tmp_root);
    rc = dataset_load(dir, &d, &e);
    CHECK(rc == AE_EINPUT && strstr(e.msg, "20 labels") && strstr(e.msg, "19 images"),
          "label and image counts differ: %s", e.msg);

    write_set("set_dims", 0, 0, 20, 8, 5);
    snprintf(dir, sizeof dir, "%s/set_dims", tmp_root);
    rc = dataset_load(dir, &d, &e);
    check_fault(rc, &e, dir, "3 x 5", "train and test sizes differ");

    snprintf(dir, sizeof dir, "%s/no-such-folder", tmp_root);
    rc = dataset_load(dir, &d, &e);
    check_fault(rc, &e, dir, strerror(ENOENT), "a missing folder");

    const char *fm = dataset_dir("fashion-mnist");
    CHECK(fm && strcmp(fm, "/usr/share/datasets/fashion-mnist") == 0, "dataset_dir");
    CHECK(dataset_dir("no-such-set") == NULL && dataset_dir(NULL) == NULL, "unknown name");
}

/* ---- real Fashion-MNIST --------------------------------------------------------- */

static void count_classes(const uint8_t *labels, const Index *ix, int *counts) {
    memset(counts, 0, AE_MAX_CLASSES * sizeof *counts);
    for (int i = 0; i < ix->n; i++) counts[labels[ix->idx[i]]]++;
}

static void count_all_classes(const Images *im, int *counts) {
    memset(counts, 0, AE_MAX_CLASSES * sizeof *counts);
    for (int i = 0; i < im->n; i++) counts[im->labels[i]]++;
}

static void test_real_contents(const Dataset *d) {
    CHECK(d->train.n == 60000 && d->test.n == 10000, "counts %d %d", d->train.n, d->test.n);
    CHECK(d->train.rows == 28 && d->train.cols == 28 && d->train.dim == 784, "train 28x28");
    CHECK(d->test.rows == 28 && d->test.cols == 28 && d->test.dim == 784, "test 28x28");
    CHECK(d->n_classes == 10, "n_classes %d", d->n_classes);
    int c[AE_MAX_CLASSES];
    count_all_classes(&d->train, c);
    for (int k = 0; k < 10; k++) CHECK(c[k] == 6000, "train class %d: %d", k, c[k]);
    count_all_classes(&d->test, c);
    for (int k = 0; k < 10; k++) CHECK(c[k] == 1000, "test class %d: %d", k, c[k]);

    /* Known values of the published files (checked against an independent reader). */
    static const uint8_t first_train[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    CHECK(memcmp(d->train.labels, first_train, 10) == 0, "first train labels");
    CHECK(d->test.labels[0] == 9 && d->test.labels[1] == 2, "first test labels");
    long sum0 = 0, tsum0 = 0;
    for (int j = 0; j < 784; j++) {
        sum0 += d->train.pixels[j];
        tsum0 += d->test.pixels[j];
    }
    CHECK(sum0 == 76247 && tsum0 == 33456, "pixel sums of image 0: %ld %ld", sum0, tsum0);
    CHECK(d->train.pixels[14 * 28 + 14] == 217 && d->test.pixels[14 * 28 + 14] == 110,
          "centre pixels");
}

static void test_batch(const Images *im) {
    const int idx[4] = {0, im->n - 1, 12345, 0};
    float *out = malloc(4 * (size_t)im->dim * sizeof *out);
    images_batch(im, idx, 4, out);
    int bad = 0, in_range = 1;
    float mx = 0;
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < im->dim; j++) {
            float v = out[r * im->dim + j];
            uint8_t p = im->pixels[(size_t)idx[r] * im->dim + j];
            bad += v != (float)p / 255.0f;
            in_range &= v >= 0.0f && v <= 1.0f;
            if (v > mx) mx = v;
        }
    CHECK(bad == 0, "%d batch values differ from pixel / 255", bad);
    CHECK(in_range && mx == 1.0f, "batch values in [0,1], max %g", mx);
    CHECK(memcmp(out, out + 3 * im->dim, im->dim * sizeof *out) == 0, "rows follow idx");
    free(out);
}

/* Writes the loaded set back as raw IDX files and loads that folder. */
static void test_raw_copy(const Dataset *d) {
    const Images *sets[2] = {&d->train, &d->test};
    const char *img_names[2] = {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"};
    const char *lab_names[2] = {"train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"};
    char paths[4][AE_PATH_MAX];
    for (int s = 0; s < 2; s++) {
        const Images *im = sets[s];
        Buf b = make_images((uint32_t)im->n, 0, 28, 28, 0);
        b.p = realloc(b.p, 16 + (size_t)im->n * im->dim);
        memcpy(b.p + 16, im->pixels, (size_t)im->n * im->dim);
        b.n = 16 + (size_t)im->n * im->dim;
        write_tmp(paths[2 * s], "raw_copy", img_names[s], b, 0);
        Buf l = make_labels((uint32_t)im->n, 0, 1);
        l.p = realloc(l.p, 8 + (size_t)im->n);
        memcpy(l.p + 8, im->labels, (size_t)im->n);
        l.n = 8 + (size_t)im->n;
        write_tmp(paths[2 * s + 1], "raw_copy", lab_names[s], l, 0);
    }
    char dir[AE_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/raw_copy", tmp_root);
    Dataset r;
    Err e = {0};
    int rc = dataset_load(dir, &r, &e);
    CHECK(rc == AE_OK, "raw copy: %s", e.msg);
    if (rc == AE_OK) {
        CHECK(r.train.n == d->train.n && r.test.n == d->test.n && r.n_classes == 10, "raw counts");
        CHECK(memcmp(r.train.pixels, d->train.pixels, (size_t)d->train.n * 784) == 0 &&
                  memcmp(r.test.labels, d->test.labels, (size_t)d->test.n) == 0,
              "raw copy equals the gz original");
    }
    dataset_free(&r);
    for (int i = 0; i < 4; i++) unlink(paths[i]);  /* 55 MB: do not leave them behind */
}

/* ---- splits --------------------------------------------------------------------- */

static int sorted_unique(const Index *ix) {
    for (int i = 1; i < ix->n; i++)
        if (ix->idx[i] <= ix->idx[i - 1]) return 0;
    return 1;
}

static int same_index(const Index *a, const Index *b) {
    return a->n == b->n && memcmp(a->idx, b->idx, (size_t)a->n * sizeof *a->idx) == 0;
}

/* train and val are disjoint and together are exactly `from` (all < n). */
static int is_partition(const Index *from, const Index *train, const Index *val, int n) {
    char *mark = calloc((size_t)n, 1);
    int ok = train->n + val->n == from->n;
    for (int i = 0; i < from->n; i++) mark[from->idx[i]] = 1;
    const Index *parts[2] = {train, val};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < parts[p]->n; i++) {
            int x = parts[p]->idx[i];
            ok &= x >= 0 && x < n && mark[x] == 1;
            if (x >= 0 && x < n) mark[x] = 2;
        }
    free(mark);
    return ok;
}

/* The members of `from` whose label is in [lo, hi]. */
static Index by_label(const uint8_t *labels, const Index *from, int lo, int hi) {
    Index out = {malloc((size_t)from->n * sizeof(int) + 1), 0};
    for (int i = 0; i < from->n; i++)
        if (labels[from->idx[i]] >= lo && labels[from->idx[i]] <= hi)
            out.idx[out.n++] = from->idx[i];
    return out;
}

static void test_subset(const Images *tr, const Index *all) {
    Err e = {0};
    Index a, b, c;
    int cnt[AE_MAX_CLASSES];
    CHECK(index_subset(tr->labels, all, 12000, 1, &a, &e) == AE_OK, "subset: %s", e.msg);
    CHECK(a.n == 12000 && sorted_unique(&a), "subset sorted, %d", a.n);
    count_classes(tr->labels, &a, cnt);
    for (int k = 0; k < 10; k++) CHECK(cnt[k] == 1200, "subset class %d: %d", k, cnt[k]);
    CHECK(index_subset(tr->labels, all, 12000, 1, &b, &e) == AE_OK && same_index(&a, &b),
          "same seed, same subset");
    index_free(&b);
    CHECK(index_subset(tr->labels, all, 12000, 2, &b, &e) == AE_OK && !same_index(&a, &b),
          "another seed, another subset");
    index_free(&b);

    /* Equal classes: the 5 leftover seats go to the lowest classes. */
    CHECK(index_subset(tr->labels, &a, 1005, 7, &b, &e) == AE_OK && b.n == 1005, "subset 1005");
    count_classes(tr->labels, &b, cnt);
    for (int k = 0; k < 10; k++) CHECK(cnt[k] == (k < 5 ? 101 : 100), "1005: class %d %d", k, cnt[k]);
    index_free(&b);

    /* Unequal classes: class k has 100 (k+1) members; quotas by largest remainder. */
    Index uneven = {malloc(5500 * sizeof(int)), 0};
    int have[10] = {0};
    for (int i = 0; i < tr->n; i++) {
        int k = tr->labels[i];
        if (have[k] < 100 * (k + 1)) {
            have[k]++;
            uneven.idx[uneven.n++] = i;
        }
    }
    static const int want[10] = {18, 36, 55, 73, 91, 109, 127, 145, 164, 182};
    CHECK(index_subset(tr->labels, &uneven, 1000, 3, &b, &e) == AE_OK && b.n == 1000 &&
              sorted_unique(&b),
          "uneven subset");
    count_classes(tr->labels, &b, cnt);
    for (int k = 0; k < 10; k++) CHECK(cnt[k] == want[k], "uneven class %d: %d vs %d", k, cnt[k], want[k]);
    index_free(&b);
    index_free(&uneven);

    CHECK(index_subset(tr->labels, &a, 12000, 1, &b, &e) == AE_OK && same_index(&a, &b),
          "k >= n copies");
    index_free(&b);
    int rc = index_subset(tr->labels, &a, 0, 1, &c, &e);
    CHECK(rc == AE_EINPUT && c.idx == NULL, "subset of 0: rc %d", rc);
    index_free(&a);
}

static void test_holdout(const Images *tr, const Index *all) {
    Err e = {0};
    Index t, v, t2, v2;
    int cnt[AE_MAX_CLASSES];
    CHECK(index_holdout(tr->labels, all, 0.1, 5, &t, &v, &e) == AE_OK, "holdout: %s", e.msg);
    CHECK(v.n == 6000 && t.n == 54000, "holdout sizes %d %d", t.n, v.n);
    CHECK(sorted_unique(&t) && sorted_unique(&v), "holdout sorted");
    CHECK(is_partition(all, &t, &v, tr->n), "holdout partitions the set");
    count_classes(tr->labels, &v, cnt);
    for (int k = 0; k < 10; k++) CHECK(cnt[k] == 600, "holdout val class %d: %d", k, cnt[k]);
    CHECK(index_holdout(tr->labels, all, 0.1, 5, &t2, &v2, &e) == AE_OK && same_index(&v, &v2) &&
              same_index(&t, &t2),
          "holdout deterministic");
    index_free(&t2);
    index_free(&v2);

    /* Classes draw independently: dropping class 0 leaves the others' val as it was. */
    Index rest = by_label(tr->labels, all, 1, 9);
    CHECK(index_holdout(tr->labels, &rest, 0.1, 5, &t2, &v2, &e) == AE_OK, "holdout rest");
    Index v_rest = by_label(tr->labels, &v, 1, 9);
    CHECK(same_index(&v_rest, &v2), "class draws are independent of other classes");
    index_free(&t2);
    index_free(&v2);
    index_free(&v_rest);
    index_free(&rest);
    index_free(&t);
    index_free(&v);

    /* Small classes: 1 member stays in train, 2 or 3 give one to val. */
    Index tiny = {malloc(6 * sizeof(int)), 0};
    int have[3] = {0};
    for (int i = 0; i < tr->n && tiny.n < 6; i++) {
        int k = tr->labels[i];
        if (k < 3 && have[k] < k + 1) {
            have[k]++;
            tiny.idx[tiny.n++] = i;
        }
    }
    CHECK(index_holdout(tr->labels, &tiny, 0.1, 1, &t, &v, &e) == AE_OK, "tiny holdout %s", e.msg);
    count_classes(tr->labels, &v, cnt);
    CHECK(v.n == 2 && cnt[0] == 0 && cnt[1] == 1 && cnt[2] == 1, "tiny holdout val %d", v.n);
    index_free(&t);
    index_free(&v);
    index_free(&tiny);

    const double bad[3] = {0.0, 1.0, NAN};
    for (int i = 0; i < 3; i++) {
        int rc = index_holdout(tr->labels, all, bad[i], 1, &t, &v, &e);
        CHECK(rc == AE_EINPUT && t.idx == NULL && v.idx == NULL, "fraction %g: rc %d", bad[i], rc);
    }
}

/* Checks k folds of `from`: each a partition, vals disjoint and covering `from`, fold
 * sizes within one overall and within each class. `per_class` > 0: exact class count. */
static void check_folds(const Images *tr, const Index *from, int k, uint64_t seed, int per_class) {
    Err e = {0};
    int *hits = calloc((size_t)tr->n, sizeof *hits);
    int minv = 1 << 30, maxv = 0;
    int cmin[AE_MAX_CLASSES], cmax[AE_MAX_CLASSES];
    for (int c = 0; c < AE_MAX_CLASSES; c++) cmin[c] = 1 << 30, cmax[c] = 0;
    for (int f = 0; f < k; f++) {
        Index t, v;
        int rc = index_fold(tr->labels, from, k, f, seed, &t, &v, &e);
        CHECK(rc == AE_OK, "fold %d/%d: %s", f, k, e.msg);
        if (rc) continue;
        CHECK(sorted_unique(&t) && sorted_unique(&v), "fold %d sorted", f);
        CHECK(is_partition(from, &t, &v, tr->n), "fold %d partitions the set", f);
        for (int i = 0; i < v.n; i++) hits[v.idx[i]]++;
        if (v.n < minv) minv = v.n;
        if (v.n > maxv) maxv = v.n;
        int cnt[AE_MAX_CLASSES];
        count_classes(tr->labels, &v, cnt);
        for (int c = 0; c < 10; c++) {
            if (cnt[c] < cmin[c]) cmin[c] = cnt[c];
            if (cnt[c] > cmax[c]) cmax[c] = cnt[c];
            if (per_class) CHECK(cnt[c] == per_class, "fold %d class %d: %d", f, c, cnt[c]);
        }
        index_free(&t);
        index_free(&v);
    }
    int cover = 1;
    for (int i = 0; i < from->n; i++) cover &= hits[from->idx[i]] == 1;
    long total = 0;
    for (int i = 0; i < tr->n; i++) total += hits[i];
    CHECK(cover && total == from->n, "the %d val folds are disjoint and cover the set", k);
    CHECK(maxv - minv <= 1, "k=%d val sizes %d..%d", k, minv, maxv);
    for (int c = 0; c < 10; c++)
        CHECK(cmax[c] - cmin[c] <= 1, "k=%d class %d per fold %d..%d", k, c, cmin[c], cmax[c]);
    free(hits);
}

static void test_folds(const Images *tr, const Index *all) {
    Err e = {0};
    check_folds(tr, all, 5, 11, 1200);
    Index odd, tiny, t, v, t2, v2;
    CHECK(index_subset(tr->labels, all, 1003, 3, &odd, &e) == AE_OK, "subset 1003");
    check_folds(tr, &odd, 7, 4, 0);
    CHECK(index_fold(tr->labels, &odd, 7, 2, 4, &t, &v, &e) == AE_OK &&
              index_fold(tr->labels, &odd, 7, 2, 4, &t2, &v2, &e) == AE_OK &&
              same_index(&v, &v2) && same_index(&t, &t2),
          "folds deterministic");
    index_free(&t);
    index_free(&v);
    index_free(&t2);
    index_free(&v2);
    index_free(&odd);

    CHECK(index_subset(tr->labels, all, 30, 3, &tiny, &e) == AE_OK, "subset 30");
    int rc = index_fold(tr->labels, &tiny, 5, 0, 1, &t, &v, &e);
    CHECK(rc == AE_EINPUT && strstr(e.msg, "class") && t.idx == NULL && v.idx == NULL,
          "5 folds of 3 per class: rc %d %s", rc, e.msg);
    CHECK(index_fold(tr->labels, &tiny, 3, 2, 1, &t, &v, &e) == AE_OK && v.n == 10,
          "3 folds of 3 per class: %s", e.msg);
    index_free(&t);
    index_free(&v);
    index_free(&tiny);
    CHECK(index_fold(tr->labels, all, 1, 0, 1, &t, &v, &e) == AE_EINPUT, "k = 1");
    CHECK(index_fold(tr->labels, all, 5, 5, 1, &t, &v, &e) == AE_EINPUT, "fold = k");
    CHECK(index_fold(tr->labels, all, 5, -1, 1, &t, &v, &e) == AE_EINPUT, "fold < 0");
}

static void test_index_all(void) {
    Index a;
    Err e = {0};
    CHECK(index_all(4, &a, &e) == AE_OK && a.n == 4 && a.idx[3] == 3, "index_all");
    index_free(&a);
    CHECK(a.idx == NULL && a.n == 0, "index_free clears");
    CHECK(index_all(-1, &a, &e) == AE_EINPUT, "index_all(-1)");
    index_free(&a);
}

/* CIFAR-10 binary: record r of batch b has label (b + r) % 10 and pixel (c, y, x)
 * = (c * 7 + y * 3 + x + r) & 255, so order, channel and record all show. */
static void test_cifar10(void) {
    char dir[1100], path[1200];
    snprintf(dir, sizeof dir, "%s/cifar", tmp_root);
    mkdirs(dir);
    static uint8_t rec[3073];
    const char *names[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                            "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    for (int b = 0; b < 6; b++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[b]);
        FILE *f = fopen(path, "wb");
        for (int r = 0; r < 2 + b; r++) {
            rec[0] = (uint8_t)((b + r) % 10);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        rec[1 + (c * 32 + y) * 32 + x] = (uint8_t)((c * 7 + y * 3 + x + r) & 255);
            fwrite(rec, 1, sizeof rec, f);
        }
        fclose(f);
    }
    Dataset d;
    Err e = {0};
    int rc = cifar10_load(dir, &d, &e);
    CHECK(rc == AE_OK, "cifar10_load: %s", e.msg);
    if (rc) return;
    CHECK(d.train.n == 2 + 3 + 4 + 5 + 6 && d.test.n == 7 && d.n_classes == 10, "counts %d %d",
          d.train.n, d.test.n);
    CHECK(d.train.channels == 3 && d.train.rows == 32 && d.train.dim == 3072, "shape");
    /* training record 6 is data_batch_3's (b = 2) record 1 (after 2 + 3 records) */
    const uint8_t *p = d.train.pixels + 6 * 3072;
    CHECK(d.train.labels[6] == 3, "label %d", d.train.labels[6]);
    CHECK(p[0] == 1 && p[(2 * 32 + 1) * 32 + 2] == (uint8_t)(14 + 3 + 2 + 1), "pixels, channel-major");
    /* data.pad 2: a 36x36 image whose border is 0 and inside the same pixels */
    CHECK(images_pad(&d.test, 2, &e) == AE_OK && d.test.rows == 36 && d.test.dim == 3 * 36 * 36,
          "pad");
    const uint8_t *q = d.test.pixels + 1 * d.test.dim;
    CHECK(q[0] == 0 && q[(1 * 36 + 2) * 36 + 2] == (uint8_t)(7 + 1) && q[(1 * 36 + 35) * 36 + 35] == 0,
          "padded pixels");
    d.test.signed_range = 1;
    float x[3 * 36 * 36];
    int one = 1;
    images_batch(&d.test, &one, 1, x);
    CHECK(x[0] == -1.0f && fabsf(x[(1 * 36 + 2) * 36 + 2] - (8 / 127.5f - 1)) < 1e-6f,
          "range [-1, 1]: %g", x[(1 * 36 + 2) * 36 + 2]);
    dataset_free(&d);
}

/* ---- augmentation ---- */

/* Each augmented image of 2 channels of 5 x 5 distinct values is the original
 * shifted by one (dy, dx) in [-p, p]^2 for both channels, blank where the shift
 * leaves it, mirrored or not; every shift and both mirrors turn up; the same
 * seed gives the same bits. */
static void test_augment(void) {
    enum { C = 2, H = 5, W = 5, D = C * H * W, N = 400, P = 2 };
    Shape s = {C, H, W, 0};
    float x[N * D], again[N * D], tmp[D];
    for (int b = 0; b < N; b++)
        for (int k = 0; k < D; k++) x[b * D + k] = again[b * D + k] = (float)(k + 1);
    Augment a = {.crop = P, .flip = 1};
    Rng r;
    rng_seed(&r, 3);
    augment_batch(&a, s, -1.0f, x, N, tmp, &r);
    int seen[2 * P + 1][2 * P + 1][2] = {{{0}}}, bad = 0;
    for (int b = 0; b < N; b++) {
        const float *img = x + b * D;
        int found = 0;
        for (int dy = -P; dy <= P && !found; dy++)
            for (int dx = -P; dx <= P && !found; dx++)
                for (int m = 0; m < 2 && !found; m++) {
                    int ok = 1;
                    for (int c = 0; c < C && ok; c++)
                        for (int i = 0; i < H && ok; i++)
                            for (int j = 0; j < W && ok; j++) {
                                int sj = (m ? W - 1 - j : j) + dx, si = i + dy;
                                float want = si >= 0 && si < H && sj >= 0 && sj < W
                                                 ? (float)(c * H * W + si * W + sj + 1) : -1.0f;
                                ok = img[(c * H + i) * W + j] == want;
                            }
                    if (ok) seen[dy + P][dx + P][m]++, found = 1;
                }
        bad += !found;
    }
    CHECK(bad == 0, "augment: %d of %d images are no shifted, mirrored copy", bad, N);
    int missing = 0;
    for (int i = 0; i < 2 * P + 1; i++)
        for (int j = 0; j < 2 * P + 1; j++)
            for (int m = 0; m < 2; m++) missing += seen[i][j][m] == 0;
    CHECK(missing == 0, "augment: %d of the 50 shift-and-mirror cases never drawn", missing);
    rng_seed(&r, 3);
    augment_batch(&a, s, -1.0f, again, N, tmp, &r);
    CHECK(!memcmp(x, again, sizeof x), "augment: the same seed gave other images");
    /* noise alone: every value moves, with the asked spread */
    Augment n = {.noise = 0.5f};
    for (int k = 0; k < N * D; k++) x[k] = 0;
    augment_batch(&n, s, 0, x, N, tmp, &r);
    double ss = 0;
    for (int k = 0; k < N * D; k++) ss += (double)x[k] * x[k];
    CHECK(fabs(sqrt(ss / (N * D)) - 0.5) < 0.02, "augment noise std %g", sqrt(ss / (N * D)));
    Augment none = {0};
    CHECK(!augment_on(&none) && augment_on(&n) && augment_on(&a), "augment_on");
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "%s/test_data", test_env("TEST_TMP", "/tmp/aesweep_test"));
    mkdirs(tmp_root);
    for (int gz = 0; gz < 2; gz++) {
        test_idx_good(gz);
        test_idx_faults(gz);
    }
    test_gz_damage();
    test_folders();
    test_index_all();
    test_cifar10();
    test_augment();

    const char *dir = test_env("FASHION_DIR", "/usr/share/datasets/fashion-mnist");
    Dataset d;
    Err e = {0};
    int rc = dataset_load(dir, &d, &e);
    CHECK(rc == AE_OK, "loading Fashion-MNIST from %s: %s", dir, e.msg);
    if (rc == AE_OK) {
        test_real_contents(&d);
        test_batch(&d.train);
        test_raw_copy(&d);
        Index all;
        CHECK(index_all(d.train.n, &all, &e) == AE_OK, "index_all");
        test_subset(&d.train, &all);
        test_holdout(&d.train, &all);
        test_folds(&d.train, &all);
        index_free(&all);
    }
    dataset_free(&d);
    return test_summary("test_data");
}
