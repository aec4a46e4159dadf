/* Job specs: the JSON contract of SPEC §3, parsed with cJSON, checked against one
 * table of keys, overridden by --set, and turned into the trainer's config. */
#ifndef AESWEEP_SPEC_H
#define AESWEEP_SPEC_H

#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "err.h"
#include "model.h"
#include "penalty.h"
#include "classifier.h"
#include "trainer.h"

typedef enum {
    STRATEGY_GRID,
    STRATEGY_RANDOM,
    STRATEGY_BISECTION,
    STRATEGY_TPE,
    STRATEGY_HYPERBAND,
    STRATEGY_ASHA,
    STRATEGY_COUNT
} Strategy;
typedef enum {
    OBJ_VAL_MSE,
    OBJ_VAL_ACCURACY,
    OBJ_LATENT_ACCURACY,
    OBJ_VAL_KNN_ACCURACY,
    OBJ_VAL_LINEAR_ACCURACY,
    OBJ_COUNT
} Objective;
typedef enum { WEIGHTS_BEST, WEIGHTS_ALL, WEIGHTS_NONE, WEIGHTS_COUNT } WeightsPolicy;

extern const char *const strategy_names[STRATEGY_COUNT];
extern const char *const objective_names[OBJ_COUNT];
/* Where hyperband and asha take their new configurations from. */
typedef enum { SAMPLER_RANDOM, SAMPLER_TPE, SAMPLER_COUNT } Sampler;
extern const char *const sampler_names[SAMPLER_COUNT];
/* How a strategy chooses among its evaluated points: the best mean, or Breiman's
 * one-standard-error rule (the preferred point tied with the best; search.h). */
typedef enum { SELECT_BEST, SELECT_ONE_SE, SELECT_COUNT } Select;
extern const char *const select_names[SELECT_COUNT];
extern const char *const weights_names[WEIGHTS_COUNT];

typedef struct {
    int n;
    int v[AE_MAX_HIDDEN];
} IntList;

/* One entry of model.encoder or model.decoder (SPEC §7), as the job gives it. */
typedef struct {
    int kind;       /* LayerKind: dense, conv, conv_transpose or reshape */
    int units;      /* outputs or channels */
    int kernel, stride, padding, output_padding;
    int activation; /* Act; -1: model.activation */
    int batchnorm;
    double dropout; /* -1: train.dropout */
    int to[3];      /* reshape: C, H, W */
} LayerEntry;

typedef struct {
    int n; /* 0: none (for the decoder, the mirror) */
    LayerEntry e[AE_MAX_ENTRIES];
} EntryList;

typedef struct {
    char name[128];
    char description[4096]; /* free text: what the job is for (not in SPEC §3) */
    double seed; /* an integer in [0, 2^53], kept as JSON gives it */
    struct {
        char dataset[64];
        char path[AE_PATH_MAX];
        int train_limit, test_limit; /* 0: all */
        double validation;
        int pad;          /* zero pixels added on each side */
        int signed_range; /* data.range [-1, 1] rather than [0, 1] */
    } data;
    struct {
        IntList hidden;
        EntryList encoder, decoder;
        int bottleneck;
        int activation, latent_activation, output_activation; /* Act */
        double leaky_slope;
        int variational;
        double beta, likelihood_variance;
    } model;
    struct {
        int optimizer; /* OptKind */
        double lr;
        int batch_size, epochs;
        int loss; /* Loss */
        double weight_decay, dropout, input_noise, momentum, mae_weight, recon_weight;
        int augment_crop, augment_flip;
        double augment_noise;
        int patience;
        double min_delta;
        int schedule; /* ScheduleKind */
        double lr_min, gamma;
        int step_epochs, warmup_epochs;
    } train;
    struct {
        int type; /* PenaltyKind */
        double lambda, sigma;
        int prior; /* PriorKind */
        double prior_noise, csd_lambda, disc_lr, alpha, temperature;
        IntList discriminator, projection;
    } penalty;
    struct {
        IntList hidden;
        double lr;
        int batch_size, epochs, patience;
        double dropout;
        int batchnorm;
        int finetune; /* the encoder trains with the classifier (report 002 section 2.3) */
        int schedule; /* ScheduleKind */
        double lr_min, gamma;
        int step_epochs, warmup_epochs;
    } classifier;
    struct {
        int strategy, folds, objective, trials, exhaustive_below, max_rounds;
        int startup_trials, lag, candidates; /* tpe */
        int eta, min_epochs, brackets;       /* hyperband (and asha: eta, min_epochs) */
        int sampler;                         /* Sampler: hyperband, asha */
        int select;                          /* Select */
    } search;
    struct {
        char dir[AE_PATH_MAX];
        int weights; /* WeightsPolicy */
        int checkpoint_every; /* epochs between a running task's checkpoints; 0: none */
    } output;
    char *json;       /* the spec after --set, as compact JSON text (owned) */
    void *space;      /* cJSON of search.space, or NULL; owned (checked by the search code) */
    void *stages;     /* cJSON of search.stages, or NULL; owned */
    char source[AE_PATH_MAX]; /* the file the spec came from, for messages */
} Job;

/* Reads and checks a job file, applying "dotted.key=value" overrides in order.
 * Every fault is AE_EINPUT with "FILE: json.path: expected ..., got ...". */
int job_load(const char *path, const char *const *sets, int n_sets, Job *job, Err *e);
/* The same from JSON text (tests); `source` names it in messages. */
int job_parse(const char *text, const char *source, const char *const *sets, int n_sets, Job *job,
              Err *e);
void job_free(Job *job);

/* The trainer's and the classifier's configurations of the job's fixed values. */
void job_train_config(const Job *job, TrainConfig *cfg);
void job_classifier_config(const Job *job, ClassifierConfig *cfg);

/* Can search.space set this key? Keys of the table that hold a value, except
 * name, data.dataset/path, search.* and output.*. *is_int tells integer keys (lists of
 * integers too); *is_list, the lists (model.hidden, classifier.hidden). A layer
 * entry's field is a key too: model.encoder.1.conv (entries counted from 0). */
int job_key_searchable(const char *path, int *is_int, int *is_list);
/* The value of a number key in the parsed job (defaults included); NaN for keys
 * that do not hold a number. */
double job_number(const Job *job, const char *path);
/* The value of a key in the parsed job as JSON text (defaults included); returns
 * 0 for keys that hold no value. */
int job_value_json(const Job *job, const char *path, char *buf, size_t n);
/* Writes "PREFIXkey  value" lines for every key a search could set (the model,
 * training, penalty, classifier and data keys; job_key_searchable), defaults
 * included, in the table's order: the one configuration the job trains. */
void job_print_settings(const Job *job, FILE *f, const char *prefix);
/* Did the job file (or a --set) write this key, rather than leave its default? */
int job_key_given(const Job *job, const char *path);
/* The known key nearest to path, or NULL when none is close. */
const char *job_nearest_key(const char *path);

/* The folder of the job's data: data.path, or the named dataset's folder. */
const char *job_data_dir(const Job *job);
/* How the job's data is read (data.dataset's format; IDX for a bare data.path). */
const DataFormat *job_data_format(const Job *job);

#endif
