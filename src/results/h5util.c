#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"

hid_t h5u_str_type(void) {
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0) return -1;
    if (H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
        H5Tclose(type);
        return -1;
    }
    return type;
}

int h5u_attr_str(hid_t loc, const char *name, const char *value) {
    hid_t type = h5u_str_type();
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    return rc < 0 ? -1 : 0;
}

int h5u_attr_num(hid_t loc, const char *name, hid_t type, const void *value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, type, value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

int h5u_attr_double(hid_t loc, const char *name, double v) {
    return h5u_attr_num(loc, name, H5T_NATIVE_DOUBLE, &v);
}

int h5u_attr_int(hid_t loc, const char *name, int v) {
    return h5u_attr_num(loc, name, H5T_NATIVE_INT, &v);
}

int h5u_dataset_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                      const hsize_t *dims, const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0) H5Dclose(d);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
}

/* A variable-length string comes back as a pointer HDF5 allocated. */
static int read_vlen_str(hid_t a, char *buf, size_t size) {
    hid_t mem = h5u_str_type();
    char *s = NULL;
    int rc = mem < 0 || H5Aread(a, mem, &s) < 0 ? -1 : 0;
    if (rc == 0) {
        snprintf(buf, size, "%s", s ? s : "");
        H5free_memory(s);
    }
    if (mem >= 0) H5Tclose(mem);
    return rc;
}

/* A fixed-length string is read whole, then cut; it need not end in a NUL. */
static int read_fixed_str(hid_t a, hid_t ftype, char *buf, size_t size) {
    size_t n = H5Tget_size(ftype);
    hid_t mem = H5Tcopy(H5T_C_S1);
    char *tmp = malloc(n + 1);
    int rc = mem < 0 || !tmp || H5Tset_size(mem, n) < 0 || H5Aread(a, mem, tmp) < 0 ? -1 : 0;
    if (rc == 0) {
        tmp[n] = 0;
        snprintf(buf, size, "%s", tmp);
    }
    free(tmp);
    if (mem >= 0) H5Tclose(mem);
    return rc;
}

int h5u_attr_read_str(hid_t loc, const char *name, char *buf, size_t size) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t ftype = H5Aget_type(a);
    int rc = -1;
    if (ftype >= 0 && H5Tget_class(ftype) == H5T_STRING)
        rc = H5Tis_variable_str(ftype) > 0 ? read_vlen_str(a, buf, size)
                                           : read_fixed_str(a, ftype, buf, size);
    if (ftype >= 0) H5Tclose(ftype);
    H5Aclose(a);
    return rc;
}

int h5u_attr_read_double(hid_t loc, const char *name, double *v) {
    if (H5Aexists(loc, name) <= 0) return -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, v);
    H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

hid_t h5u_group_open_or_create(hid_t loc, const char *name) {
    htri_t there = H5Lexists(loc, name, H5P_DEFAULT);
    if (there < 0) return -1;
    return there ? H5Gopen2(loc, name, H5P_DEFAULT)
                 : H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

int h5u_unlink_if_exists(hid_t loc, const char *name) {
    htri_t there = H5Lexists(loc, name, H5P_DEFAULT);
    if (there < 0) return -1;
    return there && H5Ldelete(loc, name, H5P_DEFAULT) < 0 ? -1 : 0;
}

int h5u_reclaim(hid_t mem_type, hid_t space, void *buf) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(mem_type, space, H5P_DEFAULT, buf) < 0 ? -1 : 0;
#else
    return H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, buf) < 0 ? -1 : 0;
#endif
}

int h5u_attr_array(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, hsize_t n,
                   const void *data) {
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t a = sp < 0 ? -1 : H5Acreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, mem_type, data) < 0 ? -1 : 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}
