#include "task_file.h"
#include "model_file.h"

int task_file_write(const char *path, const Job *job, const TaskResult *r, Err *e) {
    const TrainResult *f = &r->fit;
    NamedValue v[] = {
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
        {"classifier_epochs", r->cls.epochs},
        {"seconds", f->seconds},
    };
    ModelFileInfo info = {job->json, train_status_name(f->status), v, (int)(sizeof v / sizeof v[0]),
                          f->curve, f->epochs, &r->model,
                          r->classifier.n_layers ? &r->classifier : NULL, r->confusion,
                          r->n_classes};
    return model_file_write(path, &info, e);
}
