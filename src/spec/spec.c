#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "spec.h"

const char *const strategy_names[STRATEGY_COUNT] = {"grid", "random", "bisection", "tpe",
                                                        "hyperband", "asha"};
const char *const objective_names[OBJ_COUNT] = {"val_mse", "val_accuracy", "latent_accuracy",
                                                "val_knn_accuracy", "val_linear_accuracy"};
const char *const weights_names[WEIGHTS_COUNT] = {"best", "all", "none"};
const char *const sampler_names[SAMPLER_COUNT] = {"random", "tpe"};
const char *const select_names[SELECT_COUNT] = {"best", "one_se"};

/* ---- the table of keys ---------------------------------------------------- */

typedef enum { F_OBJ, F_NUM, F_INT, F_STR, F_ENUM, F_INTS, F_RAW, F_BOOL, F_LAYERS, F_RANGE } FieldType;

enum { LO_OPEN = 1, HI_OPEN = 2, WHOLE = 4 }; /* range ends excluded; an integer kept as double */

typedef struct {
    const char *path;
    FieldType type;
    size_t off;  /* into Job */
    double lo, hi;
    int open;
    const char *const *names; /* F_ENUM */
    int n_names;
    size_t size; /* F_STR buffer size */
} Field;

#define OBJ(p) {p, F_OBJ, 0, 0, 0, 0, NULL, 0, 0}
#define NUM(p, m, lo, hi, open) {p, F_NUM, offsetof(Job, m), lo, hi, open, NULL, 0, 0}
#define INT(p, m, lo, hi) {p, F_INT, offsetof(Job, m), lo, hi, 0, NULL, 0, 0}
#define STR(p, m) {p, F_STR, offsetof(Job, m), 0, 0, 0, NULL, 0, sizeof(((Job *)0)->m)}
#define ENUM(p, m, names, n) {p, F_ENUM, offsetof(Job, m), 0, 0, 0, names, n, 0}
#define INTS(p, m, lo, hi) {p, F_INTS, offsetof(Job, m), lo, hi, 0, NULL, 0, 0}
#define RAW(p) {p, F_RAW, 0, 0, 0, 0, NULL, 0, 0}
#define BOOL(p, m) {p, F_BOOL, offsetof(Job, m), 0, 1, 0, NULL, 0, 0}
#define RANGE(p, m) {p, F_RANGE, offsetof(Job, m), 0, 0, 0, NULL, 0, 0}
#define LAYERS(p, m) {p, F_LAYERS, offsetof(Job, m), 0, 0, 0, NULL, 0, 0}

#define BIG 1e9
#define SEED_MAX 9007199254740992.0 /* 2^53: every integer below is exact in JSON */

static const Field fields[] = {
    STR("name", name),
    STR("description", description),
    NUM("seed", seed, 0, SEED_MAX, WHOLE),
    OBJ("data"),
    STR("data.dataset", data.dataset),
    STR("data.path", data.path),
    INT("data.train_limit", data.train_limit, 0, BIG),
    INT("data.test_limit", data.test_limit, 0, BIG),
    NUM("data.validation", data.validation, 0, 1, LO_OPEN | HI_OPEN),
    INT("data.pad", data.pad, 0, 64),
    RANGE("data.range", data.signed_range),
    OBJ("model"),
    INTS("model.hidden", model.hidden, 1, 1e6),
    LAYERS("model.encoder", model.encoder),
    LAYERS("model.decoder", model.decoder),
    INT("model.bottleneck", model.bottleneck, 1, 1e6),
    ENUM("model.activation", model.activation, act_names, ACT_COUNT),
    ENUM("model.latent_activation", model.latent_activation, act_names, ACT_COUNT),
    ENUM("model.output_activation", model.output_activation, act_names, ACT_COUNT),
    NUM("model.leaky_slope", model.leaky_slope, 0, 1, LO_OPEN),
    BOOL("model.variational", model.variational),
    NUM("model.beta", model.beta, 0, BIG, 0),
    NUM("model.likelihood_variance", model.likelihood_variance, 0, BIG, LO_OPEN),
    OBJ("train"),
    ENUM("train.optimizer", train.optimizer, optim_names, OPT_COUNT),
    NUM("train.lr", train.lr, 0, BIG, LO_OPEN),
    INT("train.batch_size", train.batch_size, 1, 1e6),
    INT("train.epochs", train.epochs, 1, 1e6),
    ENUM("train.loss", train.loss, loss_names, LOSS_COUNT),
    NUM("train.weight_decay", train.weight_decay, 0, BIG, 0),
    NUM("train.dropout", train.dropout, 0, 1, HI_OPEN),
    NUM("train.input_noise", train.input_noise, 0, BIG, 0),
    NUM("train.momentum", train.momentum, 0, 1, HI_OPEN),
    NUM("train.mae_weight", train.mae_weight, 0, BIG, 0),
    NUM("train.recon_weight", train.recon_weight, 0, BIG, 0),
    OBJ("train.augment"),
    INT("train.augment.crop", train.augment_crop, 0, 64),
    BOOL("train.augment.flip", train.augment_flip),
    NUM("train.augment.noise", train.augment_noise, 0, BIG, 0),
    OBJ("train.early_stopping"),
    INT("train.early_stopping.patience", train.patience, 0, 1e6),
    NUM("train.early_stopping.min_delta", train.min_delta, 0, BIG, 0),
    ENUM("train.schedule", train.schedule, schedule_names, SCHED_COUNT),
    NUM("train.lr_min", train.lr_min, 0, BIG, 0),
    INT("train.step_epochs", train.step_epochs, 1, 1e6),
    NUM("train.gamma", train.gamma, 0, 1, LO_OPEN),
    INT("train.warmup_epochs", train.warmup_epochs, 0, 1e6),
    OBJ("penalty"),
    ENUM("penalty.type", penalty.type, penalty_names, PENALTY_COUNT),
    NUM("penalty.lambda", penalty.lambda, 0, BIG, 0),
    /* Beyond these the kernel is a point or flat at float precision, and the gradient
     * (~1/sigma^2) leaves float range: the ends are tested finite (test_penalty). */
    NUM("penalty.sigma", penalty.sigma, 1e-6, 1e6, 0),
    ENUM("penalty.prior", penalty.prior, prior_names, PRIOR_COUNT),
    NUM("penalty.prior_noise", penalty.prior_noise, 0, BIG, 0),
    NUM("penalty.csd_lambda", penalty.csd_lambda, 0, BIG, 0),
    INTS("penalty.discriminator", penalty.discriminator, 1, 1e6),
    NUM("penalty.disc_lr", penalty.disc_lr, 0, BIG, LO_OPEN),
    NUM("penalty.alpha", penalty.alpha, 0, BIG, 0),
    NUM("penalty.temperature", penalty.temperature, 0, BIG, LO_OPEN),
    INTS("penalty.projection", penalty.projection, 1, 1e6),
    OBJ("classifier"),
    INTS("classifier.hidden", classifier.hidden, 1, 1e6),
    NUM("classifier.lr", classifier.lr, 0, BIG, LO_OPEN),
    INT("classifier.batch_size", classifier.batch_size, 1, 1e6),
    INT("classifier.epochs", classifier.epochs, 0, 1e6),
    INT("classifier.patience", classifier.patience, 0, 1e6),
    NUM("classifier.dropout", classifier.dropout, 0, 1, HI_OPEN),
    BOOL("classifier.batchnorm", classifier.batchnorm),
    BOOL("classifier.finetune", classifier.finetune),
    ENUM("classifier.schedule", classifier.schedule, schedule_names, SCHED_COUNT),
    NUM("classifier.lr_min", classifier.lr_min, 0, BIG, 0),
    INT("classifier.step_epochs", classifier.step_epochs, 1, 1e6),
    NUM("classifier.gamma", classifier.gamma, 0, 1, LO_OPEN),
    INT("classifier.warmup_epochs", classifier.warmup_epochs, 0, 1e6),
    OBJ("search"),
    ENUM("search.strategy", search.strategy, strategy_names, STRATEGY_COUNT),
    INT("search.folds", search.folds, 1, 100),
    ENUM("search.objective", search.objective, objective_names, OBJ_COUNT),
    INT("search.trials", search.trials, 1, 1e6),
    INT("search.exhaustive_below", search.exhaustive_below, 1, 1e6),
    INT("search.max_rounds", search.max_rounds, 0, 1000),
    INT("search.startup_trials", search.startup_trials, 2, 1e6),
    INT("search.lag", search.lag, 0, 1e6),
    INT("search.candidates", search.candidates, 1, 256),
    INT("search.eta", search.eta, 2, 100),
    INT("search.min_epochs", search.min_epochs, 1, 1e6),
    INT("search.brackets", search.brackets, 0, 1e5),
    ENUM("search.sampler", search.sampler, sampler_names, SAMPLER_COUNT),
    ENUM("search.select", search.select, select_names, SELECT_COUNT),
    RAW("search.space"),
    RAW("search.stages"),
    OBJ("output"),
    STR("output.dir", output.dir),
    ENUM("output.weights", output.weights, weights_names, WEIGHTS_COUNT),
    INT("output.checkpoint_every", output.checkpoint_every, 0, 1e6),
};
#define N_FIELDS (int)(sizeof fields / sizeof fields[0])

static void job_defaults(Job *j) {
    memset(j, 0, sizeof *j);
    snprintf(j->name, sizeof j->name, "job");
    j->seed = 1;
    snprintf(j->data.dataset, sizeof j->data.dataset, "fashion-mnist");
    j->data.validation = 0.1;
    j->model.hidden = (IntList){2, {800, 400}};
    j->model.bottleneck = 225;
    j->model.activation = ACT_RELU;
    j->model.latent_activation = ACT_LINEAR;
    j->model.output_activation = ACT_SIGMOID;
    j->model.leaky_slope = 0.01;
    j->model.beta = 1;
    j->model.likelihood_variance = 1;
    j->train.optimizer = OPT_ADAM;
    j->train.lr = 0.001;
    j->train.batch_size = 128;
    j->train.epochs = 30;
    j->train.loss = LOSS_MSE;
    j->train.momentum = 0.9;
    j->train.mae_weight = 1;
    j->train.recon_weight = 1;
    j->train.patience = 5;
    j->train.min_delta = 0.001;
    j->train.step_epochs = 10;
    j->train.gamma = 0.1;
    j->penalty.type = PENALTY_NONE;
    j->penalty.sigma = 1;
    j->penalty.prior = PRIOR_ONEHOT;
    j->penalty.csd_lambda = 1;
    j->penalty.disc_lr = 0.001;
    j->penalty.alpha = 1;
    j->penalty.temperature = 0.1;
    j->classifier.hidden = (IntList){1, {200}};
    j->classifier.lr = 0.0006;
    j->classifier.batch_size = 140;
    j->classifier.epochs = 30;
    j->classifier.patience = 5;
    j->classifier.step_epochs = 10;
    j->classifier.gamma = 0.1;
    j->search.strategy = STRATEGY_RANDOM;
    j->search.folds = 1;
    j->search.objective = OBJ_VAL_MSE;
    j->search.trials = 20;
    j->search.exhaustive_below = 8;
    j->search.max_rounds = 8;
    j->search.startup_trials = 10;
    j->search.lag = 8;
    j->search.candidates = 24;
    j->search.eta = 3;
    j->search.min_epochs = 1;
    snprintf(j->output.dir, sizeof j->output.dir, "runs/job");
    j->output.weights = WEIGHTS_BEST;
    j->output.checkpoint_every = 1;
}

static const Field *field_find(const char *path) {
    for (int i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].path, path) == 0) return &fields[i];
    return NULL;
}

/* ---- messages --------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[128];
    if (lb >= 128) return (size_t)-1;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The known key nearest to an unknown path, or NULL when none is close. */
static const char *nearest_key(const char *path) {
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (int i = 0; i < N_FIELDS; i++) {
        size_t d = edit_distance(path, fields[i].path);
        if (d < bd) bd = d, best = fields[i].path;
    }
    size_t len = strlen(path);
    return bd <= (len < 9 ? 2 : len / 3) ? best : NULL;
}

static int err_unknown(Err *e, const char *src, const char *path) {
    const char *near = nearest_key(path);
    if (near)
        return err_set(e, AE_EINPUT, "%s: %s: unknown key (did you mean %s?)", src, path, near);
    return err_set(e, AE_EINPUT, "%s: %s: unknown key", src, path);
}

/* A short rendering of a JSON value for "got ..." */
static void show_value(const cJSON *v, char *buf, size_t n) {
    if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) { /* 1e999: cJSON would print null */
        snprintf(buf, n, "a number beyond the range of a double");
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        snprintf(buf, n, "?");
        return;
    }
    if (strlen(s) > 40) snprintf(buf, n, "%.37s...", s);
    else snprintf(buf, n, "%s", s);
    free(s);
}

static int err_expected(Err *e, const char *src, const char *path, const cJSON *v,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int err_expected(Err *e, const char *src, const char *path, const cJSON *v,
                        const char *fmt, ...) {
    char want[400], got[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    show_value(v, got, sizeof got);
    return err_set(e, AE_EINPUT, "%s: %s: expected %s, got %s", src, path, want, got);
}

static void range_text(const Field *f, const char *kind, char *buf, size_t n) {
    if (f->hi >= BIG)
        snprintf(buf, n, "%s %s %g", kind, f->open & LO_OPEN ? ">" : ">=", f->lo);
    else
        snprintf(buf, n, "%s in %c%g, %g%c", kind, f->open & LO_OPEN ? '(' : '[', f->lo, f->hi,
                 f->open & HI_OPEN ? ')' : ']');
}

static int in_range(const Field *f, double x) {
    if (!isfinite(x)) return 0;
    if (f->open & LO_OPEN ? x <= f->lo : x < f->lo) return 0;
    if (f->open & HI_OPEN ? x >= f->hi : x > f->hi) return 0;
    return 1;
}

static void names_text(const Field *f, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < f->n_names && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", i ? ", " : "", f->names[i]);
}

/* ---- values ------------------------------------------------------------------ */

static int parse_number(const Field *f, const cJSON *v, const char *src, double *out, Err *e) {
    int integer = f->type != F_NUM || (f->open & WHOLE);
    char want[128];
    range_text(f, integer ? "an integer" : "a number", want, sizeof want);
    if (!cJSON_IsNumber(v)) return err_expected(e, src, f->path, v, "%s", want);
    double x = v->valuedouble;
    if (!in_range(f, x) || (integer && x != floor(x)))
        return err_expected(e, src, f->path, v, "%s", want);
    *out = x;
    return AE_OK;
}

/* ---- layer entries (model.encoder, model.decoder) ---------------------------------- */

static const char *const entry_kinds[] = {"dense", "conv", "conv_transpose", "reshape"};
static const int entry_kind_layer[] = {LAYER_DENSE, LAYER_CONV, LAYER_CONV_T, LAYER_RESHAPE};
enum { N_ENTRY_KINDS = 4 };

/* An entry's integer fields: name, offset, range, which kinds may give it. */
typedef struct {
    const char *name;
    size_t off;
    int lo, hi;
    int kinds; /* bit k: entry_kinds[k] may give it */
} EntryInt;

#define EI(n, m, lo, hi, kinds) {n, offsetof(LayerEntry, m), lo, hi, kinds}
static const EntryInt entry_ints[] = {
    EI("kernel", kernel, 1, 64, 6), EI("stride", stride, 1, 64, 6), EI("padding", padding, 0, 64, 6),
    EI("output_padding", output_padding, 0, 63, 4),
};
#define N_ENTRY_INTS (int)(sizeof entry_ints / sizeof entry_ints[0])
static const char *const entry_other[] = {"activation", "batchnorm", "dropout"};

static int entry_key_known(const char *k) {
    for (int i = 0; i < N_ENTRY_KINDS; i++)
        if (!strcmp(k, entry_kinds[i])) return 1;
    for (int i = 0; i < N_ENTRY_INTS; i++)
        if (!strcmp(k, entry_ints[i].name)) return 1;
    for (size_t i = 0; i < sizeof entry_other / sizeof entry_other[0]; i++)
        if (!strcmp(k, entry_other[i])) return 1;
    return 0;
}

static const char *entry_nearest(const char *k) {
    const char *all[N_ENTRY_KINDS + N_ENTRY_INTS + 3], *best = NULL;
    int n = 0;
    for (int i = 0; i < N_ENTRY_KINDS; i++) all[n++] = entry_kinds[i];
    for (int i = 0; i < N_ENTRY_INTS; i++) all[n++] = entry_ints[i].name;
    for (int i = 0; i < 3; i++) all[n++] = entry_other[i];
    size_t bd = (size_t)-1;
    for (int i = 0; i < n; i++) {
        size_t d = edit_distance(k, all[i]);
        if (d < bd) bd = d, best = all[i];
    }
    return bd <= 2 ? best : NULL;
}

static int entry_int(const cJSON *v, int lo, int hi, int *out) {
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return 1;
    *out = (int)v->valuedouble;
    return 0;
}

static int parse_entry(const cJSON *o, const char *path, const char *src, LayerEntry *le, Err *e) {
    *le = (LayerEntry){.kind = -1, .stride = 1, .activation = -1, .dropout = -1};
    if (!cJSON_IsObject(o))
        return err_expected(e, src, path, o, "an object such as {\"conv\": 16, \"kernel\": 3}");
    char at[160];
    const cJSON *v;
    cJSON_ArrayForEach(v, o) {
        snprintf(at, sizeof at, "%s.%s", path, v->string);
        if (!entry_key_known(v->string)) {
            const char *near = entry_nearest(v->string);
            return err_set(e, AE_EINPUT, "%s: %s: unknown key%s%s%s", src, at,
                           near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
        }
        for (const cJSON *u = o->child; u != v; u = u->next)
            if (!strcmp(u->string, v->string))
                return err_set(e, AE_EINPUT, "%s: %s: duplicate key", src, at);
    }
    for (int k = 0; k < N_ENTRY_KINDS; k++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(o, entry_kinds[k]))) continue;
        snprintf(at, sizeof at, "%s.%s", path, entry_kinds[k]);
        if (le->kind >= 0)
            return err_set(e, AE_EINPUT, "%s: %s: give one of dense, conv, conv_transpose or "
                           "reshape, not two", src, path);
        le->kind = entry_kind_layer[k];
        if (le->kind == LAYER_RESHAPE) {
            int ok = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 3;
            for (int i = 0; ok && i < 3; i++)
                ok = !entry_int(cJSON_GetArrayItem(v, i), 1, 100000, &le->to[i]);
            if (!ok) return err_expected(e, src, at, v, "[channels, height, width], each >= 1");
        } else if (entry_int(v, 1, 1000000, &le->units)) {
            return err_expected(e, src, at, v, "an integer in [1, 1000000]");
        }
    }
    if (le->kind < 0)
        return err_set(e, AE_EINPUT, "%s: %s: expected one of dense, conv, conv_transpose or "
                       "reshape (e.g. {\"dense\": 64})", src, path);
    int bit = le->kind == LAYER_DENSE ? 1 : le->kind == LAYER_CONV ? 2 : le->kind == LAYER_CONV_T ? 4 : 8;
    for (int i = 0; i < N_ENTRY_INTS; i++) {
        const EntryInt *f = &entry_ints[i];
        v = cJSON_GetObjectItemCaseSensitive(o, f->name);
        snprintf(at, sizeof at, "%s.%s", path, f->name);
        if (!v) {
            if (!strcmp(f->name, "kernel") && (f->kinds & bit))
                return err_set(e, AE_EINPUT, "%s: %s: a convolution needs its kernel size", src, at);
            continue;
        }
        if (!(f->kinds & bit))
            return err_set(e, AE_EINPUT, "%s: %s: does not apply to a %s entry", src, at,
                           layer_kinds[le->kind]->name);
        char want[64];
        snprintf(want, sizeof want, "an integer in [%d, %d]", f->lo, f->hi);
        if (entry_int(v, f->lo, f->hi, (int *)((char *)le + f->off)))
            return err_expected(e, src, at, v, "%s", want);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "activation"))) {
        snprintf(at, sizeof at, "%s.activation", path);
        int k = -1;
        for (int i = 0; cJSON_IsString(v) && i < ACT_COUNT; i++)
            if (!strcmp(v->valuestring, act_names[i])) k = i;
        if (k < 0)
            return err_expected(e, src, at, v, "one of \"linear\", \"relu\", \"leaky_relu\", "
                                "\"sigmoid\", \"tanh\"");
        le->activation = k;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "batchnorm"))) {
        snprintf(at, sizeof at, "%s.batchnorm", path);
        if (!cJSON_IsBool(v)) return err_expected(e, src, at, v, "true or false");
        le->batchnorm = cJSON_IsTrue(v);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "dropout"))) {
        snprintf(at, sizeof at, "%s.dropout", path);
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 1))
            return err_expected(e, src, at, v, "a number in [0, 1)");
        le->dropout = v->valuedouble;
    }
    if (le->kind == LAYER_RESHAPE && (le->batchnorm || le->activation >= 0 || le->dropout >= 0))
        return err_set(e, AE_EINPUT, "%s: %s: a reshape takes no activation, batchnorm or dropout",
                       src, path);
    return AE_OK;
}

static int parse_entries(const Field *f, const cJSON *v, const char *src, EntryList *l, Err *e) {
    l->n = 0;
    int decoder = !strcmp(f->path, "model.decoder");
    if (decoder && cJSON_IsString(v) && !strcmp(v->valuestring, "mirror")) return AE_OK;
    int n = cJSON_GetArraySize(v);
    if (!cJSON_IsArray(v) || n < 1 || n > AE_MAX_ENTRIES)
        return err_expected(e, src, f->path, v, "%sa list of 1 to %d layer entries",
                            decoder ? "\"mirror\" or " : "", AE_MAX_ENTRIES);
    const cJSON *o;
    cJSON_ArrayForEach(o, v) {
        char path[96];
        snprintf(path, sizeof path, "%s[%d]", f->path, l->n);
        if (parse_entry(o, path, src, &l->e[l->n], e)) return AE_EINPUT;
        l->n++;
    }
    return AE_OK;
}

/* "model.encoder.1.conv" -> the list, the entry's index and field; 0 when path is
 * not such a key. */
static int entry_path(const char *path, int *decoder, int *index, const char **field) {
    const char *rest;
    if (!strncmp(path, "model.encoder.", 14)) *decoder = 0, rest = path + 14;
    else if (!strncmp(path, "model.decoder.", 14)) *decoder = 1, rest = path + 14;
    else return 0;
    char *end;
    long i = strtol(rest, &end, 10);
    if (end == rest || *end != '.' || i < 0 || i >= AE_MAX_ENTRIES || !isdigit((unsigned char)*rest))
        return 0;
    *index = (int)i;
    *field = end + 1;
    return entry_key_known(*field) && strcmp(*field, "reshape") != 0;
}

/* The value of an entry's field in the parsed job; 0 when it has none. */
static int entry_value(const Job *job, const char *path, double *v, int *is_act) {
    int dec, i;
    const char *k;
    if (!entry_path(path, &dec, &i, &k)) return 0;
    const EntryList *l = dec ? &job->model.decoder : &job->model.encoder;
    if (i >= l->n) return 0;
    const LayerEntry *le = &l->e[i];
    *is_act = 0;
    for (int j = 0; j < N_ENTRY_KINDS; j++)
        if (!strcmp(k, entry_kinds[j])) {
            if (le->kind != entry_kind_layer[j]) return 0;
            *v = le->units;
            return 1;
        }
    for (int j = 0; j < N_ENTRY_INTS; j++)
        if (!strcmp(k, entry_ints[j].name)) {
            *v = *(const int *)((const char *)le + entry_ints[j].off);
            return 1;
        }
    if (!strcmp(k, "dropout")) *v = le->dropout >= 0 ? le->dropout : job->train.dropout;
    else if (!strcmp(k, "batchnorm")) *v = le->batchnorm;
    else *v = le->activation >= 0 ? le->activation : job->model.activation, *is_act = 1;
    return 1;
}

static int parse_field(const Field *f, const cJSON *v, const char *src, Job *job, Err *e) {
    char *at = (char *)job + f->off;
    double x;
    switch (f->type) {
    case F_NUM:
        if (parse_number(f, v, src, &x, e)) return AE_EINPUT;
        *(double *)at = x;
        return AE_OK;
    case F_INT:
        if (parse_number(f, v, src, &x, e)) return AE_EINPUT;
        *(int *)at = (int)x;
        return AE_OK;
    case F_STR:
        if (!cJSON_IsString(v) || !v->valuestring[0])
            return err_expected(e, src, f->path, v, "a non-empty string");
        if (strlen(v->valuestring) >= f->size)
            return err_expected(e, src, f->path, v, "a string of at most %zu bytes", f->size - 1);
        memcpy(at, v->valuestring, strlen(v->valuestring) + 1);
        return AE_OK;
    case F_ENUM: {
        char names[256];
        names_text(f, names, sizeof names);
        if (cJSON_IsString(v))
            for (int i = 0; i < f->n_names; i++)
                if (strcmp(v->valuestring, f->names[i]) == 0) {
                    *(int *)at = i;
                    return AE_OK;
                }
        return err_expected(e, src, f->path, v, "one of %s", names);
    }
    case F_INTS: {
        IntList *l = (IntList *)at;
        char want[160];
        range_text(f, "integers", want, sizeof want);
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > AE_MAX_HIDDEN)
            return err_expected(e, src, f->path, v, "a list of at most %d %s", AE_MAX_HIDDEN, want);
        l->n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (!cJSON_IsNumber(it) || !in_range(f, it->valuedouble) ||
                it->valuedouble != floor(it->valuedouble))
                return err_expected(e, src, f->path, v, "a list of %s", want);
            l->v[l->n++] = (int)it->valuedouble;
        }
        return AE_OK;
    }
    case F_BOOL:
        if (!cJSON_IsBool(v)) return err_expected(e, src, f->path, v, "true or false");
        *(int *)at = cJSON_IsTrue(v);
        return AE_OK;
    case F_LAYERS: return parse_entries(f, v, src, (EntryList *)at, e);
    case F_RANGE: {
        int n = cJSON_GetArraySize(v);
        const cJSON *lo = cJSON_GetArrayItem(v, 0), *hi = cJSON_GetArrayItem(v, 1);
        if (cJSON_IsArray(v) && n == 2 && cJSON_IsNumber(lo) && cJSON_IsNumber(hi) &&
            hi->valuedouble == 1 && (lo->valuedouble == 0 || lo->valuedouble == -1)) {
            *(int *)at = lo->valuedouble == -1;
            return AE_OK;
        }
        return err_expected(e, src, f->path, v, "[0, 1] or [-1, 1]");
    }
    case F_RAW:
        if (strcmp(f->path, "search.stages") == 0 ? !cJSON_IsArray(v) : !cJSON_IsObject(v))
            return err_expected(e, src, f->path, v, "%s",
                                cJSON_IsArray(v) ? "an object" : "a JSON list or object");
        return AE_OK; /* checked in full by the search */
    case F_OBJ:
        if (!cJSON_IsObject(v)) return err_expected(e, src, f->path, v, "an object");
        return AE_OK;
    }
    return AE_OK;
}

/* Checks every key of obj (whose path is prefix) against the table. */
static int walk(const cJSON *obj, const char *prefix, const char *src, Job *job, Err *e) {
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        char path[256];
        if (!v->string) return err_set(e, AE_EINPUT, "%s: %s: a key is missing", src, prefix);
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", v->string);
        for (const cJSON *u = obj->child; u != v; u = u->next)
            if (strcmp(u->string, v->string) == 0)
                return err_set(e, AE_EINPUT, "%s: %s: duplicate key", src, path);
        const Field *f = field_find(path);
        if (!f) return err_unknown(e, src, path);
        if (parse_field(f, v, src, job, e)) return AE_EINPUT;
        if (f->type == F_OBJ && walk(v, path, src, job, e)) return AE_EINPUT;
    }
    return AE_OK;
}

const char *job_nearest_key(const char *path) { return nearest_key(path); }

double job_number(const Job *job, const char *path) {
    double ev;
    int is_act;
    if (entry_value(job, path, &ev, &is_act)) return is_act ? NAN : ev;
    const Field *f = field_find(path);
    const char *at = f ? (const char *)job + f->off : NULL;
    if (f && f->type == F_NUM) return *(const double *)at;
    if (f && f->type == F_INT) return *(const int *)at;
    return NAN;
}

int job_value_json(const Job *job, const char *path, char *buf, size_t n) {
    double ev;
    int is_act;
    if (entry_value(job, path, &ev, &is_act)) {
        if (is_act) snprintf(buf, n, "\"%s\"", act_names[(int)ev]);
        else if (strstr(path, ".batchnorm")) snprintf(buf, n, "%s", ev ? "true" : "false");
        else snprintf(buf, n, "%.17g", ev);
        return 1;
    }
    const Field *f = field_find(path);
    if (!f || f->type == F_OBJ || f->type == F_RAW) return 0;
    const char *at = (const char *)job + f->off;
    switch (f->type) {
    case F_NUM: snprintf(buf, n, "%.17g", *(const double *)at); break;
    case F_INT: snprintf(buf, n, "%d", *(const int *)at); break;
    case F_BOOL: snprintf(buf, n, "%s", *(const int *)at ? "true" : "false"); break;
    case F_RANGE: snprintf(buf, n, "%s", *(const int *)at ? "[-1,1]" : "[0,1]"); break;
    case F_ENUM: snprintf(buf, n, "\"%s\"", f->names[*(const int *)at]); break;
    case F_STR: { /* JSON-escaped through cJSON */
        cJSON *s = cJSON_CreateString(at);
        char *t = s ? cJSON_PrintUnformatted(s) : NULL;
        snprintf(buf, n, "%s", t ? t : "\"\"");
        free(t);
        cJSON_Delete(s);
        break;
    }
    case F_INTS: {
        const IntList *l = (const IntList *)at;
        size_t used = (size_t)snprintf(buf, n, "[");
        for (int i = 0; i < l->n && used < n; i++)
            used += (size_t)snprintf(buf + used, n - used, "%s%d", i ? "," : "", l->v[i]);
        if (used < n) snprintf(buf + used, n - used, "]");
        break;
    }
    default: return 0;
    }
    return 1;
}

void job_print_settings(const Job *job, FILE *f, const char *prefix) {
    for (int i = 0; i < N_FIELDS; i++) {
        const Field *d = &fields[i];
        char value[512];
        if (!job_key_searchable(d->path, NULL, NULL) || !job_value_json(job, d->path, value,
                                                                        sizeof value))
            continue;
        /* model.encoder replaces the model.hidden shorthand (the layer table shows it) */
        if (!strcmp(d->path, "model.hidden") && job->model.encoder.n > 0) continue;
        if (d->type == F_NUM) { /* the shortest text that reads back as the same double */
            double v = *(const double *)((const char *)job + d->off);
            for (int digits = 1; digits <= 17; digits++) {
                snprintf(value, sizeof value, "%.*g", digits, v);
                if (strtod(value, NULL) == v) break;
            }
        }
        fprintf(f, "%s%-32s %s\n", prefix, d->path, value);
    }
}

int job_key_searchable(const char *path, int *is_int, int *is_list) {
    int dec, idx;
    const char *k;
    if (entry_path(path, &dec, &idx, &k)) {
        if (is_int) *is_int = strcmp(k, "dropout") && strcmp(k, "activation") && strcmp(k, "batchnorm");
        if (is_list) *is_list = 0;
        return 1;
    }
    const Field *f = field_find(path);
    if (!f || f->type == F_OBJ || f->type == F_RAW || f->type == F_LAYERS || f->type == F_RANGE)
        return 0;
    if (!strcmp(path, "name") || !strcmp(path, "description") || !strncmp(path, "data.dataset", 12) || !strcmp(path, "data.path") ||
        !strncmp(path, "search.", 7) || !strncmp(path, "output.", 7))
        return 0;
    if (is_int) *is_int = f->type == F_INT || f->type == F_INTS;
    if (is_list) *is_list = f->type == F_INTS;
    return 1;
}

/* ---- --set --------------------------------------------------------------------- */

/* Is path a key of the table, or inside a free-form (RAW) one? */
static int settable(const char *path) {
    int dec, idx;
    const char *k;
    if (entry_path(path, &dec, &idx, &k)) return 1;
    const Field *f = field_find(path);
    if (f) return f->type != F_OBJ;
    for (int i = 0; i < N_FIELDS; i++) {
        size_t n = strlen(fields[i].path);
        if (fields[i].type == F_RAW && strncmp(path, fields[i].path, n) == 0 && path[n] == '.')
            return 1;
    }
    return 0;
}

/* Where the member of obj that path starts with ends: the dot after the longest
 * existing member name that is a dotted prefix of path (search.space names such
 * as "train.epochs" hold dots), else the first dot; NULL when path is the leaf. */
static char *member_end(const cJSON *obj, char *path) {
    if (cJSON_GetObjectItemCaseSensitive(obj, path)) return NULL;
    char *first = strchr(path, '.');
    for (char *dot = strrchr(path, '.'); dot && dot != first; ) {
        *dot = 0;
        int there = cJSON_GetObjectItemCaseSensitive(obj, path) != NULL;
        *dot = '.';
        if (there) return dot;
        char *prev = dot - 1;
        while (prev > path && *prev != '.') prev--;
        dot = *prev == '.' ? prev : NULL;
    }
    return first;
}

/* Applies "a.b.c=value": value is JSON when it parses as JSON, else a string. */
static int apply_set(cJSON *root, const char *set, Err *e) {
    const char *eq = strchr(set, '=');
    char path[256];
    if (!eq || eq == set || (size_t)(eq - set) >= sizeof path)
        return err_set(e, AE_EINPUT, "--set %s: expected KEY=VALUE, e.g. train.lr=0.01", set);
    memcpy(path, set, (size_t)(eq - set));
    path[eq - set] = 0;
    if (!settable(path)) {
        const char *near = nearest_key(path);
        return err_set(e, AE_EINPUT, "--set %s: unknown key%s%s%s", path,
                       near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
    }
    cJSON *value = cJSON_Parse(eq + 1);
    if (!value) value = cJSON_CreateString(eq + 1);
    if (!value) return err_set(e, AE_ERUN, "out of memory");
    cJSON *obj = root;
    char *key = path;
    for (char *dot; (dot = cJSON_IsArray(obj) ? strchr(key, '.') : member_end(obj, key));
         key = dot + 1) {
        *dot = 0;
        /* A layer entry: model.encoder.1.conv is entry 1 of model.encoder. */
        cJSON *next = cJSON_IsArray(obj) ? cJSON_GetArrayItem(obj, atoi(key))
                                         : cJSON_GetObjectItemCaseSensitive(obj, key);
        if (!next && cJSON_IsArray(obj)) {
            cJSON_Delete(value);
            return err_set(e, AE_EINPUT, "--set %s: the list has no entry %s (it has %d)", set,
                           key, cJSON_GetArraySize(obj));
        }
        if (!next) next = cJSON_AddObjectToObject(obj, key);
        if (!cJSON_IsObject(next) && !cJSON_IsArray(next)) {
            cJSON_Delete(value);
            return err_set(e, AE_EINPUT, "--set %s: %s is not an object in the job", set, key);
        }
        obj = next;
    }
    if (cJSON_IsArray(obj)) {
        cJSON_Delete(value);
        return err_set(e, AE_EINPUT, "--set %s: set one field of an entry, e.g. model.encoder.0.conv",
                       set);
    }
    /* A dataset with a folder of its own (fashion-mnist) and data.path are
     * alternatives: setting one drops the other. A format that reads data.path
     * (cifar10) goes with it. */
    if (obj != root && obj->string && !strcmp(obj->string, "data")) {
        const cJSON *ds = cJSON_GetObjectItemCaseSensitive(obj, "dataset");
        if (!strcmp(key, "path") && cJSON_IsString(ds) && dataset_dir(ds->valuestring))
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "dataset");
        if (!strcmp(key, "dataset") && cJSON_IsString(value) && dataset_dir(value->valuestring))
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "path");
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value);
    else
        cJSON_AddItemToObject(obj, key, value);
    return AE_OK;
}

/* ---- loading ---------------------------------------------------------------------- */

static void where(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') (*line)++, *col = 1;
        else (*col)++;
    }
}

/* What the parser tripped on, for the message: the text there, and a hint for the
 * usual suspects. */
static void near_text(const char *at, char *buf, size_t n) {
    if (!at || !*at) {
        snprintf(buf, n, " (the text ends early: a missing } or ]?)");
        return;
    }
    static const char *const nonjson[] = {"NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"};
    for (size_t i = 0; i < sizeof nonjson / sizeof nonjson[0]; i++)
        if (!strncmp(at, nonjson[i], strlen(nonjson[i]))) {
            snprintf(buf, n, " at '%s' (JSON has no NaN or Infinity; write a number)", nonjson[i]);
            return;
        }
    char word[24];
    size_t k = 0;
    while (k < sizeof word - 1 && at[k] && at[k] != '\n') {
        word[k] = (unsigned char)at[k] < 0x20 ? ' ' : at[k];
        k++;
    }
    word[k] = 0;
    snprintf(buf, n, " at '%s%s'%s", word, at[k] && at[k] != '\n' ? "..." : "",
             at[k] ? "" : " (the text ends there: cut short?)");
}

/* What the penalty needs of the rest of the job. */
static int check_penalty(const cJSON *root, const char *src, const Job *job, Err *e) {
    const cJSON *pen = cJSON_GetObjectItemCaseSensitive(root, "penalty");
    int kind = job->penalty.type;
    const char *name = penalty_names[kind];
    if ((kind == PENALTY_ADVERSARIAL || kind == PENALTY_ADVERSARIAL_CSD) &&
        !cJSON_GetObjectItemCaseSensitive(pen, "prior"))
        return err_set(e, AE_EINPUT, "%s: penalty.prior: the %s penalty's discriminator tells the "
                       "codes from samples of a prior; give one (swiss_roll, gaussian or onehot)",
                       src, name);
    if (penalty_kinds[kind].own_step && job->model.variational)
        return err_set(e, AE_EINPUT, "%s: penalty.type: the %s penalty's own encoder step would "
                       "count the variational head's KL term a second time; use csd with a "
                       "variational model", src, name);
    if (kind == PENALTY_SUPCON && job->train.batch_size < 2)
        return err_set(e, AE_EINPUT, "%s: train.batch_size: supcon contrasts the images of a "
                       "batch with each other, so it needs at least 2, got %d", src,
                       job->train.batch_size);
    int head = penalty_kinds[kind].follows_lr; /* guided, supcon: the encoder can train alone */
    if (job->train.recon_weight == 0 && !head)
        return err_set(e, AE_EINPUT, "%s: train.recon_weight: 0 leaves nothing to train the "
                       "autoencoder with the %s penalty; only guided and supcon train an "
                       "encoder alone", src, name);
    /* A search ranks by its objective; a job for `aesweep train` has none to rank. */
    const cJSON *space =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "search"), "space");
    if (job->train.recon_weight == 0 && space && job->search.objective == OBJ_VAL_MSE)
        return err_set(e, AE_EINPUT, "%s: search.objective: val_mse measures the decoder, which "
                       "train.recon_weight 0 does not build; rank by val_accuracy, "
                       "val_knn_accuracy or val_linear_accuracy", src);
    return AE_OK;
}

static int check_job(const cJSON *root, const char *src, Job *job, Err *e) {
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const DataFormat *fmt = dataset_format(job->data.dataset);
    if (fmt && fmt->dir && cJSON_GetObjectItemCaseSensitive(data, "dataset") &&
        cJSON_GetObjectItemCaseSensitive(data, "path"))
        return err_set(e, AE_EINPUT, "%s: data: give data.dataset or data.path, not both (\"%s\" "
                       "is the folder %s)", src, fmt->name, fmt->dir);
    if (fmt && !fmt->dir && !job->data.path[0])
        return err_set(e, AE_EINPUT, "%s: data.dataset: \"%s\" is read from data.path, a folder "
                       "of %s; give it", src, fmt->name, fmt->files);
    if (!fmt)
        return err_set(e, AE_EINPUT, "%s: data.dataset: expected one of %s, got \"%s\"", src,
                       dataset_format_names(), job->data.dataset);
    if (!job->data.path[0] && !dataset_dir(job->data.dataset))
        return err_set(e, AE_EINPUT,
                       "%s: data.dataset: expected \"fashion-mnist\" (or give data.path, a "
                       "folder of MNIST-format IDX files), got \"%s\"",
                       src, job->data.dataset);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (cJSON_GetObjectItemCaseSensitive(model, "hidden") &&
        cJSON_GetObjectItemCaseSensitive(model, "encoder"))
        return err_set(e, AE_EINPUT, "%s: model: give model.hidden (a dense encoder) or "
                       "model.encoder, not both", src);
    if (job->model.encoder.n == 0 && job->model.decoder.n > 0)
        return err_set(e, AE_EINPUT, "%s: model.decoder: a list of entries goes with "
                       "model.encoder; model.hidden is mirrored", src);
    int rc = check_penalty(root, src, job, e);
    if (rc) return rc;
    if (penalty_kinds[job->penalty.type].uses_prior && job->penalty.prior == PRIOR_SWISS_ROLL &&
        job->model.bottleneck < 2)
        return err_set(e, AE_EINPUT, "%s: penalty.prior: swiss_roll is 2-D; model.bottleneck is %d",
                       src, job->model.bottleneck);
    if (job->train.warmup_epochs >= job->train.epochs)
        return err_set(e, AE_EINPUT, "%s: train.warmup_epochs: %d leaves no epoch after the "
                       "warm-up (train.epochs is %d)", src, job->train.warmup_epochs,
                       job->train.epochs);
    if (job->classifier.epochs > 0 && job->classifier.warmup_epochs >= job->classifier.epochs)
        return err_set(e, AE_EINPUT, "%s: classifier.warmup_epochs: %d leaves no epoch after the "
                       "warm-up (classifier.epochs is %d)", src, job->classifier.warmup_epochs,
                       job->classifier.epochs);
    return AE_OK;
}

int job_parse(const char *text, const char *source, const char *const *sets, int n_sets, Job *job,
              Err *e) {
    job_defaults(job);
    snprintf(job->source, sizeof job->source, "%s", source);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int line, col;
        const char *at = end ? end : cJSON_GetErrorPtr();
        where(text, at, &line, &col);
        char near[96];
        near_text(at, near, sizeof near);
        return err_set(e, AE_EINPUT, "%s:%d:%d: malformed JSON%s", source, line, col, near);
    }
    int rc = AE_OK;
    if (!cJSON_IsObject(root))
        rc = err_set(e, AE_EINPUT, "%s: expected a JSON object at the top", source);
    for (int i = 0; rc == AE_OK && i < n_sets; i++) rc = apply_set(root, sets[i], e);
    if (rc == AE_OK) rc = walk(root, "", source, job, e);
    if (rc == AE_OK) rc = check_job(root, source, job, e);
    if (rc == AE_OK) {
        job->json = cJSON_PrintUnformatted(root);
        cJSON *search = cJSON_GetObjectItemCaseSensitive(root, "search");
        job->space = cJSON_DetachItemFromObjectCaseSensitive(search, "space");
        job->stages = cJSON_DetachItemFromObjectCaseSensitive(search, "stages");
        if (!job->json) rc = err_set(e, AE_ERUN, "out of memory");
    }
    cJSON_Delete(root);
    if (rc) job_free(job);
    return rc;
}

/* The first byte of text that is not UTF-8 (overlong forms and surrogates included),
 * or NULL. Names and paths go into HDF5 strings that Python decodes as UTF-8. */
static const char *bad_utf8(const char *text) {
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int len = *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3
                : *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
        if (!len) return (const char *)p;
        unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
        if (*p == 0xe0) lo = 0xa0;
        if (*p == 0xed) hi = 0x9f;
        if (*p == 0xf0) lo = 0x90;
        if (*p == 0xf4) hi = 0x8f;
        if (p[1] < lo || p[1] > hi) return (const char *)p;
        for (int k = 2; k < len; k++)
            if ((p[k] & 0xc0) != 0x80) return (const char *)p;
        p += len;
    }
    return NULL;
}

/* A job file is a few kilobytes; this bound stops a wrong path (a data file, a log)
 * from being read whole into memory. */
#define JOB_MAX_BYTES ((size_t)1 << 20)

int job_load(const char *path, const char *const *sets, int n_sets, Job *job, Err *e) {
    memset(job, 0, sizeof *job);
    int rc = check_input_file(path, e);
    if (rc) return rc;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, AE_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    char *text = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return err_set(e, AE_ERUN, "%s: out of memory", path);
            }
            text = t;
        }
        size_t got = fread(text + n, 1, 4096, f);
        n += got;
        if (got < 4096) break;
        if (n > JOB_MAX_BYTES) {
            free(text);
            fclose(f);
            return err_set(e, AE_EINPUT, "%s: more than %zu KiB: not a job file", path,
                           JOB_MAX_BYTES >> 10);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        return err_set(e, AE_EINPUT, "%s: read error", path);
    }
    text[n] = 0;
    if (strlen(text) != n) {
        free(text);
        return err_set(e, AE_EINPUT, "%s: not a text file (NUL byte)", path);
    }
    const char *wrong = bad_utf8(text);
    if (wrong) {
        int line, col;
        where(text, wrong, &line, &col);
        rc = err_set(e, AE_EINPUT, "%s:%d:%d: not UTF-8 text (byte 0x%02x)", path, line, col,
                     (unsigned char)*wrong);
        free(text);
        return rc;
    }
    rc = job_parse(text, path, sets, n_sets, job, e);
    free(text);
    return rc;
}

void job_free(Job *job) {
    free(job->json);
    cJSON_Delete(job->space);
    cJSON_Delete(job->stages);
    job->json = NULL;
    job->space = job->stages = NULL;
}

int job_key_given(const Job *job, const char *path) {
    cJSON *root = job->json ? cJSON_Parse(job->json) : NULL;
    const cJSON *node = root;
    char key[128];
    snprintf(key, sizeof key, "%s", path);
    for (char *part = strtok(key, "."); part && node; part = strtok(NULL, "."))
        node = cJSON_GetObjectItemCaseSensitive(node, part);
    int given = node != NULL;
    cJSON_Delete(root);
    return given;
}

const char *job_data_dir(const Job *job) {
    return job->data.path[0] ? job->data.path : dataset_dir(job->data.dataset);
}

const DataFormat *job_data_format(const Job *job) {
    const DataFormat *f = dataset_format(job->data.dataset);
    return f ? f : dataset_format("fashion-mnist");
}

static Schedule schedule_of(int kind, double lr_min, int step_epochs, double gamma, int warmup) {
    return (Schedule){(ScheduleKind)kind, lr_min, step_epochs, gamma, warmup};
}

/* The penalty head's widths after the code: the job's, or the defaults (penalty.h):
 * the discriminator has the decoder's hidden widths (model.hidden reversed, or
 * the dense entries of model.encoder reversed; 256 when there are none), the
 * projection one hidden layer as wide as the code, then 128. */
static void head_widths(const Job *job, PenaltyConfig *p) {
    const IntList *given = job->penalty.type == PENALTY_SUPCON ? &job->penalty.projection
                                                               : &job->penalty.discriminator;
    if (given->n > 0) {
        p->n_head = given->n;
        memcpy(p->head, given->v, sizeof(int) * (size_t)given->n);
    } else if (job->penalty.type == PENALTY_SUPCON) {
        p->n_head = 2;
        p->head[0] = job->model.bottleneck;
        p->head[1] = 128;
    } else if (job->model.encoder.n == 0) {
        p->n_head = job->model.hidden.n;
        for (int i = 0; i < p->n_head; i++) p->head[i] = job->model.hidden.v[p->n_head - 1 - i];
    } else {
        p->n_head = 0;
        for (int i = job->model.encoder.n - 1; i >= 0 && p->n_head < AE_MAX_HIDDEN; i--)
            if (job->model.encoder.e[i].kind == LAYER_DENSE)
                p->head[p->n_head++] = job->model.encoder.e[i].units;
        if (p->n_head == 0) p->head[p->n_head++] = 256;
    }
}

void job_train_config(const Job *job, TrainConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    ModelShape *s = &cfg->shape;
    s->n_hidden = job->model.hidden.n;
    memcpy(s->hidden, job->model.hidden.v, sizeof s->hidden);
    s->bottleneck = job->model.bottleneck;
    s->activation = (Act)job->model.activation;
    s->latent_activation = (Act)job->model.latent_activation;
    s->output_activation = (Act)job->model.output_activation;
    s->leaky_slope = (float)job->model.leaky_slope;
    s->variational = job->model.variational;
    s->beta = (float)job->model.beta;
    cfg->likelihood_variance = (float)job->model.likelihood_variance;
    const EntryList *lists[2] = {&job->model.encoder, &job->model.decoder};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < lists[k]->n; i++) {
            const LayerEntry *le = &lists[k]->e[i];
            LayerSpec *ls = k ? &s->decoder[i] : &s->encoder[i];
            *ls = (LayerSpec){.kind = (LayerKind)le->kind, .units = le->units,
                              .kernel = le->kernel, .stride = le->stride, .padding = le->padding,
                              .output_padding = le->output_padding,
                              .act = le->activation >= 0 ? (Act)le->activation : s->activation,
                              .slope = s->leaky_slope, .rate = (float)le->dropout,
                              .batchnorm = le->batchnorm,
                              .to = {le->to[0], le->to[1], le->to[2], 0}};
            /* The decoder's last entry makes the output: output_activation unless it says. */
            if (k && i == lists[k]->n - 1 && le->activation < 0) ls->act = s->output_activation;
            snprintf(ls->where, sizeof ls->where, "model.%s[%d]", k ? "decoder" : "encoder", i);
        }
    s->n_encoder = job->model.encoder.n;
    s->n_decoder = job->model.decoder.n;
    optim_init(&cfg->optim, (OptKind)job->train.optimizer, (float)job->train.lr);
    cfg->optim.weight_decay = (float)job->train.weight_decay;
    if (cfg->optim.kind == OPT_SGD) cfg->optim.momentum = (float)job->train.momentum;
    cfg->loss = (Loss)job->train.loss;
    cfg->batch_size = job->train.batch_size;
    cfg->epochs = job->train.epochs;
    cfg->patience = job->train.patience;
    cfg->min_delta = (float)job->train.min_delta;
    cfg->dropout = (float)job->train.dropout;
    cfg->input_noise = (float)job->train.input_noise;
    cfg->mae_weight = (float)job->train.mae_weight;
    cfg->schedule = schedule_of(job->train.schedule, job->train.lr_min, job->train.step_epochs,
                                job->train.gamma, job->train.warmup_epochs);
    cfg->seed = (uint64_t)job->seed;
    cfg->penalty = (PenaltyConfig){.kind = (PenaltyKind)job->penalty.type,
                                   .lambda = (float)job->penalty.lambda,
                                   .sigma = (float)job->penalty.sigma,
                                   .prior = (PriorKind)job->penalty.prior,
                                   .prior_noise = (float)job->penalty.prior_noise,
                                   .csd_lambda = (float)job->penalty.csd_lambda,
                                   .head_act = s->activation,
                                   .disc_lr = (float)job->penalty.disc_lr,
                                   .alpha = (float)job->penalty.alpha,
                                   .temperature = (float)job->penalty.temperature};
    cfg->recon_weight = (float)job->train.recon_weight;
    cfg->augment = (Augment){.crop = job->train.augment_crop, .flip = job->train.augment_flip,
                             .noise = (float)job->train.augment_noise};
    head_widths(job, &cfg->penalty);
}

void job_classifier_config(const Job *job, ClassifierConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->n_hidden = job->classifier.hidden.n;
    memcpy(cfg->hidden, job->classifier.hidden.v, sizeof cfg->hidden);
    cfg->lr = (float)job->classifier.lr;
    cfg->schedule = schedule_of(job->classifier.schedule, job->classifier.lr_min,
                                job->classifier.step_epochs, job->classifier.gamma,
                                job->classifier.warmup_epochs);
    cfg->batch_size = job->classifier.batch_size;
    cfg->epochs = job->classifier.epochs;
    cfg->patience = job->classifier.patience;
    cfg->dropout = (float)job->classifier.dropout;
    cfg->batchnorm = job->classifier.batchnorm;
    cfg->finetune = job->classifier.finetune;
    cfg->seed = (uint64_t)job->seed;
}
