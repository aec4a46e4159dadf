#include <stdio.h>
#include <string.h>

#include "plan.h"

void job_data_free(JobData *d) {
    dataset_free(&d->data);
    index_free(&d->train);
    index_free(&d->test);
}

/* A stratified subset of limit images (0: all) of a whole set. */
static int subset(const Images *im, int limit, uint64_t seed, Index *out, Err *e) {
    Index all;
    int rc = index_all(im->n, &all, e);
    if (rc) return rc;
    rc = index_subset(im->labels, &all, limit ? limit : all.n, seed, out, e);
    index_free(&all);
    return rc;
}

int job_data_load(const Job *job, JobData *d, Err *e) {
    memset(d, 0, sizeof *d);
    const DataFormat *fmt = job_data_format(job);
    int rc = fmt->load(job_data_dir(job), &d->data, e);
    if (rc && job->data.path[0]) return err_prefix(e, "%s: data.path", job->source);
    if (rc) {
        err_prefix(e, "%s: data.dataset \"%s\"", job->source, job->data.dataset);
        return err_append(e, " (Debian package dataset-%s installed?)", job->data.dataset);
    }
    Images *sets[2] = {&d->data.train, &d->data.test};
    for (int i = 0; i < 2 && !rc; i++) {
        sets[i]->signed_range = job->data.signed_range;
        rc = images_pad(sets[i], job->data.pad, e);
    }
    if (rc) {
        job_data_free(d);
        return rc;
    }
    uint64_t seed = (uint64_t)job->seed;
    rc = subset(&d->data.train, job->data.train_limit, seed_mix(seed, RNG_SUBSET_TRAIN),
                &d->train, e);
    if (!rc)
        rc = subset(&d->data.test, job->data.test_limit, seed_mix(seed, RNG_SUBSET_TEST),
                    &d->test, e);
    if (rc) {
        err_prefix(e, "%s: data", job->source);
        job_data_free(d);
    }
    return rc;
}

int job_data_split(const Job *job, const JobData *d, int folds, int fold, Index *train,
                   Index *val, Err *e) {
    uint64_t seed = seed_mix((uint64_t)job->seed, RNG_SPLIT);
    const uint8_t *labels = d->data.train.labels;
    if (fold == FOLD_REFIT) {
        val->idx = NULL;
        val->n = 0;
        return index_subset(labels, &d->train, d->train.n, 0, train, e); /* all: a copy */
    }
    if (folds == 1)
        return index_holdout(labels, &d->train, job->data.validation, seed, train, val, e);
    return index_fold(labels, &d->train, folds, fold, seed, train, val, e);
}

int job_data_fit_size(const Job *job, const JobData *d, int folds, int *n, Err *e) {
    Index train, val;
    int rc = job_data_split(job, d, folds, 0, &train, &val, e);
    *n = train.n;
    index_free(&train);
    index_free(&val);
    if (rc == AE_EINPUT && folds > 1) {
        err_prefix(e, "%s: search.folds", job->source);
        return err_append(e, " (in the %d training images; fewer folds, or a larger "
                          "data.train_limit)", d->train.n);
    }
    if (rc == AE_EINPUT) return err_prefix(e, "%s: data.validation", job->source);
    return rc;
}

int job_batch_check(const Job *job, const char *where, double batch, int n, Err *e) {
    if (batch <= n) return AE_OK;
    return err_set(e, AE_EINPUT, "%s: %s: a batch of %.0f is more than the %d images a model "
                   "trains on in the smallest split", job->source, where, batch, n);
}

uint64_t task_seed(const Job *job, int trial, int fold) {
    uint64_t s = seed_mix((uint64_t)job->seed, RNG_TASK);
    return seed_mix(seed_mix(s, (uint64_t)trial), (uint64_t)(fold + 1));
}

void job_task_config(const Job *job, uint64_t seed, int use_classifier, TaskConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    job_train_config(job, &cfg->train);
    job_classifier_config(job, &cfg->classifier);
    cfg->train.seed = cfg->classifier.seed = seed;
    cfg->use_classifier = use_classifier && job->classifier.epochs > 0;
}

int job_model_check(const Job *job, const JobData *d, Model *m, Err *e) {
    Shape in = images_shape(&d->data.train);
    if ((job->train.augment_crop > 0 || job->train.augment_flip) && (in.h < 2 || in.w < 2))
        return err_set(e, AE_EINPUT, "%s: train.augment: crop and flip move pixels along an "
                       "image's height and width, and the data's images are %d x %d x %d",
                       job->source, in.c, in.h, in.w);
    TrainConfig cfg;
    Model own;
    Model *model = m ? m : &own;
    job_train_config(job, &cfg);
    int rc = trainer_build_model(&cfg, &d->data.train, model, e);
    if (!rc && job->classifier.finetune && job->classifier.epochs > 0 &&
        model_before_code(model) == 0)
        rc = err_set(e, AE_EINPUT, "classifier.finetune: the encoder has no layer before its "
                     "code, and fine-tuning replaces the code layer (report 002 section 2.3): "
                     "give model.hidden or model.encoder a layer");
    if (rc == AE_EINPUT) err_prefix(e, "%s", job->source);
    if (!m) model_free(&own);
    return rc;
}
