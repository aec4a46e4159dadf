/* CIFAR-10's binary version (cifar-10-batches-bin): data_batch_1.bin ...
 * data_batch_5.bin for training and test_batch.bin, each a run of records of one
 * label byte (0-9) and 3072 pixel bytes, channel-major 3x32x32 (all red, then
 * green, then blue), so a record's pixels are already the [C, H, W] row a batch
 * wants. The official files hold 10000 records each; any whole number is read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"

#define CIFAR_SIDE 32
#define CIFAR_DIM (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_DIM)
#define CIFAR_CLASSES 10
#define CIFAR_TRAIN_BATCHES 5

/* The records of one file, appended to im (grown to hold them). */
static int read_batch(const char *dir, const char *name, Images *im, Err *e) {
    char path[AE_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return err_set(e, AE_EINPUT, "%s: path too long", dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(e, AE_EINPUT, "%s: no file %s in this folder (CIFAR-10 binary needs "
                       "data_batch_1.bin ... data_batch_5.bin and test_batch.bin): %s", dir, name,
                       strerror(errno));
    if (!S_ISREG(st.st_mode)) return err_set(e, AE_EINPUT, "%s: not a regular file", path);
    long long size = (long long)st.st_size;
    if (size == 0) return err_set(e, AE_EINPUT, "%s: empty: no records", path);
    if (size % CIFAR_RECORD)
        return err_set(e, AE_EINPUT, "%s: %lld bytes end inside record %lld: a record is 1 label "
                       "byte and %d pixel bytes, so the size must be a multiple of %d (a CIFAR-10 "
                       "batch is %d bytes)", path, size, size / CIFAR_RECORD, CIFAR_DIM,
                       CIFAR_RECORD, 10000 * CIFAR_RECORD);
    long long n = size / CIFAR_RECORD;
    if (im->n + n > 1000000) return err_set(e, AE_EINPUT, "%s: too many records", path);
    uint8_t *px = realloc(im->pixels, (size_t)(im->n + n) * CIFAR_DIM);
    if (px) im->pixels = px;
    uint8_t *lb = px ? realloc(im->labels, (size_t)(im->n + n)) : NULL;
    if (lb) im->labels = lb;
    if (!px || !lb) return err_set(e, AE_ERUN, "%s: out of memory", path);
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, AE_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    uint8_t rec[CIFAR_RECORD];
    int rc = AE_OK;
    for (long long i = 0; i < n && !rc; i++) {
        if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD)
            rc = err_set(e, AE_EINPUT, "%s: record %lld cannot be read (file shrank?)", path, i);
        else if (rec[0] >= CIFAR_CLASSES)
            rc = err_set(e, AE_EINPUT, "%s: record %lld (byte %lld): label %d, expected 0 to %d",
                         path, i, i * CIFAR_RECORD, rec[0], CIFAR_CLASSES - 1);
        else {
            im->labels[im->n] = rec[0];
            memcpy(im->pixels + (size_t)im->n * CIFAR_DIM, rec + 1, CIFAR_DIM);
            im->n++;
        }
    }
    fclose(f);
    return rc;
}

int cifar10_load(const char *dir, Dataset *d, Err *e) {
    memset(d, 0, sizeof *d);
    if (dataset_folder_check(dir, "CIFAR-10's .bin files", e)) return e->code;
    Images *sets[2] = {&d->train, &d->test};
    for (int s = 0; s < 2; s++)
        *sets[s] = (Images){.channels = 3, .rows = CIFAR_SIDE, .cols = CIFAR_SIDE, .dim = CIFAR_DIM};
    int rc = AE_OK;
    for (int b = 1; b <= CIFAR_TRAIN_BATCHES && !rc; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        rc = read_batch(dir, name, &d->train, e);
    }
    if (!rc) rc = read_batch(dir, "test_batch.bin", &d->test, e);
    if (rc) {
        dataset_free(d);
        return rc;
    }
    d->n_classes = CIFAR_CLASSES;
    return AE_OK;
}
