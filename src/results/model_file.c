#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "h5util.h"
#include "model_file.h"
#include "version.h"

/* Dropout is the identity outside training: the file leaves it out. */
static int written(const Layer *L) { return L->kind != LAYER_DROPOUT; }

/* A model of dense layers alone keeps the layout of format_version 1 exactly
 * (no `kind` attributes), so every reader of it keeps working. */
static int dense_only(const Model *m) {
    for (int l = 0; l < m->n_layers; l++)
        if (written(&m->layer[l]) && m->layer[l].kind != LAYER_DENSE) return 0;
    return 1;
}

static int shape_attr(hid_t g, const char *name, Shape s) {
    int v[3] = {s.c, s.h, s.w};
    return h5u_attr_array(g, name, H5T_STD_I32LE, H5T_NATIVE_INT, s.flat ? 1 : 3, v);
}

static int array_write(hid_t g, const char *name, const float *data, int rank, const hsize_t *d) {
    return h5u_dataset_write(g, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, d, data);
}

/* The arrays of one layer in torch's layouts (SPEC §7). */
static int layer_arrays(hid_t g, const Model *m, const Layer *L) {
    const float *p = m->params;
    hsize_t k = (hsize_t)L->kernel, ci = (hsize_t)L->in.c, co = (hsize_t)L->out.c;
    switch (L->kind) {
    case LAYER_DENSE: {
        hsize_t wd[2] = {co, (hsize_t)shape_size(L->in)};
        return array_write(g, "W", p + L->w, 2, wd) | array_write(g, "b", p + L->b, 1, &co);
    }
    case LAYER_CONV:
    case LAYER_CONV_T: {
        hsize_t wd[4] = {L->kind == LAYER_CONV ? co : ci, L->kind == LAYER_CONV ? ci : co, k, k};
        int rc = array_write(g, "W", p + L->w, 4, wd) | array_write(g, "b", p + L->b, 1, &co);
        rc |= h5u_attr_int(g, "kernel", L->kernel) | h5u_attr_int(g, "stride", L->stride);
        rc |= h5u_attr_int(g, "padding", L->padding);
        return rc | h5u_attr_int(g, "output_padding", L->output_padding);
    }
    case LAYER_BATCHNORM: {
        const float *buf = m->buffers + L->buf;
        int rc = array_write(g, "weight", p + L->w, 1, &ci) | array_write(g, "bias", p + L->b, 1, &ci);
        rc |= array_write(g, "running_mean", buf, 1, &ci);
        rc |= array_write(g, "running_var", buf + L->in.c, 1, &ci);
        return rc | h5u_attr_double(g, "eps", L->eps) | h5u_attr_double(g, "momentum", L->momentum);
    }
    case LAYER_VARIATIONAL: return h5u_attr_double(g, "beta", L->beta);
    default: return 0;
    }
}

/* The model layout of SPEC §5 and §7: enough to rebuild the forward pass with
 * numpy. softmax_last: the last layer's activation is written as "softmax" (its
 * linear output feeds a softmax, as in a classifier). */
static int model_write(hid_t loc, const char *name, const Model *m, int softmax_last) {
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    int n = 0, code = -1, kinds = !dense_only(m);
    for (int l = 0; l < m->n_layers; l++) {
        if (l == m->bottleneck_layer) code = n;
        n += written(&m->layer[l]);
    }
    int rc = h5u_attr_int(g, "input_dim", m->input_dim);
    rc |= h5u_attr_int(g, "layers", n);
    rc |= h5u_attr_int(g, "bottleneck_layer", code);
    rc |= h5u_attr_double(g, "input_scale", 1.0 / 255.0);
    if (kinds) rc |= shape_attr(g, "input_shape", m->input);
    /* [0, 1] is the layout's default: a dense model's file keeps its attributes. */
    if (kinds || m->signed_range) {
        double range[2] = {m->signed_range ? -1.0 : 0.0, 1.0};
        rc |= h5u_attr_array(g, "input_range", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, range);
    }
    for (int l = 0, i = 0; l < m->n_layers && rc == 0; l++) {
        const Layer *L = &m->layer[l];
        if (!written(L)) continue;
        char lname[32];
        snprintf(lname, sizeof lname, "layer_%02d", i++);
        hid_t lg = H5Gcreate2(g, lname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (lg < 0) {
            rc = -1;
            break;
        }
        rc |= layer_arrays(lg, m, L);
        int softmax = softmax_last && l == m->n_layers - 1;
        rc |= h5u_attr_str(lg, "activation", softmax ? "softmax" : act_names[L->act]);
        rc |= h5u_attr_double(lg, "leaky_slope", L->slope);
        if (kinds) {
            rc |= h5u_attr_str(lg, "kind", layer_kinds[L->kind]->name);
            rc |= shape_attr(lg, "in_shape", L->in) | shape_attr(lg, "out_shape", L->out);
        }
        H5Gclose(lg);
    }
    H5Gclose(g);
    return rc;
}

static int model_with_classifier_write(hid_t f, const ModelFileInfo *info) {
    int rc = model_write(f, "model", info->model, 0);
    if (rc == 0 && info->classifier) {
        hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
        rc = g < 0 ? -1 : model_write(g, "classifier", info->classifier, 1);
        /* A fine-tuned classifier reads the images as /model does; one on the
         * codes keeps the layout without the attribute. */
        if (rc == 0 && info->classifier_on_images) {
            hid_t c = H5Gopen2(g, "classifier", H5P_DEFAULT);
            rc = c < 0 ? -1 : h5u_attr_str(c, "input", "image");
            if (c >= 0) H5Gclose(c);
        }
        if (g >= 0) H5Gclose(g);
    }
    return rc;
}

static int contents_write(hid_t f, const ModelFileInfo *info) {
    int rc = h5u_attr_str(f, "format", "aesweep-model");
    rc |= h5u_attr_int(f, "format_version", 1);
    rc |= h5u_attr_str(f, "aesweep_version", AESWEEP_VERSION);
    rc |= h5u_attr_str(f, "job", info->job_json);
    rc |= h5u_attr_str(f, "status", info->status);
    for (int i = 0; i < info->n_values && rc == 0; i++)
        rc |= h5u_attr_double(f, info->values[i].name, info->values[i].value);
    for (int i = 0; i < info->n_strings && rc == 0; i++)
        rc |= h5u_attr_str(f, info->strings[i][0], info->strings[i][1]);
    if (rc == 0) rc = model_with_classifier_write(f, info);
    if (rc == 0 && info->confusion) {
        hsize_t dims[2] = {(hsize_t)info->n_classes, (hsize_t)info->n_classes};
        rc = h5u_dataset_write(f, "confusion", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dims,
                               info->confusion);
    }
    if (rc == 0) {
        hsize_t cd[2] = {(hsize_t)info->epochs, 3};
        rc = h5u_dataset_write(f, "curve", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, cd, info->curve);
    }
    return rc;
}

/* The whole file is built in memory (HDF5's core driver) and written with plain
 * write/fsync: a full disk or a file-size limit is then an errno with the file's
 * name, and never a half-closed HDF5 file (HDF5 1.10 crashes at exit on one). */
static int build_image(const ModelFileInfo *info, void **image, size_t *size) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return -1;
    }
    hid_t f = H5Fcreate("aesweep-model-image", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) return -1;
    int rc = contents_write(f, info);
    if (rc == 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) rc = -1;
    ssize_t n = rc == 0 ? H5Fget_file_image(f, NULL, 0) : -1;
    *image = n > 0 ? malloc((size_t)n) : NULL;
    if (!*image || H5Fget_file_image(f, *image, (size_t)n) != n) rc = -1;
    if (H5Fclose(f) < 0) rc = -1;
    if (rc) {
        free(*image);
        *image = NULL;
    }
    *size = (size_t)n;
    return rc;
}

int model_file_write(const char *path, const ModelFileInfo *info, Err *e) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our message, not HDF5's stack dump */
    void *image;
    size_t size;
    if (build_image(info, &image, &size) != 0)
        return err_set(e, AE_ERUN, "%s: HDF5 could not build the file", path);
    Bytes part = {image, size};
    int rc = write_durably(path, &part, 1, e);
    free(image);
    return rc;
}
