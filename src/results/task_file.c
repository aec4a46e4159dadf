#include <hdf5.h>
#include <math.h>
#include <string.h>

#include "h5util.h"
#include "model_file.h"
#include "task_file.h"

int task_file_write(const char *path, const Job *job, const TaskResult *r,
                    const TaskIdentity *id, Err *e) {
    const TrainResult *f = &r->fit;
    /* Room for every attribute below and the variational ones after. */
    enum { MAX_VALUES = 48 };
    NamedValue v[MAX_VALUES] = {
        {"lr", job->train.lr},
        {"batch_size", job->train.batch_size},
        {"bottleneck", job->model.bottleneck},
        {"lambda", job->penalty.lambda},
        {"sigma", job->penalty.sigma},
        {"dropout", job->train.dropout},
        {"weight_decay", job->train.weight_decay},
        {"input_noise", job->train.input_noise},
        {"seed", job->seed},
        {"epochs", f->epochs},
        {"best_epoch", f->best_epoch},
        {"train_mse", f->train_mse},
        {"val_mse", f->val_mse},
        {"test_mse", r->test_mse},
        {"val_nrmse", r->val_nrmse},
        {"test_nrmse", r->test_nrmse},
        {"latent_accuracy", r->val_latent_accuracy},
        {"test_latent_accuracy", r->test_latent_accuracy},
        {"val_accuracy", r->val_accuracy},
        {"test_accuracy", r->test_accuracy},
        {"val_knn_accuracy", r->val_knn_accuracy},
        {"test_knn_accuracy", r->test_knn_accuracy},
        {"val_linear_accuracy", r->val_linear_accuracy},
        {"test_linear_accuracy", r->test_linear_accuracy},
        {"classifier_epochs", r->cls.epochs},
        {"seconds", f->seconds},
        /* the task's place in its search (NaN for `train`) */
        {"trial", id ? id->trial : NAN},
        {"fold", id ? id->fold : NAN},
        {"rank", id ? id->rank : NAN},
        {"train_status", f->status},
    };
    const char *strings[][2] = {{"job_sha256", id ? id->job_sha256 : ""},
                                {"config", id ? id->config : ""}};
    int n = 0;
    while (n < MAX_VALUES && v[n].name) n++;
    /* A variational model's metrics; other files keep their attributes. */
    if (job->model.variational && n + 4 <= MAX_VALUES) {
        v[n++] = (NamedValue){"val_kl", r->val_kl};
        v[n++] = (NamedValue){"val_elbo", r->val_elbo};
        v[n++] = (NamedValue){"test_kl", r->test_kl};
        v[n++] = (NamedValue){"test_elbo", r->test_elbo};
    }
    ModelFileInfo info = {job->json, train_status_name(f->status), v, n,
                          f->curve, f->epochs, &r->model,
                          r->classifier.n_layers ? &r->classifier : NULL,
                          r->classifier_on_images, r->confusion, r->n_classes, strings, 2};
    return model_file_write(path, &info, e);
}

/* Attributes a task file must have, into the report's fields. */
static int read_numbers(hid_t f, TaskReport *rep) {
    const struct {
        const char *name;
        double *at;
    } d[] = {{"train_mse", &rep->train_mse}, {"val_mse", &rep->val_mse},
             {"val_accuracy", &rep->val_accuracy}, {"latent_accuracy", &rep->latent_accuracy},
             {"seconds", &rep->seconds}, {"test_mse", &rep->test_mse},
             {"test_accuracy", &rep->test_accuracy},
             {"test_latent_accuracy", &rep->test_latent_accuracy},
             {"test_nrmse", &rep->test_nrmse}};
    const struct {
        const char *name;
        int *at;
    } n[] = {{"trial", &rep->trial}, {"fold", &rep->fold}, {"rank", &rep->rank},
             {"epochs", &rep->epochs}, {"best_epoch", &rep->best_epoch},
             {"train_status", &rep->status}};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (h5u_attr_read_double(f, d[i].name, d[i].at) < 0) return -1;
    /* Measures added since the first task files: NaN in a file without them. */
    const struct {
        const char *name;
        double *at;
    } later[] = {{"val_knn_accuracy", &rep->val_knn_accuracy},
                 {"test_knn_accuracy", &rep->test_knn_accuracy},
                 {"val_linear_accuracy", &rep->val_linear_accuracy},
                 {"test_linear_accuracy", &rep->test_linear_accuracy}};
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        *later[i].at = NAN;
        if (H5Aexists(f, later[i].name) > 0 && h5u_attr_read_double(f, later[i].name, later[i].at) < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++) {
        double x;
        if (h5u_attr_read_double(f, n[i].name, &x) < 0 || !isfinite(x)) return -1;
        *n[i].at = (int)x;
    }
    return 0;
}

static int read_curve(hid_t f, double *curve, int epochs, int max_epochs) {
    if (epochs > max_epochs || epochs < 0) return -1;
    hid_t d = H5Dopen2(f, "curve", H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t s = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int ok = s >= 0 && H5Sget_simple_extent_ndims(s) == 2 &&
             H5Sget_simple_extent_dims(s, dims, NULL) == 2 && dims[0] == (hsize_t)epochs &&
             dims[1] == 3;
    if (ok && epochs > 0)
        ok = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, curve) >= 0;
    if (s >= 0) H5Sclose(s);
    H5Dclose(d);
    return ok ? 0 : -1;
}

int task_file_read(const char *path, TaskReport *rep, double *curve, int max_epochs,
                   char sha[65], char *config, size_t config_size, Err *e) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(rep, 0, sizeof *rep);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return err_set(e, AE_EINPUT, "%s: not a readable HDF5 file", path);
    char format[32];
    int ok = h5u_attr_read_str(f, "format", format, sizeof format) >= 0 &&
             !strcmp(format, "aesweep-model") && read_numbers(f, rep) == 0 &&
             h5u_attr_read_str(f, "job_sha256", sha, 65) >= 0 &&
             h5u_attr_read_str(f, "config", config, config_size) >= 0 &&
             read_curve(f, curve, rep->epochs, max_epochs) == 0 && H5Lexists(f, "model", H5P_DEFAULT) > 0;
    H5Fclose(f);
    return ok ? AE_OK : err_set(e, AE_EINPUT, "%s: not a complete task file", path);
}
