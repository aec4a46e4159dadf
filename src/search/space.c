/* search.space and search.stages: parsing, checking, and points as job overrides. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

/* The five named parameters of SPEC §3 and the keys they set. */
static const char *const short_names[][2] = {
    {"lr", "train.lr"},
    {"batch_size", "train.batch_size"},
    {"bottleneck", "model.bottleneck"},
    {"lambda", "penalty.lambda"},
    {"sigma", "penalty.sigma"},
};

static const char *key_of(const char *name) {
    for (size_t i = 0; i < sizeof short_names / sizeof short_names[0]; i++)
        if (!strcmp(name, short_names[i][0])) return short_names[i][1];
    return name;
}

void space_free(Space *s) {
    for (int i = 0; i < s->n_params; i++)
        for (int j = 0; j < s->param[i].n_values; j++) free(s->param[i].values[j]);
    memset(s, 0, sizeof *s);
}

int space_find(const Space *s, const char *name) {
    for (int i = 0; i < s->n_params; i++)
        if (!strcmp(s->param[i].name, name)) return i;
    return -1;
}

double param_largest(const Param *p) {
    if (p->kind == PARAM_INT) return floor(p->max + 0.5);
    if (p->kind != PARAM_VALUES) return p->max;
    double most = -HUGE_VAL;
    for (int i = 0; i < p->n_values; i++) most = fmax(most, atof(p->values[i]));
    return most;
}

/* Is a values entry (its JSON text) a number? Then *v is that number. */
static int value_is_number(const char *text, double *v) {
    char *end;
    *v = strtod(text, &end);
    return end != text && !*end;
}

int param_can_take(const Param *p, double lo, double hi) {
    if (p->kind == PARAM_VALUES) {
        double v;
        for (int i = 0; i < p->n_values; i++)
            if (value_is_number(p->values[i], &v) && v >= lo && v <= hi) return 1;
        return 0;
    }
    double a = fmax(p->min, lo), b = fmin(p->max, hi);
    return p->kind == PARAM_INT ? ceil(a) <= floor(b) : a <= b;
}

int space_find_key(const Space *s, const char *key) {
    for (int i = 0; i < s->n_params; i++)
        if (!strcmp(s->param[i].key, key)) return i;
    return -1;
}

/* Checks that `key=value` is a valid setting of the job, so that a bad value is
 * reported where it is written (search.space.lr.min) and not when a trial runs. */
static int check_value(const Job *job, const char *key, const char *json, const char *where,
                       Err *e) {
    char set[1200];
    const char *sets[1] = {set};
    snprintf(set, sizeof set, "%s=%s", key, json);
    Job probe;
    Err inner = {0};
    if (job_parse(job->json, job->source, sets, 1, &probe, &inner) == AE_OK) {
        job_free(&probe);
        return AE_OK;
    }
    /* inner: "FILE: train.lr: expected ..." -> "FILE: search.space.lr.min: expected ..." */
    const char *tail = strstr(inner.msg, ": expected");
    return err_set(e, AE_EINPUT, "%s: %s%s", job->source, where, tail ? tail : inner.msg);
}

static int number_field(const cJSON *entry, const char *field, const char *src, const char *name,
                        double *out, Err *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, field);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return err_set(e, AE_EINPUT, "%s: search.space.%s.%s: expected a number%s", src, name, field,
                       cJSON_IsNumber(v) ? ", got one beyond the range of a double" : "");
    *out = v->valuedouble;
    return AE_OK;
}

static int parse_values(const Job *job, Param *p, const cJSON *values, Err *e) {
    const char *src = job->source;
    int n = cJSON_GetArraySize(values);
    if (!cJSON_IsArray(values) || n < 1 || n > SEARCH_MAX_VALUES)
        return err_set(e, AE_EINPUT, "%s: search.space.%s.values: expected a list of 1 to %d values",
                       src, p->name, SEARCH_MAX_VALUES);
    const cJSON *v;
    cJSON_ArrayForEach(v, values) {
        char *json = cJSON_PrintUnformatted(v);
        if (!json) return err_set(e, AE_ERUN, "out of memory");
        p->values[p->n_values++] = json;
        char where[160];
        snprintf(where, sizeof where, "search.space.%s.values[%d]", p->name, p->n_values - 1);
        if (check_value(job, p->key, json, where, e)) return AE_EINPUT;
    }
    p->kind = PARAM_VALUES;
    return AE_OK;
}

/* A point's value as the job's JSON: a values entry, an integer, a real, or [x]. */
static void value_text(const Param *p, double v, char *buf, size_t n) {
    if (p->kind == PARAM_VALUES) snprintf(buf, n, "%s", p->values[(int)v]);
    else if (p->kind == PARAM_INT) snprintf(buf, n, p->list ? "[%.0f]" : "%.0f", v);
    else snprintf(buf, n, "%.17g", v);
}

static int parse_range(const Job *job, Param *p, const cJSON *entry, int is_int, Err *e) {
    const char *src = job->source;
    if (number_field(entry, "min", src, p->name, &p->min, e) ||
        number_field(entry, "max", src, p->name, &p->max, e))
        return AE_EINPUT;
    if (!(p->min < p->max))
        return err_set(e, AE_EINPUT, "%s: search.space.%s: expected min < max, got min %g, max %g",
                       src, p->name, p->min, p->max);
    if (p->log && p->min <= 0)
        return err_set(e, AE_EINPUT,
                       "%s: search.space.%s.scale: \"log\" needs a positive range, got min %g", src,
                       p->name, p->min);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(entry, "type");
    if (type && !(cJSON_IsString(type) && (!strcmp(type->valuestring, "int") ||
                                           !strcmp(type->valuestring, "real"))))
        return err_set(e, AE_EINPUT, "%s: search.space.%s.type: expected \"int\" or \"real\"", src,
                       p->name);
    if (p->list && type && !strcmp(type->valuestring, "real"))
        return err_set(e, AE_EINPUT, "%s: search.space.%s.type: %s is a list of widths: a range "
                       "sets [x], an integer", src, p->name, p->key);
    p->kind = is_int || (type && !strcmp(type->valuestring, "int")) ? PARAM_INT : PARAM_REAL;
    char json[64], where[160];
    const double ends[2] = {p->min, p->max};
    for (int k = 0; k < 2; k++) {
        double x = p->kind == PARAM_INT ? floor(ends[k] + 0.5) : ends[k];
        value_text(p, x, json, sizeof json);
        snprintf(where, sizeof where, "search.space.%s.%s", p->name, k ? "max" : "min");
        if (check_value(job, p->key, json, where, e)) return AE_EINPUT;
    }
    return AE_OK;
}

static const char *const entry_keys[] = {"min", "max", "type", "scale", "values", "points",
                                         "prefer"};

/* "prefer": which end of the parameter is the simpler model (search.select one_se).
 * A values list has an order only when its values are numbers. */
static int parse_prefer(const Job *job, const cJSON *entry, Param *p, Err *e) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(entry, "prefer");
    if (!f) return AE_OK;
    if (!cJSON_IsString(f) || (strcmp(f->valuestring, "low") && strcmp(f->valuestring, "high")))
        return err_set(e, AE_EINPUT, "%s: search.space.%s.prefer: expected \"low\" or \"high\" "
                       "(the end that makes the simpler model)", job->source, p->name);
    p->prefer = strcmp(f->valuestring, "low") ? 1 : -1;
    double v;
    for (int i = 0; p->kind == PARAM_VALUES && i < p->n_values; i++) {
        if (!value_is_number(p->values[i], &v))
            return err_set(e, AE_EINPUT, "%s: search.space.%s.prefer: values[%d] is %s, not a "
                           "number: a values list without an order has no low or high end",
                           job->source, p->name, i, p->values[i]);
    }
    return AE_OK;
}

static int parse_param(const Job *job, const cJSON *entry, Param *p, Err *e) {
    const char *src = job->source;
    int is_int = 0;
    snprintf(p->name, sizeof p->name, "%s", entry->string);
    snprintf(p->key, sizeof p->key, "%s", key_of(entry->string));
    if (!job_key_searchable(p->key, &is_int, &p->list)) {
        const char *near = job_nearest_key(p->key);
        return err_set(e, AE_EINPUT,
                       "%s: search.space.%s: not a searchable key (lr, batch_size, bottleneck, "
                       "lambda, sigma, or a dotted job key such as train.optimizer)%s%s%s",
                       src, p->name, near ? "; did you mean " : "", near ? near : "",
                       near ? "?" : "");
    }
    if (!cJSON_IsObject(entry))
        return err_set(e, AE_EINPUT, "%s: search.space.%s: expected an object such as "
                       "{\"min\": 1, \"max\": 10} or {\"values\": [...]}", src, p->name);
    const cJSON *f;
    cJSON_ArrayForEach(f, entry) {
        int known = 0;
        for (size_t i = 0; i < sizeof entry_keys / sizeof entry_keys[0]; i++)
            known |= !strcmp(f->string, entry_keys[i]);
        if (!known)
            return err_set(e, AE_EINPUT, "%s: search.space.%s.%s: unknown key (expected min, max, "
                           "type, scale, values or points)", src, p->name, f->string);
    }
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(entry, "scale");
    if (scale && !(cJSON_IsString(scale) && (!strcmp(scale->valuestring, "log") ||
                                             !strcmp(scale->valuestring, "linear"))))
        return err_set(e, AE_EINPUT, "%s: search.space.%s.scale: expected \"log\" or \"linear\"",
                       src, p->name);
    p->log = scale && !strcmp(scale->valuestring, "log");
    const cJSON *points = cJSON_GetObjectItemCaseSensitive(entry, "points");
    if (points) {
        if (!cJSON_IsNumber(points) || points->valuedouble < 1 || points->valuedouble > 1000 ||
            points->valuedouble != floor(points->valuedouble))
            return err_set(e, AE_EINPUT, "%s: search.space.%s.points: expected an integer in "
                           "[1, 1000]", src, p->name);
        p->points = (int)points->valuedouble;
    }
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(entry, "values");
    int has_range = cJSON_GetObjectItemCaseSensitive(entry, "min") ||
                    cJSON_GetObjectItemCaseSensitive(entry, "max");
    if (values && has_range)
        return err_set(e, AE_EINPUT, "%s: search.space.%s: give values or min/max, not both", src,
                       p->name);
    if (values) {
        if (p->log || points)
            return err_set(e, AE_EINPUT, "%s: search.space.%s: scale and points apply to "
                           "min/max ranges, not to values", src, p->name);
        if (parse_values(job, p, values, e)) return e->code;
    } else if (parse_range(job, p, entry, is_int, e)) {
        return e->code;
    }
    return parse_prefer(job, entry, p, e);
}

int space_parse_stages(const Job *job, Space *s, Err *e) {
    const char *src = job->source;
    const cJSON *stages = job->stages;
    if (!stages) { /* one stage per parameter, in the order of search.space */
        s->n_stages = s->n_params < SEARCH_MAX_STAGES ? s->n_params : SEARCH_MAX_STAGES;
        for (int i = 0; i < s->n_stages; i++) s->stage_size[i] = 1, s->stage[i][0] = i;
        return AE_OK;
    }
    int n = cJSON_GetArraySize(stages);
    if (n < 1 || n > SEARCH_MAX_STAGES)
        return err_set(e, AE_EINPUT, "%s: search.stages: expected 1 to %d stages", src,
                       SEARCH_MAX_STAGES);
    const cJSON *st;
    cJSON_ArrayForEach(st, stages) {
        int k = s->n_stages, m = cJSON_GetArraySize(st);
        if (!cJSON_IsArray(st) || m < 1 || m > 2)
            return err_set(e, AE_EINPUT, "%s: search.stages[%d]: expected a list of 1 or 2 "
                           "parameter names", src, k);
        const cJSON *name;
        cJSON_ArrayForEach(name, st) {
            int idx = cJSON_IsString(name) ? space_find(s, name->valuestring) : -1;
            if (idx < 0)
                return err_set(e, AE_EINPUT, "%s: search.stages[%d]: expected names of "
                               "search.space entries, got %s", src, k,
                               cJSON_IsString(name) ? name->valuestring : "a non-string");
            if (s->stage_size[k] == 1 && s->stage[k][0] == idx)
                return err_set(e, AE_EINPUT, "%s: search.stages[%d]: %s twice", src, k,
                               name->valuestring);
            s->stage[k][s->stage_size[k]++] = idx;
        }
        s->n_stages++;
    }
    return AE_OK;
}

int space_parse(const Job *job, Space *s, Err *e) {
    memset(s, 0, sizeof *s);
    const char *src = job->source;
    const cJSON *space = job->space;
    if (!space)
        return err_set(e, AE_EINPUT, "%s: search.space: missing; a search needs the parameters "
                       "it tunes (a job without one is for `aesweep train`)", src);
    if (!space->child)
        return err_set(e, AE_EINPUT, "%s: search.space: expected at least one parameter", src);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, space) {
        if (s->n_params == SEARCH_MAX_PARAMS) {
            space_free(s);
            return err_set(e, AE_EINPUT, "%s: search.space: at most %d parameters", src,
                           SEARCH_MAX_PARAMS);
        }
        Param *p = &s->param[s->n_params++];
        int rc = parse_param(job, entry, p, e);
        for (int i = 0; rc == AE_OK && i < s->n_params - 1; i++)
            if (!strcmp(s->param[i].key, p->key))
                rc = err_set(e, AE_EINPUT, "%s: search.space.%s: sets %s, as %s does", src, p->name,
                             p->key, s->param[i].name);
        if (rc) {
            space_free(s);
            return rc;
        }
    }
    int rc = strategy_ops[job->search.strategy]->parse_space(job, s, e);
    if (!rc && job->search.sampler != SAMPLER_RANDOM &&
        !strategy_ops[job->search.strategy]->continues)
        rc = err_set(e, AE_EINPUT, "%s: search.sampler: only hyperband and asha draw their new "
                     "configurations from a sampler (strategy tpe is TPE itself)", src);
    if (!rc && job->search.select == SELECT_ONE_SE && job->search.folds < 2)
        rc = err_set(e, AE_EINPUT, "%s: search.select: \"one_se\" needs search.folds >= 2 (a "
                     "trial's standard error comes from its folds; folds is %d)", src,
                     job->search.folds);
    if (rc) space_free(s);
    return rc;
}

int space_check_grid(const Job *job, Space *s, Err *e) {
    for (int i = 0; i < s->n_params; i++)
        if (s->param[i].kind != PARAM_VALUES && !s->param[i].points)
            return err_set(e, AE_EINPUT, "%s: search.space.%s: the grid needs values or points",
                           job->source, s->param[i].name);
    if (grid_size(s) > SEARCH_MAX_TRIALS)
        return err_set(e, AE_EINPUT, "%s: search.space: the grid has more than %d points (the "
                       "product of every entry's values or points); fewer values, or "
                       "strategy random", job->source, SEARCH_MAX_TRIALS);
    return AE_OK;
}

int space_check_none(const Job *job, Space *s, Err *e) {
    (void)job, (void)s, (void)e;
    return AE_OK;
}

/* ---- points ---- */

double param_number(const Param *p, double v) {
    return p->kind == PARAM_VALUES && !isnan(v) ? strtod(p->values[(int)v], NULL) : v;
}

int point_prefer(const Space *s, const int *params, int n, const Point *a, const Point *b) {
    for (int k = 0; k < n; k++) {
        const Param *p = &s->param[params[k]];
        double x = param_number(p, a->v[params[k]]), y = param_number(p, b->v[params[k]]);
        if (!p->prefer || isnan(x) || isnan(y) || x == y) continue;
        return (x < y) == (p->prefer < 0) ? -1 : 1;
    }
    return 0;
}

int point_equal(const Space *s, const Point *a, const Point *b) {
    for (int i = 0; i < s->n_params; i++) {
        int na = isnan(a->v[i]), nb = isnan(b->v[i]);
        if (na != nb || (!na && a->v[i] != b->v[i])) return 0;
    }
    return 1;
}

/* The text of parameter i's value in p, as JSON. */
int point_overrides(const Space *s, const Point *p, char *buf, size_t n, const char **sets,
                    int max) {
    int count = 0;
    size_t used = 0;
    for (int i = 0; i < s->n_params && count < max; i++) {
        if (isnan(p->v[i])) continue;
        char val[1024];
        value_text(&s->param[i], p->v[i], val, sizeof val);
        int w = snprintf(buf + used, n - used, "%s=%s", s->param[i].key, val);
        if (w < 0 || used + (size_t)w + 1 > n) return -1;
        sets[count++] = buf + used;
        used += (size_t)w + 1;
    }
    return count;
}

void point_describe(const Space *s, const Point *p, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < s->n_params && used < n; i++) {
        if (isnan(p->v[i])) continue;
        char val[1024];
        const Param *q = &s->param[i];
        if (q->kind == PARAM_REAL) snprintf(val, sizeof val, "%.4g", p->v[i]);
        else value_text(q, p->v[i], val, sizeof val);
        int w = snprintf(buf + used, n - used, "%s%s=%s", used ? " " : "", q->name, val);
        if (w < 0) break;
        used += (size_t)w;
    }
}

void space_defaults(const Job *job, const Space *s, Point *out) {
    for (int k = 0; k < SEARCH_MAX_PARAMS; k++) out->v[k] = NAN;
    for (int i = 0; i < s->n_params; i++) {
        const Param *p = &s->param[i];
        if (p->kind != PARAM_VALUES) {
            out->v[i] = job_number(job, p->key);
            continue;
        }
        /* The value of the parsed job (written in the file or by default),
         * compared as JSON with each of the list's. */
        char text[1024];
        cJSON *mine = job_value_json(job, p->key, text, sizeof text) ? cJSON_Parse(text) : NULL;
        for (int j = 0; mine && j < p->n_values && isnan(out->v[i]); j++) {
            cJSON *v = cJSON_Parse(p->values[j]);
            if (v && cJSON_Compare(mine, v, 1)) out->v[i] = j;
            cJSON_Delete(v);
        }
        cJSON_Delete(mine);
    }
}

int point_job(const Job *base, const Space *s, const Point *p, Job *out, Err *e) {
    char buf[8192];
    const char *sets[SEARCH_MAX_PARAMS];
    int n = point_overrides(s, p, buf, sizeof buf, sets, SEARCH_MAX_PARAMS);
    if (n < 0) return err_set(e, AE_EINPUT, "%s: a trial's overrides are too long", base->source);
    return job_parse(base->json, base->source, sets, n, out, e);
}
