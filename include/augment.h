/* Data augmentation of a batch of images, as torchvision's RandomCrop(padding),
 * RandomHorizontalFlip and an additive Gaussian noise do it, every draw from the
 * task's own stream (RNG_AUGMENT) so that a task gives the same bits anywhere.
 * The augmented image is both the input and the reconstruction target. */
#ifndef AESWEEP_AUGMENT_H
#define AESWEEP_AUGMENT_H

#include "layer.h"
#include "rng.h"

typedef struct {
    int crop;    /* pad each side by crop pixels, then cut a random H x W window; 0: off */
    int flip;    /* mirror left-right with probability 1/2 (never for digits or letters:
                    the job chooses) */
    float noise; /* std of Gaussian noise added to every value; 0: off */
} Augment;

static inline int augment_on(const Augment *a) { return a->crop > 0 || a->flip || a->noise > 0; }

/* Augments the B images x [B, C*H*W] (rows of channel-major images of shape s) in
 * place; `blank` is the value of a zero pixel (padding), tmp one image of scratch. */
void augment_batch(const Augment *a, Shape s, float blank, float *x, int B, float *tmp, Rng *r);

#endif
