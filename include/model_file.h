/* The file `aesweep train --out` writes (SPEC §5): root attrs format="aesweep-model",
 * the job, every parameter and metric; /model in the model layout (with the
 * classifier as /model/classifier, its last layer marked softmax); /curve; and
 * /confusion (int32 [classes, classes], rows: true class) when known. */
#ifndef AESWEEP_MODEL_FILE_H
#define AESWEEP_MODEL_FILE_H

#include "err.h"
#include "model.h"

typedef struct {
    const char *name;
    double value; /* NaN when unknown */
} NamedValue;

typedef struct {
    const char *job_json;
    const char *status; /* "ok", "diverged", "interrupted" */
    const NamedValue *values;
    int n_values;
    const double *curve; /* [epochs, 3]: train_loss, val_loss, val_metric */
    int epochs;
    const Model *model;
    const Model *classifier; /* NULL when none: written as /model/classifier */
    int classifier_on_images; /* it reads the images (attr input="image"), not the codes */
    const int *confusion;    /* [n_classes, n_classes] or NULL: written as /confusion */
    int n_classes;
    const char *const (*strings)[2]; /* more root attributes: {name, value} text pairs */
    int n_strings;
} ModelFileInfo;

/* Writes to a temporary name beside path, syncs it, renames it into place and
 * syncs the folder (the pattern of Redis' persistence): path never holds a
 * half-written file, and once this returns the file survives a crash. */
int model_file_write(const char *path, const ModelFileInfo *info, Err *e);

#endif
