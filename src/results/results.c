/* OUT/results.h5 (SPEC §5) with the serial HDF5 C API. The two tables are chunked,
 * extendible 1-D datasets of a compound type; a row goes to its own index, so a
 * write is one hyperslab whatever the order tasks finish in, and a retried task
 * simply overwrites its row. Rows never written read as the fill value (trial -1,
 * status -1, NaN), which is how readers tell holes from results. */
#include <cJSON.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "h5util.h"
#include "results.h"
#include "search.h"
#include "sha256.h"
#include "version.h"

enum { ROWS_PER_CHUNK = 64 };

struct Results {
    hid_t file;
    hid_t trials, folds;       /* the two tables, open for the whole run */
    hid_t xfer;                /* row_xfer: their writes' transfer list */
    hid_t trial_mem, fold_mem; /* their in-memory types: TrialRow and FoldRow */
    int n_folds;
    char *path;
    double batch;       /* results_batch: at most this many seconds unflushed; 0: none */
    double dirty_since; /* clock_seconds() of the oldest unflushed write; 0: none */
};

/* ---- the compound types, described once for memory, file and fill value ---- */

typedef enum { F_INT, F_DBL, F_STR } FieldKind;

typedef struct {
    const char *name;
    size_t offset; /* in the C struct */
    FieldKind kind;
} Field;

#define TF(f, k) {#f, offsetof(TrialRow, f), k}
static const Field trial_fields[] = {
    TF(trial, F_INT),          TF(stage, F_INT),         TF(round, F_INT),
    TF(lr, F_DBL),             TF(batch_size, F_DBL),    TF(bottleneck, F_DBL),
    TF(lambda, F_DBL),         TF(sigma, F_DBL),         TF(folds, F_INT),
    TF(objective_mean, F_DBL), TF(objective_std, F_DBL), TF(train_mse, F_DBL),
    TF(val_mse, F_DBL),        TF(val_accuracy, F_DBL),  TF(epochs, F_DBL),
    TF(seconds, F_DBL),        TF(status, F_INT),        TF(config, F_STR),
    TF(val_knn_accuracy, F_DBL), TF(val_linear_accuracy, F_DBL), TF(objective_se, F_DBL),
};
#undef TF
#define FF(f, k) {#f, offsetof(FoldRow, f), k}
static const Field fold_fields[] = {
    FF(trial, F_INT),     FF(fold, F_INT),    FF(rank, F_INT),         FF(epochs, F_INT),
    FF(train_mse, F_DBL), FF(val_mse, F_DBL), FF(val_accuracy, F_DBL), FF(objective, F_DBL),
    FF(seconds, F_DBL),   FF(status, F_INT),  FF(finished, F_DBL),
    FF(val_knn_accuracy, F_DBL), FF(val_linear_accuracy, F_DBL),
};
#undef FF
#define RF(f, k) {#f, offsetof(RoundRow, f), k}
static const Field round_fields[] = {
    RF(stage, F_INT), RF(round, F_INT),  RF(final, F_INT),   RF(param, F_STR),
    RF(lo, F_DBL),    RF(hi, F_DBL),     RF(chosen, F_DBL),
};
#undef RF
#define N_ROUND_FIELDS ((int)(sizeof round_fields / sizeof round_fields[0]))
#define N_TRIAL_FIELDS ((int)(sizeof trial_fields / sizeof trial_fields[0]))
#define N_FOLD_FIELDS ((int)(sizeof fold_fields / sizeof fold_fields[0]))

/* A member type: native in memory; little-endian in the file, so files written on
 * any machine are the same bytes. The caller closes it. */
static hid_t field_type(FieldKind k, int in_file) {
    if (k == F_STR) return h5u_str_type();
    if (k == F_INT) return H5Tcopy(in_file ? H5T_STD_I32LE : H5T_NATIVE_INT);
    return H5Tcopy(in_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
}

/* The memory type follows the struct's offsets; the file type packs the members
 * in the same order with no padding. */
static hid_t compound_type(const Field *f, int n, size_t struct_size, int in_file) {
    hid_t member[32];
    size_t packed = 0;
    for (int i = 0; i < n; i++) {
        member[i] = field_type(f[i].kind, in_file);
        packed += H5Tget_size(member[i]);
    }
    hid_t t = H5Tcreate(H5T_COMPOUND, in_file ? packed : struct_size);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (t >= 0 && H5Tinsert(t, f[i].name, in_file ? at : f[i].offset, member[i]) < 0) {
            H5Tclose(t);
            t = -1;
        }
        at += H5Tget_size(member[i]);
    }
    for (int i = 0; i < n; i++) H5Tclose(member[i]);
    return t;
}

/* The fill value: -1 for every integer, NaN for every float, no string. */
static void fill_row(const Field *f, int n, void *row) {
    const int minus_one = -1;
    const double missing = NAN;
    const char *none = NULL;
    for (int i = 0; i < n; i++) {
        char *p = (char *)row + f[i].offset;
        if (f[i].kind == F_INT) memcpy(p, &minus_one, sizeof minus_one);
        if (f[i].kind == F_DBL) memcpy(p, &missing, sizeof missing);
        if (f[i].kind == F_STR) memcpy(p, &none, sizeof none);
    }
}

/* ---- the tables ---- */

static hid_t table_create(hid_t file, const char *name, const Field *f, int n, hid_t mem_type,
                          void *fill) {
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {ROWS_PER_CHUNK};
    fill_row(f, n, fill);
    hid_t file_type = compound_type(f, n, 0, 1);
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (file_type >= 0 && space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0 &&
        H5Pset_fill_value(dcpl, mem_type, fill) >= 0)
        d = H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (file_type >= 0) H5Tclose(file_type);
    return d;
}

/* Writes one row at index, growing the extent first when the table is shorter:
 * the rows in between keep the fill value until their own write. xfer: a
 * transfer list with a small conversion buffer (row_xfer). */
static int table_write_row(hid_t d, hid_t mem_type, hid_t xfer, hsize_t index, const void *row) {
    hid_t space = H5Dget_space(d);
    hsize_t dims[1];
    if (space < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) goto fail;
    if (index >= dims[0]) {
        hsize_t grown[1] = {index + 1};
        H5Sclose(space);
        space = -1;
        if (H5Dset_extent(d, grown) < 0 || (space = H5Dget_space(d)) < 0) goto fail;
    }
    hsize_t start[1] = {index}, count[1] = {1};
    if (H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) < 0) goto fail;
    hid_t mspace = H5Screate_simple(1, count, NULL);
    herr_t rc = mspace < 0 ? -1 : H5Dwrite(d, mem_type, mspace, space, xfer, row);
    if (mspace >= 0) H5Sclose(mspace);
    H5Sclose(space);
    return rc < 0 ? -1 : 0;
fail:
    if (space >= 0) H5Sclose(space);
    return -1;
}

/* Reads the whole table into a new array of struct_size rows. */
/* blank (when not NULL): every row starts as it, so that a column an older file
 * does not have reads as blank's value (HDF5 leaves a member the file lacks as it
 * finds it: the transfer list keeps the buffer as the conversion's background). */
static int table_read(hid_t file, const char *name, hid_t mem_type, size_t struct_size,
                      const void *blank, void **rows, hsize_t *n) {
    *rows = NULL;
    *n = 0;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) return -1;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = d < 0 ? -1 : H5Dget_space(d);
    int rc = space < 0 || H5Sget_simple_extent_ndims(space) != 1 ? -1 : 0;
    if (rc == 0) H5Sget_simple_extent_dims(space, n, NULL);
    if (rc == 0 && *n > 0) {
        *rows = calloc(*n, struct_size);
        hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
        if (*rows && blank)
            for (hsize_t i = 0; i < *n; i++) memcpy((char *)*rows + i * struct_size, blank, struct_size);
        if (xfer >= 0 && blank) H5Pset_preserve(xfer, 1);
        if (!*rows || xfer < 0 || H5Dread(d, mem_type, H5S_ALL, H5S_ALL, xfer, *rows) < 0) rc = -1;
        if (xfer >= 0) H5Pclose(xfer);
    }
    if (space >= 0) H5Sclose(space);
    if (d >= 0) H5Dclose(d);
    if (rc != 0) {
        free(*rows); /* a failed read leaves nothing allocated by HDF5 to reclaim */
        *rows = NULL;
        *n = 0;
    }
    return rc;
}

/* Frees the rows and the strings HDF5 allocated in them. */
static void table_free(hid_t mem_type, void *rows, hsize_t n) {
    if (!rows) return;
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    if (space >= 0) {
        h5u_reclaim(mem_type, space, rows);
        H5Sclose(space);
    }
    free(rows);
}

/* ---- create, write, close ---- */

/* A row's compound type is converted on every write through HDF5's conversion
 * buffers, by default 1 MiB each, calloc'ed per H5Dwrite: zeroing them was 70%
 * of rank 0's time per result. A row needs a few hundred bytes. */
enum { ROW_XFER_BYTES = 64 * 1024 };

static hid_t row_xfer(void) {
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    if (x >= 0 && H5Pset_buffer(x, ROW_XFER_BYTES, NULL, NULL) < 0) {
        H5Pclose(x);
        x = -1;
    }
    return x;
}

static void ids_close(Results *r) {
    if (r->xfer >= 0) H5Pclose(r->xfer);
    if (r->trials >= 0) H5Dclose(r->trials);
    if (r->folds >= 0) H5Dclose(r->folds);
    if (r->trial_mem >= 0) H5Tclose(r->trial_mem);
    if (r->fold_mem >= 0) H5Tclose(r->fold_mem);
    r->trials = r->folds = r->trial_mem = r->fold_mem = r->xfer = -1;
}

static int flush(Results *r, Err *e) {
    r->dirty_since = 0;
    if (H5Fflush(r->file, H5F_SCOPE_GLOBAL) < 0)
        return err_set(e, AE_ERUN, "%s: cannot flush (disk full?)", r->path);
    return AE_OK;
}

/* A row or curve written: flushed now, or with the batch it joins once that is
 * results_batch seconds old. */
static int written(Results *r, Err *e) {
    double now = clock_seconds();
    if (r->dirty_since == 0) r->dirty_since = now;
    return now - r->dirty_since >= r->batch ? flush(r, e) : AE_OK;
}

void results_batch(Results *r, double seconds) { r->batch = seconds; }

double results_flush_due(const Results *r) {
    return r->dirty_since == 0 ? INFINITY : r->dirty_since + r->batch;
}

int results_flush(Results *r, Err *e) { return r->dirty_since == 0 ? AE_OK : flush(r, e); }

static const char *or_empty(const char *s) { return s ? s : ""; }

static int root_attrs_write(hid_t f, const ResultsMeta *m) {
    char sha[65];
    if (m->job_sha256)
        snprintf(sha, sizeof sha, "%s", m->job_sha256);
    else
        sha256_hex(or_empty(m->job_json), strlen(or_empty(m->job_json)), sha);
    int rc = h5u_attr_str(f, "format", "aesweep-results");
    rc |= h5u_attr_int(f, "format_version", 1);
    rc |= h5u_attr_str(f, "aesweep_version", AESWEEP_VERSION);
    rc |= h5u_attr_str(f, "job", or_empty(m->job_json));
    rc |= h5u_attr_str(f, "job_sha256", sha);
    rc |= h5u_attr_str(f, "sets", or_empty(m->sets));
    if (m->input_dim > 0) rc |= h5u_attr_int(f, "input_dim", m->input_dim);
    rc |= h5u_attr_str(f, "strategy", or_empty(m->strategy));
    rc |= h5u_attr_str(f, "objective", or_empty(m->objective));
    rc |= h5u_attr_str(f, "objective_direction", or_empty(m->direction));
    rc |= h5u_attr_str(f, "status", "running");
    return rc;
}

/* Format 1.8 at least: its dense attribute storage lifts the 64 KiB limit of the
 * old object header, which a long job text in the root attribute `job` could hit;
 * every HDF5 from 1.8 on (h5py included) still reads it. */
/* HDF5's metadata cache keeps the object headers of the curves and groups it
 * wrote, up to 32 MiB of their size on disk by default: some 7 KB of rank 0's
 * memory a task, for tens of thousands of tasks. Rank 0 writes each object
 * once and never reads it back, so 1 MiB costs nothing (0.26 ms a result, as
 * before) and its memory levels off after ~2000 tasks. */
enum { MDC_MAX_BYTES = 1 << 20 };

static int small_metadata_cache(hid_t fapl) {
    H5AC_cache_config_t c = {.version = H5AC__CURR_CACHE_CONFIG_VERSION};
    if (H5Pget_mdc_config(fapl, &c) < 0) return -1;
    c.max_size = MDC_MAX_BYTES;
    if (c.min_size > c.max_size) c.min_size = c.max_size / 4;
    if (c.initial_size > c.max_size) c.initial_size = c.max_size;
    c.set_initial_size = 1;
    return H5Pset_mdc_config(fapl, &c) < 0 ? -1 : 0;
}

static hid_t file_create(const char *path) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    hid_t f = -1;
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0 &&
        small_metadata_cache(fapl) == 0)
        f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return f;
}

static int contents_create(Results *r, const ResultsMeta *meta) {
    TrialRow trial_fill;
    FoldRow fold_fill;
    r->trial_mem = compound_type(trial_fields, N_TRIAL_FIELDS, sizeof(TrialRow), 0);
    r->fold_mem = compound_type(fold_fields, N_FOLD_FIELDS, sizeof(FoldRow), 0);
    r->xfer = row_xfer();
    if (r->trial_mem < 0 || r->fold_mem < 0 || r->xfer < 0 || root_attrs_write(r->file, meta) < 0)
        return -1;
    r->trials = table_create(r->file, "trials", trial_fields, N_TRIAL_FIELDS, r->trial_mem,
                             &trial_fill);
    r->folds = table_create(r->file, "folds", fold_fields, N_FOLD_FIELDS, r->fold_mem,
                            &fold_fill);
    if (r->trials < 0 || r->folds < 0) return -1;
    hid_t g = H5Gcreate2(r->file, "curves", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return -1;
    H5Gclose(g);
    return 0;
}

int results_create(const char *path, const ResultsMeta *meta, Results **out, Err *e) {
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our message, not HDF5's stack dump */
    if (meta->folds < 1) return err_set(e, AE_ERUN, "%s: folds must be >= 1", path);
    Results *r = xcalloc(1, sizeof *r, e);
    char *p = r ? xmalloc(strlen(path) + 1, e) : NULL;
    if (!p) {
        free(r);
        return AE_ERUN;
    }
    r->path = strcpy(p, path);
    r->n_folds = meta->folds;
    r->trials = r->folds = r->trial_mem = r->fold_mem = r->xfer = -1;
    /* Built under a temporary name and renamed once its layout is on disk
     * (flushed and fsynced), so that path is either absent or a readable
     * results file, whenever the process or the machine dies. The open file
     * keeps working across the rename. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    r->file = file_create(tmp);
    if (r->file < 0) {
        err_set(e, AE_ERUN, "%s: cannot create (is the folder writable?)", tmp);
        free(r->path);
        free(r);
        return AE_ERUN;
    }
    if (contents_create(r, meta) < 0 || flush(r, e) != AE_OK || sync_path(tmp) != 0 ||
        rename(tmp, path) != 0 || sync_parent_dir(path) != 0) {
        err_set(e, AE_ERUN, "%s: cannot write the results layout (disk full?)", path);
        results_close(r, NULL);
        unlink(tmp);
        return AE_ERUN;
    }
    *out = r;
    return AE_OK;
}

/* /TOP/TRIAL, each created on first use; the caller closes it. */
static hid_t trial_group(hid_t file, const char *top, int trial) {
    char name[24];
    snprintf(name, sizeof name, "%d", trial);
    hid_t t = h5u_group_open_or_create(file, top);
    hid_t g = t < 0 ? -1 : h5u_group_open_or_create(t, name);
    if (t >= 0) H5Gclose(t);
    return g;
}

static int curve_write(Results *r, int trial, int fold, const double *curve, int epochs) {
    static const double none[3] = {0}; /* HDF5 wants a buffer even for 0 rows */
    char name[24];
    snprintf(name, sizeof name, "%d", fold);
    hid_t g = trial_group(r->file, "curves", trial);
    if (g < 0) return -1;
    hsize_t dims[2] = {(hsize_t)epochs, 3};
    int rc = h5u_unlink_if_exists(g, name);
    if (rc == 0)
        rc = h5u_dataset_write(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims,
                               curve && epochs > 0 ? curve : none);
    H5Gclose(g);
    return rc;
}

/* Is there room to grow the results file by about `bytes`, under both the
 * file system's free space and the process's file-size limit (ulimit -f)?
 * HDF5 1.10's H5Ocopy can crash when a write fails half-way, so a copy that
 * cannot fit is refused before it starts. */
static int room_for(const char *results_path, off_t bytes, Err *e) {
    struct stat st;
    struct statvfs fs;
    off_t need = bytes + bytes / 8 + (1 << 20); /* HDF5's own overhead, and a margin */
    off_t size = stat(results_path, &st) == 0 ? st.st_size : 0;
    struct rlimit lim;
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        (off_t)lim.rlim_cur < size + need)
        return err_set(e, AE_ERUN, "%s: the file-size limit (%llu bytes) leaves no room for "
                       "%lld more bytes", results_path, (unsigned long long)lim.rlim_cur,
                       (long long)need);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", results_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    if (statvfs(slash ? dir : ".", &fs) == 0 && (off_t)(fs.f_bavail * fs.f_frsize) < need)
        return err_set(e, AE_ERUN, "%s: the disk is full (%lld bytes free, %lld needed)",
                       results_path, (long long)(fs.f_bavail * fs.f_frsize), (long long)need);
    return AE_OK;
}

/* Opens a task file read-only and checks that it holds a /model to copy, and
 * that the results file has room for it. */
static hid_t task_open(const char *task_file, const char *results_path, Err *e) {
    struct stat st;
    if (stat(task_file, &st) != 0) {
        err_set(e, AE_ERUN, "%s: cannot open the task file %s", results_path, task_file);
        return -1;
    }
    if (room_for(results_path, st.st_size, e)) return -1;
    hid_t src = H5Fopen(task_file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (src < 0) {
        err_set(e, AE_ERUN, "%s: cannot open the task file %s", results_path, task_file);
        return -1;
    }
    if (H5Lexists(src, "model", H5P_DEFAULT) <= 0) {
        H5Fclose(src);
        err_set(e, AE_ERUN, "%s: the task file %s has no /model", results_path, task_file);
        return -1;
    }
    return src;
}

/* Copies src's /model (with any classifier subgroup) to dst/name, replacing it. */
static int model_copy(hid_t src, hid_t dst, const char *name) {
    if (h5u_unlink_if_exists(dst, name) < 0) return -1;
    return H5Ocopy(src, "model", dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}

/* Copies the task file's /model to /models/TRIAL/FOLD. */
static int fold_model_copy(Results *r, hid_t src, int trial, int fold) {
    char name[24];
    snprintf(name, sizeof name, "%d", fold);
    hid_t g = trial_group(r->file, "models", trial);
    int rc = g < 0 ? -1 : model_copy(src, g, name);
    if (g >= 0) H5Gclose(g);
    return rc;
}

/* Row, curve and model, once the task file is known to be good. */
static int fold_write(Results *r, const FoldRow *row, const double *curve, int epochs, hid_t src,
                      const char *task_file, Err *e) {
    hsize_t index = (hsize_t)row->trial * (hsize_t)r->n_folds + (hsize_t)row->fold;
    if (table_write_row(r->folds, r->fold_mem, r->xfer, index, row) < 0)
        return err_set(e, AE_ERUN, "%s: cannot write /folds row %llu", r->path,
                       (unsigned long long)index);
    if (curve_write(r, row->trial, row->fold, curve, epochs) < 0)
        return err_set(e, AE_ERUN, "%s: cannot write /curves/%d/%d", r->path, row->trial,
                       row->fold);
    if (src >= 0 && fold_model_copy(r, src, row->trial, row->fold) < 0)
        return err_set(e, AE_ERUN, "%s: cannot copy /model of %s to /models/%d/%d", r->path,
                       task_file, row->trial, row->fold);
    return written(r, e);
}

int results_write_fold(Results *r, const FoldRow *row, const double *curve, int epochs,
                       const char *task_file, Err *e) {
    if (row->trial < 0 || row->fold < 0 || row->fold >= r->n_folds || epochs < 0)
        return err_set(e, AE_ERUN, "%s: no /folds row for trial %d fold %d of %d (epochs %d)",
                       r->path, row->trial, row->fold, r->n_folds, epochs);
    /* A task file that cannot be read is refused before anything is written. */
    hid_t src = task_file ? task_open(task_file, r->path, e) : -1;
    if (task_file && src < 0) return AE_ERUN;
    int rc = fold_write(r, row, curve, epochs, src, task_file, e);
    if (src >= 0) H5Fclose(src);
    return rc;
}

int results_write_trial(Results *r, const TrialRow *row, Err *e) {
    if (row->trial < 0)
        return err_set(e, AE_ERUN, "%s: no /trials row for trial %d", r->path, row->trial);
    TrialRow w = *row;
    w.config = or_empty(w.config); /* a NULL would read back as no string at all */
    if (table_write_row(r->trials, r->trial_mem, r->xfer, (hsize_t)row->trial, &w) < 0)
        return err_set(e, AE_ERUN, "%s: cannot write /trials row %d", r->path, row->trial);
    return written(r, e);
}

static int best_attrs_write(hid_t g, const BestRow *b) {
    int rc = h5u_attr_int(g, "trial", b->trial);
    rc |= h5u_attr_double(g, "objective", b->objective);
    rc |= h5u_attr_double(g, "lr", b->lr);
    rc |= h5u_attr_double(g, "batch_size", b->batch_size);
    rc |= h5u_attr_double(g, "bottleneck", b->bottleneck);
    rc |= h5u_attr_double(g, "lambda", b->lambda);
    rc |= h5u_attr_double(g, "sigma", b->sigma);
    rc |= h5u_attr_str(g, "config", or_empty(b->config));
    rc |= h5u_attr_double(g, "test_mse", b->test_mse);
    rc |= h5u_attr_double(g, "test_accuracy", b->test_accuracy);
    rc |= h5u_attr_double(g, "test_latent_accuracy", b->test_latent_accuracy);
    rc |= h5u_attr_double(g, "test_nrmse", b->test_nrmse);
    rc |= h5u_attr_double(g, "test_knn_accuracy", b->test_knn_accuracy);
    rc |= h5u_attr_double(g, "test_linear_accuracy", b->test_linear_accuracy);
    rc |= h5u_attr_int(g, "epochs", b->epochs);
    return rc;
}

int results_write_best(Results *r, const BestRow *b, const char *task_file, Err *e) {
    /* The task file is checked before the old /best goes, so a bad one loses nothing. */
    hid_t src = task_file ? task_open(task_file, r->path, e) : -1;
    if (task_file && src < 0) return AE_ERUN;
    int rc = h5u_unlink_if_exists(r->file, "best");
    hid_t g = rc < 0 ? -1 : H5Gcreate2(r->file, "best", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    rc = g < 0 ? -1 : best_attrs_write(g, b);
    if (rc == 0 && src >= 0) rc = model_copy(src, g, "model");
    if (rc == 0 && b->test_index) {
        hsize_t n = (hsize_t)b->n_test;
        rc = h5u_dataset_write(g, "test_index", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &n,
                               b->test_index);
    }
    if (g >= 0) H5Gclose(g);
    if (src >= 0) H5Fclose(src);
    if (rc < 0) return err_set(e, AE_ERUN, "%s: cannot write /best", r->path);
    return flush(r, e);
}

int results_write_rounds(Results *r, const RoundRow *rows, int n, Err *e) {
    RoundRow fill;
    hid_t mem = compound_type(round_fields, N_ROUND_FIELDS, sizeof(RoundRow), 0);
    int rc = mem < 0 ? -1 : h5u_unlink_if_exists(r->file, "rounds");
    hid_t d = rc < 0 ? -1 : table_create(r->file, "rounds", round_fields, N_ROUND_FIELDS, mem, &fill);
    rc = d < 0 ? -1 : 0;
    for (int i = 0; i < n && rc == 0; i++) rc = table_write_row(d, mem, r->xfer, (hsize_t)i, &rows[i]);
    if (d >= 0) H5Dclose(d);
    if (mem >= 0) H5Tclose(mem);
    if (rc < 0) return err_set(e, AE_ERUN, "%s: cannot write /rounds", r->path);
    return flush(r, e);
}

int results_set_status(Results *r, const char *status, Err *e) {
    htri_t there = H5Aexists(r->file, "status");
    if (there < 0 || (there && H5Adelete(r->file, "status") < 0) ||
        h5u_attr_str(r->file, "status", status) < 0)
        return err_set(e, AE_ERUN, "%s: cannot set status \"%s\"", r->path, status);
    return flush(r, e);
}

int results_close(Results *r, Err *e) {
    if (!r) return AE_OK;
    int rc = AE_OK;
    ids_close(r);
    if (r->file >= 0) {
        /* Only the file itself may still be open: anything else is an id we leaked,
         * which would keep the file open past H5Fclose. */
        ssize_t open_ids = H5Fget_obj_count(r->file, H5F_OBJ_ALL);
        if (open_ids != 1)
            rc = err_set(e, AE_ERUN, "%s: %zd HDF5 objects still open at close", r->path,
                         open_ids - 1);
        if (H5Fclose(r->file) < 0 && rc == AE_OK)
            rc = err_set(e, AE_ERUN, "%s: cannot close (disk full?)", r->path);
    }
    free(r->path);
    free(r);
    return rc;
}

/* ---- aesweep info ---- */

typedef struct {
    const TrialRow *row;
    double key; /* objective_mean, negated when larger is better */
} Ranked;

static int ranked_cmp(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return (a->row->trial > b->row->trial) - (a->row->trial < b->row->trial);
}

/* The ok trials with an objective, best first; the caller frees the array. */
static Ranked *rank_trials(const TrialRow *rows, hsize_t n, int maximize, int *n_ranked) {
    Ranked *r = malloc((n ? n : 1) * sizeof *r);
    *n_ranked = 0;
    if (!r) return NULL;
    for (hsize_t i = 0; i < n; i++) {
        const TrialRow *t = &rows[i];
        if (t->trial < 0 || t->status != 0 || isnan(t->objective_mean)) continue;
        r[*n_ranked].row = t;
        r[*n_ranked].key = maximize ? -t->objective_mean : t->objective_mean;
        (*n_ranked)++;
    }
    qsort(r, (size_t)*n_ranked, sizeof *r, ranked_cmp);
    return r;
}

enum { CELL = 48, MAX_COLS = 16 };

/* What a table cell may need beside its row. */
typedef struct {
    int input_dim; /* the images' values (784 for 28x28): the code's compression */
    /* the best trial's mean and standard error, and the direction: the band of
     * the trials tied with it */
    double best_mean, best_se;
    int maximize;
    int chosen; /* the refit trial when search.select one_se took it over the best; else -1 */
} TableCtx;

/* Within one standard error of the best (Breiman's rule, as the search applies it):
 * tied with it. */
static int tied_with_best(const TrialRow *t, const TableCtx *x) {
    return !isnan(x->best_se) && t->status == 0 &&
           objective_tied(t->objective_mean, x->best_mean, x->best_se, x->maximize);
}

/* One column of an info table: its header and how a row fills its cell. */
typedef struct {
    const char *name;
    void (*cell)(char *cell, int rank, const TrialRow *t, const TableCtx *ctx);
} Column;

/* NaN is shown as "-": a missing value, not a number. */
static void num_cell(char *cell, const char *fmt, double v) {
    if (isnan(v))
        snprintf(cell, CELL, "-");
    else
        snprintf(cell, CELL, fmt, v);
}

static void c_rank(char *c, int rank, const TrialRow *t, const TableCtx *x) {
    (void)t, (void)x;
    snprintf(c, CELL, "%d", rank);
}
static void c_trial(char *c, int r, const TrialRow *t, const TableCtx *x) {
    (void)r, (void)x;
    snprintf(c, CELL, "%d", t->trial);
}
static void c_stage(char *c, int r, const TrialRow *t, const TableCtx *x) {
    (void)r, (void)x;
    snprintf(c, CELL, "%d", t->stage);
}
static void c_round(char *c, int r, const TrialRow *t, const TableCtx *x) {
    (void)r, (void)x;
    snprintf(c, CELL, "%d", t->round);
}
static void c_objective(char *c, int r, const TrialRow *t, const TableCtx *x) {
    (void)r, (void)x;
    snprintf(c, CELL, "%.6g ± %.3g", t->objective_mean, t->objective_std);
}
#define NUM_COLUMN(fn, field, fmt)                                        \
    static void fn(char *c, int r, const TrialRow *t, const TableCtx *x) { \
        (void)r, (void)x;                                                 \
        num_cell(c, fmt, t->field);                                       \
    }
NUM_COLUMN(c_lr, lr, "%.4g")
NUM_COLUMN(c_batch, batch_size, "%g")
NUM_COLUMN(c_bottleneck, bottleneck, "%g")
NUM_COLUMN(c_lambda, lambda, "%.4g")
NUM_COLUMN(c_sigma, sigma, "%.4g")
NUM_COLUMN(c_epochs, epochs, "%.1f")
NUM_COLUMN(c_seconds, seconds, "%.1f")
NUM_COLUMN(c_val_mse, val_mse, "%.6g")
NUM_COLUMN(c_val_accuracy, val_accuracy, "%.4f")
NUM_COLUMN(c_linear, val_linear_accuracy, "%.4f")
static void c_tied(char *c, int r, const TrialRow *t, const TableCtx *x) {
    (void)r;
    snprintf(c, CELL, "%s%s", tied_with_best(t, x) ? "*" : "",
             t->trial == x->chosen ? " chosen" : "");
}
NUM_COLUMN(c_se, objective_se, "%.3g")
static void c_ratio(char *c, int r, const TrialRow *t, const TableCtx *x) {
    (void)r;
    num_cell(c, "%.1f", x->input_dim > 0 && t->bottleneck > 0 ? x->input_dim / t->bottleneck : NAN);
}

/* config comes last, from the row unpadded: it may be long. */
static const Column top_columns[] = {
    {"rank", c_rank},     {"trial", c_trial},     {"stage", c_stage},     {"round", c_round},
    {"objective", c_objective}, {"lr", c_lr},     {"batch_size", c_batch}, {"bottleneck", c_bottleneck},
    {"lambda", c_lambda}, {"sigma", c_sigma},     {"epochs", c_epochs},   {"seconds", c_seconds},
    {NULL, NULL}};
/* With k >= 2 folds: the standard error and the mark of the trials tied with the best,
 * after the objective. */
static const Column se_columns[] = {{"se", c_se}, {"tied", c_tied}, {NULL, NULL}};
enum { SE_AFTER = 5 }; /* rank, trial, stage, round, objective */
static const Column pareto_columns[] = {
    {"trial", c_trial},   {"bottleneck", c_bottleneck}, {"ratio", c_ratio},
    {"objective", c_objective}, {"val_mse", c_val_mse}, {"val_accuracy", c_val_accuracy},
    {"linear_accuracy", c_linear}, {"lr", c_lr}, {"batch_size", c_batch},
    {"lambda", c_lambda}, {"sigma", c_sigma}, {"epochs", c_epochs}, {NULL, NULL}};

/* Display width: UTF-8 continuation bytes (the ± sign) take no column. */
static int text_width(const char *s) {
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Numbers right-aligned under their headers; config last, unpadded. */
static void cells_print(FILE *out, char (*cells)[CELL], int n_cols, const int *width,
                        const char *config) {
    for (int c = 0; c < n_cols; c++)
        fprintf(out, "%*s%s  ", width[c] - text_width(cells[c]), "", cells[c]);
    fprintf(out, "%s\n", config);
}

static void table_print(FILE *out, const Column *cols, const TrialRow *const *rows, int n,
                        const TableCtx *ctx) {
    int n_cols = 0;
    while (cols[n_cols].name && n_cols < MAX_COLS) n_cols++;
    char(*cells)[MAX_COLS][CELL] = malloc((size_t)(n + 1) * sizeof *cells);
    if (!cells) return;
    int width[MAX_COLS];
    for (int c = 0; c < n_cols; c++) {
        snprintf(cells[0][c], CELL, "%s", cols[c].name);
        width[c] = text_width(cols[c].name);
    }
    for (int i = 0; i < n; i++)
        for (int c = 0; c < n_cols; c++) {
            cols[c].cell(cells[i + 1][c], i + 1, rows[i], ctx);
            if (text_width(cells[i + 1][c]) > width[c]) width[c] = text_width(cells[i + 1][c]);
        }
    cells_print(out, cells[0], n_cols, width, "config");
    for (int i = 0; i < n; i++)
        cells_print(out, cells[i + 1], n_cols, width, rows[i]->config ? rows[i]->config : "");
    free(cells);
}

static int pareto_cmp(const void *pa, const void *pb) {
    const Ranked *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    if (a->row->bottleneck != b->row->bottleneck)
        return a->row->bottleneck < b->row->bottleneck ? -1 : 1;
    return (a->row->trial > b->row->trial) - (a->row->trial < b->row->trial);
}

int results_pareto(const TrialRow *rows, long n, int maximize, const TrialRow **front) {
    int m;
    Ranked *r = rank_trials(rows, (hsize_t)n, maximize, &m);
    if (!r) return -1;
    /* by objective, then width, then id: a trial is beaten on both by one before
     * it, or by none; a narrower code than all before it is on the front */
    qsort(r, (size_t)m, sizeof *r, pareto_cmp);
    int k = 0;
    double narrowest = INFINITY;
    for (int i = 0; i < m; i++)
        if (r[i].row->bottleneck < narrowest) {
            narrowest = r[i].row->bottleneck;
            front[k++] = r[i].row;
        }
    free(r);
    for (int i = 0; i < k / 2; i++) { /* most compressed first */
        const TrialRow *t = front[i];
        front[i] = front[k - 1 - i];
        front[k - 1 - i] = t;
    }
    return k;
}

typedef struct {
    char status[64], strategy[64], objective[128], direction[16];
    double input_dim; /* NaN in files from before it was recorded */
} InfoHead;

static void head_print(FILE *out, const char *path, const InfoHead *h) {
    fprintf(out, "file:       %s\n", path);
    fprintf(out, "status:     %s\n", h->status);
    fprintf(out, "strategy:   %s\n", h->strategy);
    fprintf(out, "objective:  %s (%s)\n", h->objective, h->direction);
}

static void counts_print(FILE *out, const TrialRow *t, hsize_t nt, const FoldRow *f, hsize_t nf) {
    long done = 0, by_status[3] = {0}, folds_done = 0;
    for (hsize_t i = 0; i < nt; i++) {
        if (t[i].trial < 0) continue;
        done++;
        if (t[i].status >= 0 && t[i].status <= 2) by_status[t[i].status]++;
    }
    for (hsize_t i = 0; i < nf; i++) folds_done += f[i].trial >= 0;
    fprintf(out, "trials:     %ld done / %llu rows (ok %ld, diverged %ld, failed %ld)\n", done,
            (unsigned long long)nt, by_status[0], by_status[1], by_status[2]);
    fprintf(out, "folds:      %ld done / %llu rows\n", folds_done, (unsigned long long)nf);
}

/* /best's trial, objective, test_mse and test_accuracy (NaN where missing); 0 when
 * the file has no /best. */
static int best_read(hid_t f, double v[4]) {
    for (int i = 0; i < 4; i++) v[i] = NAN;
    if (H5Lexists(f, "best", H5P_DEFAULT) <= 0) return 0;
    hid_t g = H5Gopen2(f, "best", H5P_DEFAULT);
    if (g < 0) return 0;
    const char *names[4] = {"trial", "objective", "test_mse", "test_accuracy"};
    for (int i = 0; i < 4; i++) h5u_attr_read_double(g, names[i], &v[i]);
    H5Gclose(g);
    return 1;
}

/* Does the file's job say search.select "one_se"? Only then may /best differ from
 * the best mean. */
static int selects_one_se(hid_t f) {
    enum { JOB_MAX = 1 << 20 };
    char *text = malloc(JOB_MAX);
    cJSON *job = text && h5u_attr_read_str(f, "job", text, JOB_MAX) == 0 ? cJSON_Parse(text) : NULL;
    const cJSON *select = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(job, "search"), "select");
    int yes = cJSON_IsString(select) && !strcmp(select->valuestring, "one_se");
    cJSON_Delete(job);
    free(text);
    return yes;
}

/* why: what the refit trial is when it is not the one with the best mean ("" when it is). */
static void best_print(FILE *out, hid_t f, const char *why) {
    double v[4];
    if (!best_read(f, v)) return;
    char cell[3][CELL];
    for (int i = 0; i < 3; i++) num_cell(cell[i], "%.6g", v[i + 1]);
    fprintf(out, "best:       trial %.0f refit%s, objective %s, test_mse %s, test_accuracy %s\n",
            v[0], why, cell[0], cell[1], cell[2]);
}

/* Under search.select one_se the refit trial need not have the best mean: within
 * one standard error of it, the preferred one; or (a bisection) where the stages'
 * choices led. */
static void chosen_why(const TrialRow *rows, hsize_t n, int chosen, const Ranked *top,
                       int maximize, char *why, size_t size) {
    why[0] = 0;
    if (chosen < 0 || !top || top->row->trial == chosen) return;
    const TrialRow *c = NULL;
    for (hsize_t i = 0; i < n && !c; i++)
        if (rows[i].trial == chosen) c = &rows[i];
    int tied = c && objective_tied(c->objective_mean, top->row->objective_mean,
                                   top->row->objective_se, maximize);
    snprintf(why, size, tied ? " (chosen by search.select one_se among the trials tied with the "
                               "best mean, trial %d)"
                             : " (where the bisection's stages led, each choosing by "
                               "search.select one_se; the best mean is trial %d)",
             top->row->trial);
}

/* Opens path read-only after checking that it is an aesweep results file. */
static hid_t info_open(const char *path, InfoHead *h, Err *e) {
    if (check_input_file(path, e) != AE_OK) return -1; /* a FIFO would block HDF5's open */
    if (access(path, R_OK) != 0) {
        err_set(e, AE_EINPUT, "%s: cannot read (%s)", path, strerror(errno));
        return -1;
    }
#if H5_VERSION_GE(1, 12, 0)
    htri_t is_hdf5 = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is_hdf5 = H5Fis_hdf5(path);
#endif
    if (is_hdf5 <= 0) {
        err_set(e, AE_EINPUT, "%s: not an HDF5 file", path);
        return -1;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
#if H5_VERSION_GE(1, 10, 7)
    /* A running search keeps results.h5 open under HDF5's file lock: a reader
     * that asked for the lock too could not look at it until the run ended. */
    if (fapl >= 0) H5Pset_file_locking(fapl, 0, 1);
#endif
    if (fapl >= 0) f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        err_set(e, AE_EINPUT, "%s: HDF5 cannot open it (damaged, or being rewritten?)", path);
        return -1;
    }
    char format[64] = "";
    if (h5u_attr_read_str(f, "format", format, sizeof format) < 0 ||
        strcmp(format, "aesweep-results") != 0) {
        err_set(e, AE_EINPUT, "%s: not an aesweep results file (format \"%s\")", path, format);
        H5Fclose(f);
        return -1;
    }
    h5u_attr_read_str(f, "status", h->status, sizeof h->status);
    h5u_attr_read_str(f, "strategy", h->strategy, sizeof h->strategy);
    h5u_attr_read_str(f, "objective", h->objective, sizeof h->objective);
    h5u_attr_read_str(f, "objective_direction", h->direction, sizeof h->direction);
    h->input_dim = NAN;
    h5u_attr_read_double(f, "input_dim", &h->input_dim);
    return f;
}

/* ranked: the ok trials best first (rank_trials); chosen: /best's trial or -1. */
static void top_print(FILE *out, const InfoHead *h, const Ranked *ranked, int n_ranked, int top,
                      int chosen) {
    const TrialRow **shown = malloc(((size_t)n_ranked + 1) * sizeof *shown);
    if (ranked && shown && n_ranked == 0)
        fprintf(out, "no successful trial yet\n");
    else if (ranked && shown) {
        int k = top < n_ranked ? top : n_ranked;
        for (int i = 0; i < k; i++) shown[i] = ranked[i].row;
        TableCtx ctx = {.best_mean = ranked[0].row->objective_mean,
                        .best_se = ranked[0].row->objective_se,
                        .maximize = strcmp(h->direction, "max") == 0,
                        .chosen = chosen != ranked[0].row->trial ? chosen : -1};
        fprintf(out, "top %d of %d ok trials by %s (%s):\n", k, n_ranked, h->objective,
                ctx.maximize ? "largest first" : "smallest first");
        Column cols[MAX_COLS];
        int n = 0;
        for (int c = 0; top_columns[c].name; c++) {
            cols[n++] = top_columns[c];
            if (c + 1 == SE_AFTER && !isnan(ctx.best_se))
                for (int j = 0; se_columns[j].name; j++) cols[n++] = se_columns[j];
        }
        cols[n] = (Column){NULL, NULL};
        table_print(out, cols, shown, k, &ctx);
        if (!isnan(ctx.best_se)) {
            int tied = 0;
            for (int i = 0; i < n_ranked; i++) tied += tied_with_best(ranked[i].row, &ctx);
            fprintf(out, "tied: %d trial%s within one standard error of the best (%.6g ± %.3g; "
                    "se = the folds' sample std / sqrt(folds)), marked *\n", tied,
                    tied == 1 ? "" : "s", ctx.best_mean, ctx.best_se);
        }
    }
    free(shown);
}

static void pareto_print(FILE *out, const InfoHead *h, const TrialRow *rows, hsize_t n) {
    const TrialRow **front = malloc(((size_t)n + 1) * sizeof *front);
    int k = front ? results_pareto(rows, (long)n, strcmp(h->direction, "max") == 0, front) : -1;
    if (k == 0) fprintf(out, "no successful trial yet: no Pareto front\n");
    if (k > 0) {
        TableCtx ctx = {.input_dim = isnan(h->input_dim) ? 0 : (int)h->input_dim};
        fprintf(out, "Pareto front over %s (%s is better) and the code width (smaller "
                "compresses more): %d trial%s, most compressed first; ratio = %s / "
                "bottleneck\n", h->objective, strcmp(h->direction, "max") == 0 ? "larger" :
                "smaller", k, k == 1 ? "" : "s", ctx.input_dim ? "input values" :
                "(input size not in this file)");
        table_print(out, pareto_columns, front, k, &ctx);
    }
    free(front);
}

static int info_once(const char *path, const InfoOptions *o, FILE *out, char *status,
                     size_t status_size, Err *e) {
    InfoHead h = {"?", "?", "?", "min", NAN};
    hid_t f = info_open(path, &h, e);
    if (f < 0) return AE_EINPUT;
    hid_t trial_mem = compound_type(trial_fields, N_TRIAL_FIELDS, sizeof(TrialRow), 0);
    hid_t fold_mem = compound_type(fold_fields, N_FOLD_FIELDS, sizeof(FoldRow), 0);
    void *trows = NULL, *frows = NULL;
    hsize_t nt = 0, nf = 0;
    int rc = AE_OK;
    TrialRow blank_trial; /* a column an older file lacks reads as missing, not 0 */
    FoldRow blank_fold;
    fill_row(trial_fields, N_TRIAL_FIELDS, &blank_trial);
    fill_row(fold_fields, N_FOLD_FIELDS, &blank_fold);
    if (trial_mem < 0 || fold_mem < 0 ||
        table_read(f, "trials", trial_mem, sizeof(TrialRow), &blank_trial, &trows, &nt) < 0 ||
        table_read(f, "folds", fold_mem, sizeof(FoldRow), &blank_fold, &frows, &nf) < 0)
        rc = err_set(e, AE_EINPUT, "%s: cannot read /trials and /folds (damaged file?)", path);
    if (rc == AE_OK) {
        head_print(out, path, &h);
        counts_print(out, trows, nt, frows, nf);
        double best[4];
        int n_ranked, chosen = -1, maximize = strcmp(h.direction, "max") == 0;
        if (best_read(f, best) && !isnan(best[0]) && selects_one_se(f)) chosen = (int)best[0];
        Ranked *ranked = rank_trials(trows, nt, maximize, &n_ranked);
        char why[200];
        chosen_why(trows, nt, chosen, ranked && n_ranked > 0 ? ranked : NULL, maximize, why,
                   sizeof why);
        if (o->top > 0 && ranked) top_print(out, &h, ranked, n_ranked, o->top, chosen);
        free(ranked);
        if (o->pareto) pareto_print(out, &h, trows, nt);
        best_print(out, f, why);
        if (status) snprintf(status, status_size, "%s", h.status);
    }
    table_free(trial_mem, trows, nt);
    table_free(fold_mem, frows, nf);
    if (trial_mem >= 0) H5Tclose(trial_mem);
    if (fold_mem >= 0) H5Tclose(fold_mem);
    H5Fclose(f);
    return rc;
}

int results_info(const char *path, const InfoOptions *o, FILE *out, char *status,
                 size_t status_size, Err *e) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* While a run writes the file, a read can meet it half-way through an
     * update (about 1 read in 150 does): the next one, a moment later, will not. */
    for (int attempt = 1;; attempt++) {
        int rc = info_once(path, o, out, status, status_size, e);
        if (rc == AE_OK || attempt == 10) return rc;
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
}

int results_read_sha(const char *path, char sha[65], Err *e) {
    InfoHead h;
    hid_t f = info_open(path, &h, e);
    if (f < 0) return AE_EINPUT;
    int rc = h5u_attr_read_str(f, "job_sha256", sha, 65) < 0
                 ? err_set(e, AE_EINPUT, "%s: no job_sha256", path)
                 : AE_OK;
    H5Fclose(f);
    return rc;
}
