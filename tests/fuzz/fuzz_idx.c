/* libFuzzer target: an IDX file (raw or gzip) as a dataset folder might hold it.
 * The bytes go to an in-memory file; both readers must return the images/labels
 * or an error naming the file, never crash, leak or allocate what the header
 * merely claims. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("idx", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        Images im;
        Err e = {0};
        if (idx_read_images(path, &im, &e) == AE_OK) images_free(&im);
        uint8_t *labels = NULL;
        int n = 0;
        if (idx_read_labels(path, &labels, &n, &e) == AE_OK) free(labels);
    }
    close(fd);
    return 0;
}
