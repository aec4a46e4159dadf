#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "spec.h"

const char *const strategy_names[STRATEGY_COUNT] = {"grid", "random", "bisection"};
const char *const objective_names[OBJ_COUNT] = {"val_mse", "val_accuracy", "latent_accuracy"};
const char *const weights_names[WEIGHTS_COUNT] = {"best", "all", "none"};

/* ---- the table of keys ---------------------------------------------------- */

typedef enum { F_OBJ, F_NUM, F_INT, F_STR, F_ENUM, F_INTS, F_RAW } FieldType;

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
    OBJ("model"),
    INTS("model.hidden", model.hidden, 1, 1e6),
    INT("model.bottleneck", model.bottleneck, 1, 1e6),
    ENUM("model.activation", model.activation, act_names, ACT_COUNT),
    ENUM("model.latent_activation", model.latent_activation, act_names, ACT_COUNT),
    ENUM("model.output_activation", model.output_activation, act_names, ACT_COUNT),
    NUM("model.leaky_slope", model.leaky_slope, 0, 1, LO_OPEN),
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
    OBJ("train.early_stopping"),
    INT("train.early_stopping.patience", train.patience, 0, 1e6),
    NUM("train.early_stopping.min_delta", train.min_delta, 0, BIG, 0),
    OBJ("penalty"),
    ENUM("penalty.type", penalty.type, penalty_names, PENALTY_COUNT),
    NUM("penalty.lambda", penalty.lambda, 0, BIG, 0),
    /* Beyond these the kernel is a point or flat at float precision, and the gradient
     * (~1/sigma^2) leaves float range: the ends are tested finite (test_penalty). */
    NUM("penalty.sigma", penalty.sigma, 1e-6, 1e6, 0),
    ENUM("penalty.prior", penalty.prior, prior_names, PRIOR_COUNT),
    NUM("penalty.prior_noise", penalty.prior_noise, 0, BIG, 0),
    OBJ("classifier"),
    INTS("classifier.hidden", classifier.hidden, 1, 1e6),
    NUM("classifier.lr", classifier.lr, 0, BIG, LO_OPEN),
    INT("classifier.batch_size", classifier.batch_size, 1, 1e6),
    INT("classifier.epochs", classifier.epochs, 0, 1e6),
    INT("classifier.patience", classifier.patience, 0, 1e6),
    NUM("classifier.dropout", classifier.dropout, 0, 1, HI_OPEN),
    OBJ("search"),
    ENUM("search.strategy", search.strategy, strategy_names, STRATEGY_COUNT),
    INT("search.folds", search.folds, 1, 100),
    ENUM("search.objective", search.objective, objective_names, OBJ_COUNT),
    INT("search.trials", search.trials, 1, 1e6),
    INT("search.exhaustive_below", search.exhaustive_below, 1, 1e6),
    INT("search.max_rounds", search.max_rounds, 0, 1000),
    RAW("search.space"),
    RAW("search.stages"),
    OBJ("output"),
    STR("output.dir", output.dir),
    ENUM("output.weights", output.weights, weights_names, WEIGHTS_COUNT),
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
    j->train.optimizer = OPT_ADAM;
    j->train.lr = 0.001;
    j->train.batch_size = 128;
    j->train.epochs = 30;
    j->train.loss = LOSS_MSE;
    j->train.momentum = 0.9;
    j->train.patience = 5;
    j->train.min_delta = 0.001;
    j->penalty.type = PENALTY_NONE;
    j->penalty.sigma = 1;
    j->penalty.prior = PRIOR_ONEHOT;
    j->classifier.hidden = (IntList){1, {200}};
    j->classifier.lr = 0.0006;
    j->classifier.batch_size = 140;
    j->classifier.epochs = 30;
    j->classifier.patience = 5;
    j->search.strategy = STRATEGY_RANDOM;
    j->search.folds = 1;
    j->search.objective = OBJ_VAL_MSE;
    j->search.trials = 20;
    j->search.exhaustive_below = 8;
    j->search.max_rounds = 8;
    snprintf(j->output.dir, sizeof j->output.dir, "runs/job");
    j->output.weights = WEIGHTS_BEST;
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
    const Field *f = field_find(path);
    const char *at = f ? (const char *)job + f->off : NULL;
    if (f && f->type == F_NUM) return *(const double *)at;
    if (f && f->type == F_INT) return *(const int *)at;
    return NAN;
}

int job_value_json(const Job *job, const char *path, char *buf, size_t n) {
    const Field *f = field_find(path);
    if (!f || f->type == F_OBJ || f->type == F_RAW) return 0;
    const char *at = (const char *)job + f->off;
    switch (f->type) {
    case F_NUM: snprintf(buf, n, "%.17g", *(const double *)at); break;
    case F_INT: snprintf(buf, n, "%d", *(const int *)at); break;
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
    const Field *f = field_find(path);
    if (!f || f->type == F_OBJ || f->type == F_RAW) return 0;
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
    for (char *dot; (dot = member_end(obj, key)); key = dot + 1) {
        *dot = 0;
        cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (!next) next = cJSON_AddObjectToObject(obj, key);
        if (!cJSON_IsObject(next)) {
            cJSON_Delete(value);
            return err_set(e, AE_EINPUT, "--set %s: %s is not an object in the job", set, key);
        }
        obj = next;
    }
    /* data.dataset and data.path are alternatives: setting one drops the other. */
    if (obj != root && !strcmp(obj->string, "data") && (!strcmp(key, "path") || !strcmp(key, "dataset")))
        cJSON_DeleteItemFromObjectCaseSensitive(obj, !strcmp(key, "path") ? "dataset" : "path");
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

static int check_job(const cJSON *root, const char *src, Job *job, Err *e) {
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (cJSON_GetObjectItemCaseSensitive(data, "dataset") &&
        cJSON_GetObjectItemCaseSensitive(data, "path"))
        return err_set(e, AE_EINPUT, "%s: data: give data.dataset or data.path, not both", src);
    if (!job->data.path[0] && !dataset_dir(job->data.dataset))
        return err_set(e, AE_EINPUT,
                       "%s: data.dataset: expected \"fashion-mnist\" (or give data.path, a "
                       "folder of MNIST-format IDX files), got \"%s\"",
                       src, job->data.dataset);
    if (job->penalty.type == PENALTY_CSD && job->penalty.prior == PRIOR_SWISS_ROLL &&
        job->model.bottleneck < 2)
        return err_set(e, AE_EINPUT, "%s: penalty.prior: swiss_roll is 2-D; model.bottleneck is %d",
                       src, job->model.bottleneck);
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
    cfg->seed = (uint64_t)job->seed;
    cfg->penalty = (PenaltyConfig){.kind = (PenaltyKind)job->penalty.type,
                                   .lambda = (float)job->penalty.lambda,
                                   .sigma = (float)job->penalty.sigma,
                                   .prior = (PriorKind)job->penalty.prior,
                                   .prior_noise = (float)job->penalty.prior_noise};
}

void job_classifier_config(const Job *job, ClassifierConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->n_hidden = job->classifier.hidden.n;
    memcpy(cfg->hidden, job->classifier.hidden.v, sizeof cfg->hidden);
    cfg->lr = (float)job->classifier.lr;
    cfg->batch_size = job->classifier.batch_size;
    cfg->epochs = job->classifier.epochs;
    cfg->patience = job->classifier.patience;
    cfg->dropout = (float)job->classifier.dropout;
    cfg->seed = (uint64_t)job->seed;
}
