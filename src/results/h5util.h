/* Small HDF5 helpers shared by the model file and the results file. Every writer
 * returns < 0 on failure, as HDF5 does, so calls chain with |=. Strings are
 * variable-length UTF-8, which h5py reads back as str. */
#ifndef AESWEEP_H5UTIL_H
#define AESWEEP_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

/* A new variable-length UTF-8 string type; the caller closes it. */
hid_t h5u_str_type(void);

int h5u_attr_str(hid_t loc, const char *name, const char *value);
int h5u_attr_num(hid_t loc, const char *name, hid_t type, const void *value);
int h5u_attr_double(hid_t loc, const char *name, double v);
int h5u_attr_int(hid_t loc, const char *name, int v);
/* A 1-d attribute of n values, stored as file_type, read from data in mem_type. */
int h5u_attr_array(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, hsize_t n,
                   const void *data);
/* Creates dataset name (contiguous, no filters) and writes data, in mem_type, to it. */
int h5u_dataset_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                      const hsize_t *dims, const void *data);

/* Reads a scalar string attribute, variable or fixed length, into buf (cut to
 * size - 1 bytes). Returns < 0 when it is missing or not a string. */
int h5u_attr_read_str(hid_t loc, const char *name, char *buf, size_t size);
/* Reads a numeric attribute converted to double; < 0 when missing. */
int h5u_attr_read_double(hid_t loc, const char *name, double *v);

/* The group loc/name, created when it does not exist yet; < 0 on failure. */
hid_t h5u_group_open_or_create(hid_t loc, const char *name);
/* Deletes the link loc/name if there is one, so it can be written again. */
int h5u_unlink_if_exists(hid_t loc, const char *name);

/* Frees the variable-length data HDF5 allocated in buf when reading. */
int h5u_reclaim(hid_t mem_type, hid_t space, void *buf);

#endif
