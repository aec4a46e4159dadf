/* MNIST-format image sets (IDX files) and the stratified index sets built on them.
 * Pixels stay uint8 in memory; a batch is converted to float when it is used. */
#ifndef AESWEEP_DATASET_H
#define AESWEEP_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "layer.h"

#define AE_MAX_CLASSES 64
#define AE_PATH_MAX 4096

typedef struct {
    int n;           /* images */
    int channels;    /* 1 for MNIST-format sets */
    int rows, cols;  /* 28 x 28 for MNIST-format sets */
    int dim;         /* channels * rows * cols */
    uint8_t *pixels; /* n * dim bytes, one image after another */
    uint8_t *labels; /* n labels, each < AE_MAX_CLASSES */
    int signed_range; /* a batch maps pixels to [-1, 1] rather than [0, 1] */
    int shared;       /* pixels and labels are a node's one copy (MPI shared memory):
                         its window owns them, images_free leaves them */
} Images;

typedef struct {
    Images train, test;
    int n_classes; /* 1 + the largest label of either set */
} Dataset;

/* A set of image indices (into one Images). */
typedef struct {
    int *idx;
    int n;
} Index;

/* Reads an IDX file of images (magic 0x00000803) or labels (0x00000801),
 * gzip-compressed or raw. Every fault (missing file, bad magic, bad dimensions,
 * truncation, trailing bytes, label out of range) is AE_EINPUT naming the file. */
int idx_read_images(const char *path, Images *out, Err *e);
int idx_read_labels(const char *path, uint8_t **labels, int *n, Err *e);

/* Loads the four files from a folder: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each raw or with .gz (the names with
 * a dot before idx, as some MNIST mirrors ship them, are accepted too). Checks that
 * image and label counts agree and that train and test images have the same size. */
int dataset_load(const char *dir, Dataset *d, Err *e);
/* AE_EINPUT unless dir is a folder (holds: what it should hold, for the message). */
int dataset_folder_check(const char *dir, const char *holds, Err *e);

/* CIFAR-10's binary files (data_batch_1.bin ... data_batch_5.bin, test_batch.bin)
 * from a folder: 3x32x32 images, 10 classes. Every fault (missing batch, a size
 * that ends inside a record, a label of 10 or more) is AE_EINPUT naming the file
 * and the record. */
int cifar10_load(const char *dir, Dataset *d, Err *e);

/* The kinds of data set a job can name (data.dataset): how each is read, and
 * its folder when it has one of its own (else data.path gives it). */
typedef struct {
    const char *name;
    const char *dir; /* NULL: data.path is needed */
    int (*load)(const char *dir, Dataset *d, Err *e);
    const char *files; /* what the folder holds, for messages */
} DataFormat;

/* The format named name, or NULL; dataset_format_names lists them for messages. */
const DataFormat *dataset_format(const char *name);
const char *dataset_format_names(void);
/* The folder of a named dataset ("fashion-mnist"), or NULL when it has none. */
const char *dataset_dir(const char *name);

/* Pads every image with `pad` zero pixels on each side (28x28 -> 32x32 with 2). */
int images_pad(Images *im, int pad, Err *e);
void dataset_free(Dataset *d);
void images_free(Images *im);

/* The images' C x H x W. */
Shape images_shape(const Images *im);

/* Converts images idx[0..n) to floats, row after row: pixel / 255 in [0, 1], or
 * (pixel / 255 - 0.5) / 0.5 in [-1, 1] with signed_range (torch's Normalize(0.5, 0.5)). */
void images_batch(const Images *im, const int *idx, int n, float *out);

/* The labels of images idx[0..n). */
void images_labels(const Images *im, const int *idx, int n, uint8_t *out);

/* All indices 0..n-1. */
int index_all(int n, Index *out, Err *e);
/* Does order[0..ix->n) hold exactly ix's images, in any order? (0 also when
 * memory runs out.) */
int index_is_permutation(const Index *ix, const int *order);
void index_free(Index *ix);

/* Stratified subset of k indices of `from`: each class keeps its share (largest
 * remainder), the members drawn from `seed`. The result is sorted. k >= from->n
 * returns a copy of `from`. */
int index_subset(const uint8_t *labels, const Index *from, int k, uint64_t seed, Index *out,
                 Err *e);

/* Stratified holdout: `fraction` of each class (rounded, at least one per class
 * that has two or more members) goes to val, the rest to train. Both sorted. */
int index_holdout(const uint8_t *labels, const Index *from, double fraction, uint64_t seed,
                  Index *train, Index *val, Err *e);

/* Stratified k-fold: each class is shuffled from `seed` and dealt round-robin over
 * the k folds; fold `fold` is val, the rest train. Both sorted. Needs k >= 2 and at
 * least k members in every class present, else AE_EINPUT. */
int index_fold(const uint8_t *labels, const Index *from, int k, int fold, uint64_t seed,
               Index *train, Index *val, Err *e);

#endif
