/* Loading the four MNIST-format files of a folder, turning pixels into float batches,
 * and the stratified index sets (subset, holdout, k-fold) built on the labels.
 * Every split is a pure function of (labels, from, seed): each class is shuffled by its
 * own stream seed_mix(seed, class), so one class's draw never depends on another's size. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "rng.h"

/* ---- loading -------------------------------------------------------------------- */

/* Anything of that name counts: a folder or a FIFO there is reported by the reader
 * as what it is, not as a missing file. */
static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Finds NAME-idxK-ubyte in dir as NAME, NAME.gz, or with a dot before "idx" (as some
 * mirrors ship it), raw or .gz. */
static int find_idx_file(const char *dir, const char *name, char *path, Err *e) {
    char dotted[128];
    snprintf(dotted, sizeof dotted, "%s", name);
    char *dash = strstr(dotted, "-idx");
    if (dash) *dash = '.';
    const char *names[2] = {name, dotted};
    static const char *const suffixes[2] = {"", ".gz"};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            int len = snprintf(path, AE_PATH_MAX, "%s/%s%s", dir, names[i], suffixes[j]);
            if (len < 0 || len >= AE_PATH_MAX)
                return err_set(e, AE_EINPUT, "%s: path too long", dir);
            if (file_exists(path)) return AE_OK;
        }
    return err_set(e, AE_EINPUT, "%s: no file %s (nor %s.gz, %s, %s.gz) in this folder", dir, name,
                   name, dotted, dotted);
}

/* Reads one images file and its labels file, and checks that their counts agree. */
static int load_split(const char *dir, const char *img_name, const char *lab_name, Images *im,
                      Err *e) {
    char ipath[AE_PATH_MAX], lpath[AE_PATH_MAX];
    int rc = find_idx_file(dir, img_name, ipath, e);
    if (!rc) rc = find_idx_file(dir, lab_name, lpath, e);
    if (!rc) rc = idx_read_images(ipath, im, e);
    if (rc) return rc;
    int nlab;
    rc = idx_read_labels(lpath, &im->labels, &nlab, e);
    if (!rc && nlab != im->n)
        rc = err_set(e, AE_EINPUT, "%s: %d labels, but %s has %d images", lpath, nlab, ipath,
                     im->n);
    if (rc) images_free(im);
    return rc;
}

static int max_label(const Images *im) {
    int m = 0;
    for (int i = 0; i < im->n; i++)
        if (im->labels[i] > m) m = im->labels[i];
    return m;
}

int dataset_folder_check(const char *dir, const char *holds, Err *e) {
    struct stat st;
    if (stat(dir, &st) != 0)
        return err_set(e, AE_EINPUT, "%s: cannot open the dataset folder: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return err_set(e, AE_EINPUT, "%s: not a folder (expected one holding %s)", dir, holds);
    return AE_OK;
}

int dataset_load(const char *dir, Dataset *d, Err *e) {
    memset(d, 0, sizeof *d);
    int rc = dataset_folder_check(dir, "the IDX files", e);
    if (rc) return rc;
    rc = load_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", &d->train, e);
    if (!rc) rc = load_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &d->test, e);
    if (!rc && (d->train.rows != d->test.rows || d->train.cols != d->test.cols))
        rc = err_set(e, AE_EINPUT, "%s: train images are %d x %d but test images are %d x %d", dir,
                     d->train.rows, d->train.cols, d->test.rows, d->test.cols);
    if (rc) {
        dataset_free(d);
        return rc;
    }
    int mtrain = max_label(&d->train), mtest = max_label(&d->test);
    d->n_classes = 1 + (mtrain > mtest ? mtrain : mtest);
    return AE_OK;
}

/* Debian's dataset-fashion-mnist has a folder of its own; Debian ships no package
 * of the original MNIST, Kuzushiji-MNIST or CIFAR-10, so those come by data.path. */
static const DataFormat formats[] = {
    {"fashion-mnist", "/usr/share/datasets/fashion-mnist", dataset_load, "IDX files"},
    {"mnist", NULL, dataset_load, "IDX files"},
    {"kuzushiji-mnist", NULL, dataset_load, "IDX files"},
    {"cifar10", NULL, cifar10_load, "data_batch_1.bin ... data_batch_5.bin, test_batch.bin"},
};
#define N_FORMATS (int)(sizeof formats / sizeof formats[0])

const DataFormat *dataset_format(const char *name) {
    for (int i = 0; name && i < N_FORMATS; i++)
        if (!strcmp(formats[i].name, name)) return &formats[i];
    return NULL;
}

const char *dataset_format_names(void) {
    return "\"fashion-mnist\", \"mnist\", \"kuzushiji-mnist\", \"cifar10\"";
}

const char *dataset_dir(const char *name) {
    const DataFormat *f = dataset_format(name);
    return f ? f->dir : NULL;
}

int images_pad(Images *im, int pad, Err *e) {
    if (pad <= 0 || im->n == 0) return AE_OK;
    int C = im->channels > 0 ? im->channels : 1, H = im->rows + 2 * pad, W = im->cols + 2 * pad;
    size_t dim = (size_t)C * H * W;
    uint8_t *px = xcalloc((size_t)im->n * dim, 1, e);
    if (!px) return AE_ERUN;
    for (int i = 0; i < im->n; i++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < im->rows; y++)
                memcpy(px + i * dim + ((size_t)c * H + y + pad) * W + pad,
                       im->pixels + (size_t)i * im->dim + ((size_t)c * im->rows + y) * im->cols,
                       (size_t)im->cols);
    free(im->pixels);
    im->pixels = px;
    im->rows = H;
    im->cols = W;
    im->dim = (int)dim;
    return AE_OK;
}

void images_free(Images *im) {
    if (!im) return;
    if (!im->shared) {
        free(im->pixels);
        free(im->labels);
    }
    memset(im, 0, sizeof *im);
}

void dataset_free(Dataset *d) {
    if (!d) return;
    images_free(&d->train);
    images_free(&d->test);
    d->n_classes = 0;
}

/* Division rather than a multiply by 1/255 keeps each value the exactly rounded
 * pixel / 255; it vectorises all the same (cvtdq2ps + divps). */
static void bytes_to_unit(const uint8_t *restrict src, float *restrict dst, int dim) {
    for (int j = 0; j < dim; j++) dst[j] = (float)src[j] / 255.0f;
}

Shape images_shape(const Images *im) {
    return (Shape){im->channels > 0 ? im->channels : 1, im->rows, im->cols, 0};
}

static void bytes_to_signed(const uint8_t *restrict src, float *restrict dst, int dim) {
    for (int j = 0; j < dim; j++) dst[j] = ((float)src[j] / 255.0f - 0.5f) / 0.5f;
}

void images_batch(const Images *im, const int *idx, int n, float *out) {
    size_t dim = (size_t)im->dim;
    for (int i = 0; i < n; i++)
        (im->signed_range ? bytes_to_signed : bytes_to_unit)(im->pixels + (size_t)idx[i] * dim,
                                                             out + (size_t)i * dim, im->dim);
}

void images_labels(const Images *im, const int *idx, int n, uint8_t *out) {
    for (int i = 0; i < n; i++) out[i] = im->labels[idx[i]];
}

/* ---- index sets ----------------------------------------------------------------- */

int index_all(int n, Index *out, Err *e) {
    out->idx = NULL;
    out->n = 0;
    if (n < 0) return err_set(e, AE_EINPUT, "index of %d images: the count must not be negative", n);
    out->idx = xmalloc((size_t)n * sizeof *out->idx, e);
    if (!out->idx) return AE_ERUN;
    for (int i = 0; i < n; i++) out->idx[i] = i;
    out->n = n;
    return AE_OK;
}

void index_free(Index *ix) {
    if (!ix) return;
    free(ix->idx);
    ix->idx = NULL;
    ix->n = 0;
}

/* The members of `from` grouped by class, each class in its own shuffled order:
 * class c is mem[start[c] .. start[c] + size[c]). */
typedef struct {
    int *mem;
    int start[AE_MAX_CLASSES];
    int size[AE_MAX_CLASSES];
} Classes;

static int classes_build(const uint8_t *labels, const Index *from, uint64_t seed, Classes *c,
                         Err *e) {
    memset(c, 0, sizeof *c);
    if (!from || from->n < 0 || (from->n > 0 && !from->idx))
        return err_set(e, AE_EINPUT, "split: the index to split is not valid");
    for (int i = 0; i < from->n; i++) {
        int lab = labels[from->idx[i]];
        if (lab >= AE_MAX_CLASSES)
            return err_set(e, AE_EINPUT, "split: label %d of image %d is out of range", lab,
                           from->idx[i]);
        c->size[lab]++;
    }
    for (int k = 1; k < AE_MAX_CLASSES; k++) c->start[k] = c->start[k - 1] + c->size[k - 1];
    c->mem = xmalloc((size_t)from->n * sizeof *c->mem, e);
    if (!c->mem) return AE_ERUN;
    /* A stable counting sort keeps each class in the order of `from`, so the draw
     * depends only on the seed and on which images are in the class. */
    int fill[AE_MAX_CLASSES];
    memcpy(fill, c->start, sizeof fill);
    for (int i = 0; i < from->n; i++) c->mem[fill[labels[from->idx[i]]]++] = from->idx[i];
    for (int k = 0; k < AE_MAX_CLASSES; k++) {
        if (c->size[k] < 2) continue;
        Rng r;
        rng_seed(&r, seed_mix(seed, (uint64_t)k));
        rng_shuffle(&r, c->mem + c->start[k], c->size[k]);
    }
    return AE_OK;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void index_sort(Index *ix) {
    if (ix->n > 1) qsort(ix->idx, (size_t)ix->n, sizeof *ix->idx, cmp_int);
}

int index_is_permutation(const Index *ix, const int *order) {
    int n = ix->n;
    int *a = malloc(sizeof *a * (size_t)(n ? n : 1)), *b = malloc(sizeof *b * (size_t)(n ? n : 1));
    int same = a && b;
    if (same) {
        memcpy(a, order, sizeof *a * (size_t)n);
        memcpy(b, ix->idx, sizeof *b * (size_t)n);
        qsort(a, (size_t)n, sizeof *a, cmp_int);
        qsort(b, (size_t)n, sizeof *b, cmp_int);
        same = !memcmp(a, b, sizeof *a * (size_t)n);
    }
    free(a), free(b);
    return same;
}

static int index_alloc(Index *ix, int n, Err *e) {
    ix->n = 0;
    ix->idx = xmalloc((size_t)n * sizeof *ix->idx, e);
    return ix->idx ? AE_OK : AE_ERUN;
}

static int index_copy(const Index *from, Index *out, Err *e) {
    if (index_alloc(out, from->n, e)) return AE_ERUN;
    if (from->n) memcpy(out->idx, from->idx, (size_t)from->n * sizeof *out->idx);
    out->n = from->n;
    return AE_OK;
}

/* Largest remainder: class c gets floor(k * size / n), and the seats left go to the
 * largest remainders, ties to the lower class. A class whose remainder is non-zero has
 * floor < size, so the extra seat always fits. */
static void allot(const Classes *c, int n, int k, int *take) {
    long long rem[AE_MAX_CLASSES];
    int left = k;
    for (int j = 0; j < AE_MAX_CLASSES; j++) {
        long long q = (long long)k * c->size[j];
        take[j] = (int)(q / n);
        rem[j] = q % n;
        left -= take[j];
    }
    for (; left > 0; left--) {
        int best = 0;
        for (int j = 1; j < AE_MAX_CLASSES; j++)
            if (rem[j] > rem[best]) best = j;
        take[best]++;
        rem[best] = -1;
    }
}

int index_subset(const uint8_t *labels, const Index *from, int k, uint64_t seed, Index *out,
                 Err *e) {
    out->idx = NULL;
    out->n = 0;
    if (k < 1) return err_set(e, AE_EINPUT, "subset of %d images: the size must be at least 1", k);
    if (!from || from->n < 0 || (from->n > 0 && !from->idx))
        return err_set(e, AE_EINPUT, "subset: the index to split is not valid");
    if (k >= from->n) return index_copy(from, out, e);
    Classes c;
    int rc = classes_build(labels, from, seed, &c, e);
    if (rc) return rc;
    int take[AE_MAX_CLASSES];
    allot(&c, from->n, k, take);
    if (index_alloc(out, k, e)) {
        free(c.mem);
        return AE_ERUN;
    }
    for (int j = 0; j < AE_MAX_CLASSES; j++)
        for (int i = 0; i < take[j]; i++) out->idx[out->n++] = c.mem[c.start[j] + i];
    free(c.mem);
    index_sort(out);
    return AE_OK;
}

/* Allocates train and val for a split of `from` (n = train + val). */
static int split_alloc(int n, int nval, Index *train, Index *val, Err *e) {
    if (index_alloc(train, n - nval, e)) return AE_ERUN;
    if (index_alloc(val, nval, e)) {
        index_free(train);
        return AE_ERUN;
    }
    return AE_OK;
}

static int holdout_count(int size, double fraction) {
    int nval = (int)lround(fraction * size);
    if (nval < 1 && size >= 2) nval = 1;
    if (nval > size - 1) nval = size - 1;
    return nval < 0 ? 0 : nval;
}

int index_holdout(const uint8_t *labels, const Index *from, double fraction, uint64_t seed,
                  Index *train, Index *val, Err *e) {
    *train = (Index){0};
    *val = (Index){0};
    if (!(fraction > 0 && fraction < 1))
        return err_set(e, AE_EINPUT, "holdout fraction %g: expected a number between 0 and 1",
                       fraction);
    Classes c;
    int rc = classes_build(labels, from, seed, &c, e);
    if (rc) return rc;
    int nval[AE_MAX_CLASSES], total = 0;
    for (int j = 0; j < AE_MAX_CLASSES; j++) {
        nval[j] = holdout_count(c.size[j], fraction);
        total += nval[j];
    }
    if (total == 0) {
        free(c.mem);
        return err_set(e, AE_EINPUT,
                       "holdout of %d images leaves no validation images (every class needs two "
                       "or more members)",
                       from->n);
    }
    if (split_alloc(from->n, total, train, val, e)) {
        free(c.mem);
        return AE_ERUN;
    }
    /* The first nval of each shuffled class validate; the rest train. */
    for (int j = 0; j < AE_MAX_CLASSES; j++)
        for (int i = 0; i < c.size[j]; i++) {
            Index *to = i < nval[j] ? val : train;
            to->idx[to->n++] = c.mem[c.start[j] + i];
        }
    free(c.mem);
    index_sort(train);
    index_sort(val);
    return AE_OK;
}

int index_fold(const uint8_t *labels, const Index *from, int k, int fold, uint64_t seed,
               Index *train, Index *val, Err *e) {
    *train = (Index){0};
    *val = (Index){0};
    if (k < 2) return err_set(e, AE_EINPUT, "%d folds: expected at least 2", k);
    if (fold < 0 || fold >= k)
        return err_set(e, AE_EINPUT, "fold %d of %d: expected a fold in 0..%d", fold, k, k - 1);
    Classes c;
    int rc = classes_build(labels, from, seed, &c, e);
    if (rc) return rc;
    if (from->n == 0) {
        free(c.mem);
        return err_set(e, AE_EINPUT, "%d folds: there are no images to split", k);
    }
    for (int j = 0; j < AE_MAX_CLASSES; j++)
        if (c.size[j] > 0 && c.size[j] < k) {
            free(c.mem);
            return err_set(e, AE_EINPUT,
                           "%d folds: class %d has only %d members; every class needs at least "
                           "one per fold",
                           k, j, c.size[j]);
        }
    /* Dealing each class on from where the previous one stopped (its start offset mod k)
     * makes the whole deal one round-robin over the classes laid end to end, so fold
     * sizes differ by at most one overall as well as within each class. */
    int nval = from->n / k + (fold < from->n % k);
    if (split_alloc(from->n, nval, train, val, e)) {
        free(c.mem);
        return AE_ERUN;
    }
    for (int j = 0; j < AE_MAX_CLASSES; j++)
        for (int i = 0; i < c.size[j]; i++) {
            Index *to = (c.start[j] + i) % k == fold ? val : train;
            to->idx[to->n++] = c.mem[c.start[j] + i];
        }
    free(c.mem);
    index_sort(train);
    index_sort(val);
    return AE_OK;
}
