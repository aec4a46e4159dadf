#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model_file.h"
#include "version.h"

/* Every helper returns < 0 on failure, as HDF5 does, so calls chain with |=. */

static int attr_str(hid_t loc, const char *name, const char *value) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return rc < 0 ? -1 : 0;
}

static int attr_num(hid_t loc, const char *name, hid_t type, const void *value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

static int attr_double(hid_t loc, const char *name, double v) {
    return attr_num(loc, name, H5T_NATIVE_DOUBLE, &v);
}

static int attr_int(hid_t loc, const char *name, int v) {
    return attr_num(loc, name, H5T_NATIVE_INT, &v);
}

static int dataset_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                         const hsize_t *dims, const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0) H5Dclose(d);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

/* The model layout of SPEC §5: enough to rebuild the forward pass with numpy.
 * softmax_last: the last layer's activation is written as "softmax" (its linear
 * output feeds a softmax, as in a classifier). */
static int model_write(hid_t loc, const char *name, const Model *m, int softmax_last) {
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    int rc = attr_int(g, "input_dim", m->input_dim);
    rc |= attr_int(g, "layers", m->n_layers);
    rc |= attr_int(g, "bottleneck_layer", m->bottleneck_layer);
    rc |= attr_double(g, "input_scale", 1.0 / 255.0);
    for (int l = 0; l < m->n_layers && rc == 0; l++) {
        const Layer *L = &m->layer[l];
        char lname[32];
        snprintf(lname, sizeof lname, "layer_%02d", l);
        hid_t lg = H5Gcreate2(g, lname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (lg < 0) {
            rc = -1;
            break;
        }
        hsize_t wd[2] = {(hsize_t)L->out, (hsize_t)L->in}, bd[1] = {(hsize_t)L->out};
        rc |= dataset_write(lg, "W", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, wd, m->params + L->w);
        rc |= dataset_write(lg, "b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, bd, m->params + L->b);
        int softmax = softmax_last && l == m->n_layers - 1;
        rc |= attr_str(lg, "activation", softmax ? "softmax" : act_names[L->act]);
        rc |= attr_double(lg, "leaky_slope", L->slope);
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
        if (g >= 0) H5Gclose(g);
    }
    return rc;
}

static int contents_write(hid_t f, const ModelFileInfo *info) {
    int rc = attr_str(f, "format", "aesweep-model");
    rc |= attr_int(f, "format_version", 1);
    rc |= attr_str(f, "aesweep_version", AESWEEP_VERSION);
    rc |= attr_str(f, "job", info->job_json);
    rc |= attr_str(f, "status", info->status);
    for (int i = 0; i < info->n_values && rc == 0; i++)
        rc |= attr_double(f, info->values[i].name, info->values[i].value);
    if (rc == 0) rc = model_with_classifier_write(f, info);
    if (rc == 0 && info->confusion) {
        hsize_t dims[2] = {(hsize_t)info->n_classes, (hsize_t)info->n_classes};
        rc = dataset_write(f, "confusion", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dims, info->confusion);
    }
    if (rc == 0) {
        hsize_t cd[2] = {(hsize_t)info->epochs, 3};
        rc = dataset_write(f, "curve", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, cd, info->curve);
    }
    return rc;
}

int model_file_write(const char *path, const ModelFileInfo *info, Err *e) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our message, not HDF5's stack dump */
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return err_set(e, AE_ERUN, "%s: cannot create (is the folder writable?)", tmp);
    int rc = contents_write(f, info);
    if (H5Fclose(f) < 0) rc = -1;
    if (rc != 0) {
        unlink(tmp);
        return err_set(e, AE_ERUN, "%s: HDF5 write failed", tmp);
    }
    /* The data must be on disk before the name says the file is complete. */
    int fd = open(tmp, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return err_set(e, AE_ERUN, "%s: cannot rename into place", path);
    }
    return AE_OK;
}
