/* SHA-256 against FIPS 180-4's vectors, and results.h5 (SPEC §5) written out of
 * order, with retries, then read back with the plain HDF5 C API: every value, the
 * row order by index, the fill value of rows never written, curves, the copied
 * models, /best, and `aesweep info`'s text. */
#include <hdf5.h>
#include <string.h>
#include <sys/stat.h>

#include "results/h5util.h"
#include "model_file.h"
#include "results.h"
#include "sha256.h"
#include "test.h"
#include "version.h"

/* ---- SHA-256 ---- */

static void check_sha(const void *data, size_t n, const char *want, const char *what) {
    char hex[65];
    sha256_hex(data, n, hex);
    CHECK(strcmp(hex, want) == 0, "sha256(%s) = %s, want %s", what, hex, want);
}

static void test_sha256(void) {
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "\"\"");
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_sha(m448, strlen(m448),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "448 bits");
    size_t million = 1000000;
    char *a = malloc(million);
    memset(a, 'a', million);
    check_sha(a, million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
              "10^6 a");
    /* The padding's edge cases: the length field fits in the last block or not. */
    static const struct {
        size_t n;
        const char *hex;
    } edge[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "%zu a", edge[i].n);
        check_sha(a, edge[i].n, edge[i].hex, what);
    }
    free(a);
}

/* ---- the fixture: a task file and the rows ---- */

typedef struct {
    Model ae, clf;
    char task[512], path[512], dir[400];
} Fixture;

static int fixture_init(Fixture *fx) {
    Err e = {0};
    snprintf(fx->dir, sizeof fx->dir, "%s", test_env("TEST_TMP", "/tmp/aesweep_test"));
    mkdir(fx->dir, 0777);
    snprintf(fx->task, sizeof fx->task, "%s/results_task.h5", fx->dir);
    snprintf(fx->path, sizeof fx->path, "%s/results.h5", fx->dir);
    const int aw[5] = {6, 4, 2, 4, 6}, cw[3] = {2, 3, 3};
    const Act aa[4] = {ACT_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID}, ca[2] = {ACT_RELU, ACT_LINEAR};
    int rc = model_init_stack(&fx->ae, 4, aw, aa, 0.01f, 0.0f, &e);
    rc |= model_init_stack(&fx->clf, 2, cw, ca, 0.01f, 0.0f, &e);
    CHECK(rc == AE_OK, "model_init_stack: %s", e.msg);
    if (rc) return rc;
    fx->ae.bottleneck_layer = 1;
    model_init_weights(&fx->ae, 1);
    model_init_weights(&fx->clf, 2);
    const double curve[6] = {1, 2, 3, 4, 5, 6};
    ModelFileInfo info = {.job_json = "{}", .status = "ok", .curve = curve, .epochs = 2,
                          .model = &fx->ae, .classifier = &fx->clf};
    rc = model_file_write(fx->task, &info, &e);
    CHECK(rc == AE_OK, "model_file_write: %s", e.msg);
    return rc;
}

static TrialRow trial_row(int trial, double obj, int status, const char *config) {
    TrialRow t = {.trial = trial, .stage = trial % 2, .round = -1, .lr = 0.001 * (trial + 1),
                  .batch_size = 32 + trial, .bottleneck = 8 + trial, .lambda = 0.1 * trial,
                  .sigma = 1.5, .folds = 3, .objective_mean = obj, .objective_std = 0.01 * trial,
                  .train_mse = 0.5 + trial, .val_mse = 0.6 + trial, .val_accuracy = NAN,
                  .epochs = 10.5 + trial, .seconds = 100.25 * trial, .status = status,
                  .config = config, .val_knn_accuracy = 0.7 + 0.01 * trial,
                  .val_linear_accuracy = trial == 1 ? NAN : 0.75 + 0.01 * trial,
                  .objective_se = 0.01 * trial / sqrt(2.0)};
    return t;
}

static const int TEST_INDEX[5] = {3, 1, 4, 1, 5};
static const RoundRow ROUNDS[3] = {{0, 0, 0, "lr", 1e-4, 1e-2, NAN},
                                   {0, 1, 1, "lr", 1e-3, 1e-2, 3e-3},
                                   {1, 0, 1, "train.optimizer", 0, 3, 2}};

static FoldRow fold_row(int trial, int fold, double x) {
    FoldRow f = {.trial = trial, .fold = fold, .rank = 1 + fold, .epochs = 3 + trial,
                 .train_mse = x, .val_mse = x + 1, .val_accuracy = x + 2, .objective = x + 3,
                 .seconds = x + 4, .status = trial == 2 ? 1 : 0, .finished = x + 5,
                 .val_knn_accuracy = x + 6, .val_linear_accuracy = x + 7};
    return f;
}

static const char *config_of(int trial) {
    static const char *c[6] = {"train.lr=0.001", "train.lr=0.002 model.bottleneck=9",
                               "train.lr=0.003", "train.lr=0.004", "", "train.lr=0.006"};
    return c[trial];
}
static const double objective_of[6] = {0.5, 0.2, NAN, 0.2, NAN, 0.1};
static const int status_of[6] = {0, 0, 1, 0, -1, 0};

/* ---- writing ---- */

static int write_all(Fixture *fx) {
    Err e = {0};
    const char *job = "{\"name\": \"t\"}";
    char sha[65];
    sha256_hex(job, strlen(job), sha);
    ResultsMeta meta = {.job_json = job, .job_sha256 = sha, .strategy = "random",
                        .objective = "val_mse", .direction = "min", .folds = 3,
                        .sets = "train.epochs=3\nmodel.bottleneck=9", .input_dim = 784};
    Results *r;
    int rc = results_create(fx->path, &meta, &r, &e);
    CHECK(rc == AE_OK, "results_create: %s", e.msg);
    if (rc) return rc;
    /* Out of order, with trial 0 written twice (a retry: the second wins). */
    TrialRow stale = trial_row(0, 9.0, 2, "stale");
    rc |= results_write_trial(r, &stale, &e);
    const int order[5] = {3, 0, 2, 1, 5};
    for (int i = 0; i < 5; i++) {
        int t = order[i];
        TrialRow row = trial_row(t, objective_of[t], status_of[t], config_of(t));
        rc |= results_write_trial(r, &row, &e);
    }
    CHECK(rc == AE_OK, "write_trial: %s", e.msg);

    double c4[12], c2[6], c3[9];
    for (int i = 0; i < 12; i++) c4[i] = 100 + i;
    for (int i = 0; i < 6; i++) c2[i] = 200 + i;
    for (int i = 0; i < 9; i++) c3[i] = 300 + i;
    FoldRow f12 = fold_row(1, 2, 10), f00a = fold_row(0, 0, 20), f31 = fold_row(3, 1, 30);
    FoldRow f00b = fold_row(0, 0, 40), f10 = fold_row(1, 0, 50);
    rc |= results_write_fold(r, &f12, NULL, 0, NULL, &e);      /* a 0-epoch curve */
    rc |= results_write_fold(r, &f00a, c4, 4, fx->task, &e);   /* then retried: */
    rc |= results_write_fold(r, &f31, c3, 3, fx->task, &e);
    rc |= results_write_fold(r, &f00b, c2, 2, fx->task, &e);   /* replaces row, curve, model */
    rc |= results_write_fold(r, &f10, c3, 3, NULL, &e);
    CHECK(rc == AE_OK, "write_fold: %s", e.msg);

    BestRow first = {.trial = 3, .objective = 0.2, .config = "old", .epochs = 4};
    BestRow best = {.trial = 1, .objective = 0.2, .lr = 0.002, .batch_size = 33,
                    .bottleneck = 9, .lambda = 0.1, .sigma = 1.5,
                    .config = config_of(1), .test_mse = 0.25, .test_accuracy = 0.8125,
                    .test_latent_accuracy = 0.75, .test_nrmse = NAN, .epochs = 12,
                    .test_knn_accuracy = 0.625, .test_linear_accuracy = 0.6875,
                    .test_index = TEST_INDEX, .n_test = 5};
    rc |= results_write_best(r, &first, fx->task, &e);
    rc |= results_write_best(r, &best, fx->task, &e); /* replaces the first */
    /* /rounds is rewritten whole: the second table replaces the first. */
    RoundRow r1[1] = {{0, 0, 0, "lr", 1e-4, 1e-2, NAN}};
    rc |= results_write_rounds(r, r1, 1, &e);
    rc |= results_write_rounds(r, ROUNDS, 3, &e);
    rc |= results_set_status(r, "complete", &e);
    CHECK(rc == AE_OK, "write_best/write_rounds/set_status: %s", e.msg);

    /* Misuse is an error with the file's name, and leaves the file usable. */
    FoldRow bad = fold_row(1, 3, 0);
    CHECK(results_write_fold(r, &bad, NULL, 0, NULL, &e) == AE_ERUN &&
              strstr(e.msg, fx->path),
          "fold 3 of 3 accepted or unnamed: %s", e.msg);
    CHECK(results_write_fold(r, &f10, c3, 3, "/nonexistent/task.h5", &e) == AE_ERUN &&
              strstr(e.msg, "/nonexistent/task.h5"),
          "missing task file: %s", e.msg);
    CHECK(results_write_best(r, &first, "/nonexistent/task.h5", &e) == AE_ERUN,
          "missing refit file accepted");
    rc = results_close(r, &e);
    CHECK(rc == AE_OK, "results_close: %s", e.msg);
    return rc;
}

/* ---- reading back with the HDF5 C API ---- */

static void check_attr_str(hid_t loc, const char *name, const char *want) {
    CHECK(H5Aexists(loc, name) > 0, "attr %s missing", name);
    if (H5Aexists(loc, name) <= 0) return;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t ft = H5Aget_type(a);
    CHECK(H5Tis_variable_str(ft) > 0 && H5Tget_cset(ft) == H5T_CSET_UTF8,
          "attr %s: not a UTF-8 vlen string", name);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    char *s = NULL;
    CHECK(H5Aread(a, mt, &s) >= 0 && s && strcmp(s, want) == 0, "attr %s = '%s', want '%s'",
          name, s ? s : "(null)", want);
    H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Aclose(a);
}

static double attr_double(hid_t loc, const char *name) {
    double v = -12345;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    CHECK(a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0, "attr %s unreadable", name);
    if (a >= 0) H5Aclose(a);
    return v;
}

static void check_root(hid_t f) {
    check_attr_str(f, "format", "aesweep-results");
    check_attr_str(f, "job", "{\"name\": \"t\"}");
    char sha[65];
    sha256_hex("{\"name\": \"t\"}", 13, sha);
    check_attr_str(f, "job_sha256", sha);
    check_attr_str(f, "strategy", "random");
    check_attr_str(f, "sets", "train.epochs=3\nmodel.bottleneck=9");
    double input_dim = 0;
    CHECK(h5u_attr_read_double(f, "input_dim", &input_dim) == 0 && input_dim == 784,
          "input_dim %g", input_dim);
    check_attr_str(f, "objective", "val_mse");
    check_attr_str(f, "objective_direction", "min");
    check_attr_str(f, "status", "complete");
    check_attr_str(f, "aesweep_version", AESWEEP_VERSION);
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    int v = 0;
    CHECK(H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_INT, &v) >= 0 && v == 1,
          "format_version %d", v);
    H5Tclose(t);
    H5Aclose(a);
}

/* The file type's members, in order, with their exact little-endian types. */
static void check_members(hid_t d, const char *const *names, const char *kinds, int n) {
    hid_t t = H5Dget_type(d);
    CHECK(H5Tget_class(t) == H5T_COMPOUND && H5Tget_nmembers(t) == n, "%d members, want %d",
          H5Tget_nmembers(t), n);
    for (int i = 0; i < n && i < H5Tget_nmembers(t); i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        hid_t mt = H5Tget_member_type(t, (unsigned)i);
        CHECK(strcmp(name, names[i]) == 0, "member %d is %s, want %s", i, name, names[i]);
        int ok = kinds[i] == 'i'   ? H5Tequal(mt, H5T_STD_I32LE) > 0
                 : kinds[i] == 'd' ? H5Tequal(mt, H5T_IEEE_F64LE) > 0
                                   : H5Tis_variable_str(mt) > 0 && H5Tget_cset(mt) == H5T_CSET_UTF8;
        CHECK(ok, "member %s has the wrong type", name);
        H5free_memory(name);
        H5Tclose(mt);
    }
    H5Tclose(t);
    /* Chunked and extendible: 64 rows a chunk, no maximum. */
    hid_t dcpl = H5Dget_create_plist(d);
    hsize_t chunk[1] = {0}, dims[1], maxdims[1] = {0};
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 1, chunk) == 1 &&
              chunk[0] == 64,
          "not chunked by 64 rows");
    H5Pclose(dcpl);
    hid_t s = H5Dget_space(d);
    H5Sget_simple_extent_dims(s, dims, maxdims);
    CHECK(maxdims[0] == H5S_UNLIMITED, "not extendible");
    H5Sclose(s);
}

/* The reader's own view of a trial row, matched to the file by member name. */
static hid_t trial_mem_type(void) {
    hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, H5T_VARIABLE);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(TrialRow));
#define I(f) H5Tinsert(t, #f, HOFFSET(TrialRow, f), H5T_NATIVE_INT)
#define D(f) H5Tinsert(t, #f, HOFFSET(TrialRow, f), H5T_NATIVE_DOUBLE)
    I(trial), I(stage), I(round), D(lr), D(batch_size), D(bottleneck), D(lambda), D(sigma);
    I(folds), D(objective_mean), D(objective_std), D(train_mse), D(val_mse), D(val_accuracy);
    D(epochs), D(seconds), I(status), D(val_knn_accuracy), D(val_linear_accuracy);
    D(objective_se);
    H5Tinsert(t, "config", HOFFSET(TrialRow, config), s);
#undef I
#undef D
    H5Tclose(s);
    return t;
}

static hid_t fold_mem_type(void) {
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(FoldRow));
#define I(f) H5Tinsert(t, #f, HOFFSET(FoldRow, f), H5T_NATIVE_INT)
#define D(f) H5Tinsert(t, #f, HOFFSET(FoldRow, f), H5T_NATIVE_DOUBLE)
    I(trial), I(fold), I(rank), I(epochs), D(train_mse), D(val_mse), D(val_accuracy);
    D(objective), D(seconds), I(status), D(finished), D(val_knn_accuracy), D(val_linear_accuracy);
#undef I
#undef D
    return t;
}

/* NaN equals NaN here: a missing value read back as missing is right. */
static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_trial(const TrialRow *got, const TrialRow *want) {
    int t = want->trial;
    CHECK(got->trial == t && got->stage == want->stage && got->round == want->round &&
              got->folds == want->folds && got->status == want->status,
          "row %d: ints %d %d %d %d %d", t, got->trial, got->stage, got->round, got->folds,
          got->status);
    const double g[] = {got->lr, got->batch_size, got->bottleneck, got->lambda, got->sigma,
                        got->objective_mean, got->objective_std, got->train_mse, got->val_mse,
                        got->val_accuracy, got->epochs, got->seconds, got->val_knn_accuracy,
                        got->val_linear_accuracy, got->objective_se};
    const double w[] = {want->lr, want->batch_size, want->bottleneck, want->lambda, want->sigma,
                        want->objective_mean, want->objective_std, want->train_mse, want->val_mse,
                        want->val_accuracy, want->epochs, want->seconds, want->val_knn_accuracy,
                        want->val_linear_accuracy, want->objective_se};
    for (int i = 0; i < 15; i++)
        CHECK(same(g[i], w[i]), "row %d double %d: %g vs %g", t, i, g[i], w[i]);
    CHECK(got->config && strcmp(got->config, want->config) == 0, "row %d config '%s'", t,
          got->config ? got->config : "(null)");
}

static void check_trials(hid_t f) {
    static const char *const names[] = {
        "trial", "stage", "round", "lr", "batch_size", "bottleneck", "lambda", "sigma", "folds",
        "objective_mean", "objective_std", "train_mse", "val_mse", "val_accuracy", "epochs",
        "seconds", "status", "config", "val_knn_accuracy", "val_linear_accuracy", "objective_se"};
    hid_t d = H5Dopen2(f, "trials", H5P_DEFAULT);
    check_members(d, names, "iiidddddidddddddisddd", 21);
    hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(s, &n, NULL);
    CHECK(n == 6, "/trials has %llu rows, want 6", (unsigned long long)n);
    TrialRow rows[6];
    hid_t mt = trial_mem_type();
    CHECK(n == 6 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0, "/trials unreadable");
    if (n == 6) {
        for (int t = 0; t < 6; t++) {
            if (t == 4) continue;
            TrialRow want = trial_row(t, objective_of[t], status_of[t], config_of(t));
            check_trial(&rows[t], &want);
        }
        /* Row 4 was never written: the fill value. */
        const TrialRow *h = &rows[4];
        CHECK(h->trial == -1 && h->status == -1 && h->stage == -1 && h->folds == -1,
              "hole: trial %d status %d", h->trial, h->status);
        CHECK(isnan(h->lr) && isnan(h->objective_mean) && isnan(h->seconds), "hole: not NaN");
        CHECK(h->config == NULL || h->config[0] == 0, "hole: config '%s'", h->config);
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, s, H5P_DEFAULT, rows);
#else
        H5Dvlen_reclaim(mt, s, H5P_DEFAULT, rows);
#endif
    }
    H5Tclose(mt);
    H5Sclose(s);
    H5Dclose(d);
}

static void check_folds(hid_t f) {
    static const char *const names[] = {"trial",   "fold",         "rank",      "epochs",
                                        "train_mse", "val_mse",    "val_accuracy", "objective",
                                        "seconds", "status", "finished",
                                        "val_knn_accuracy", "val_linear_accuracy"};
    hid_t d = H5Dopen2(f, "folds", H5P_DEFAULT);
    check_members(d, names, "iiiidddddiddd", 13);
    hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(s, &n, NULL);
    CHECK(n == 11, "/folds has %llu rows, want 11 (trial 3 fold 1 is the last)",
          (unsigned long long)n);
    FoldRow rows[11];
    hid_t mt = fold_mem_type();
    if (n == 11 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0) {
        /* Index trial * 3 + fold; the retried (0, 0) holds the second write. */
        const FoldRow want[4] = {fold_row(0, 0, 40), fold_row(1, 0, 50), fold_row(1, 2, 10),
                                 fold_row(3, 1, 30)};
        for (int i = 0; i < 4; i++) {
            const FoldRow *g = &rows[want[i].trial * 3 + want[i].fold], *w = &want[i];
            CHECK(g->trial == w->trial && g->fold == w->fold && g->rank == w->rank &&
                      g->epochs == w->epochs && g->status == w->status &&
                      g->train_mse == w->train_mse && g->val_mse == w->val_mse &&
                      g->val_accuracy == w->val_accuracy && g->objective == w->objective &&
                      g->seconds == w->seconds && g->finished == w->finished &&
                      g->val_knn_accuracy == w->val_knn_accuracy &&
                      g->val_linear_accuracy == w->val_linear_accuracy,
                  "fold row (%d, %d): got trial %d fold %d train_mse %g", w->trial, w->fold,
                  g->trial, g->fold, g->train_mse);
        }
        const int holes[] = {1, 2, 4, 6, 7, 8, 9};
        for (int i = 0; i < 7; i++) {
            const FoldRow *h = &rows[holes[i]];
            CHECK(h->trial == -1 && h->fold == -1 && h->status == -1 && isnan(h->val_mse),
                  "fold hole %d: trial %d", holes[i], h->trial);
        }
    } else
        CHECK(0, "/folds unreadable");
    H5Tclose(mt);
    H5Sclose(s);
    H5Dclose(d);
}

static void check_rounds(hid_t f) {
    static const char *const names[] = {"stage", "round", "final", "param", "lo", "hi", "chosen"};
    hid_t d = H5Dopen2(f, "rounds", H5P_DEFAULT);
    CHECK(d >= 0, "/rounds missing");
    if (d < 0) return;
    check_members(d, names, "iiisddd", 7);
    hid_t s = H5Dget_space(d);
    CHECK(H5Sget_simple_extent_npoints(s) == 3, "/rounds: %lld rows, want the second write's 3",
          (long long)H5Sget_simple_extent_npoints(s));
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(RoundRow)), str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, H5T_VARIABLE);
    H5Tinsert(t, "round", HOFFSET(RoundRow, round), H5T_NATIVE_INT);
    H5Tinsert(t, "param", HOFFSET(RoundRow, param), str);
    H5Tinsert(t, "chosen", HOFFSET(RoundRow, chosen), H5T_NATIVE_DOUBLE);
    RoundRow got[3];
    memset(got, 0, sizeof got);
    if (H5Sget_simple_extent_npoints(s) == 3 &&
        H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0) {
        for (int i = 0; i < 3; i++)
            CHECK(got[i].round == ROUNDS[i].round && same(got[i].chosen, ROUNDS[i].chosen) &&
                      got[i].param && strcmp(got[i].param, ROUNDS[i].param) == 0,
                  "/rounds row %d: round %d param %s chosen %g", i, got[i].round,
                  got[i].param ? got[i].param : "(null)", got[i].chosen);
        h5u_reclaim(t, s, got);
    } else
        CHECK(0, "/rounds unreadable");
    H5Tclose(str);
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
}

static void check_curve(hid_t f, const char *name, int epochs, double first) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    CHECK(d >= 0, "%s missing", name);
    if (d < 0) return;
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[2] = {0, 0};
    CHECK(H5Sget_simple_extent_ndims(s) == 2 && H5Sget_simple_extent_dims(s, dims, NULL) == 2 &&
              dims[0] == (hsize_t)epochs && dims[1] == 3 && H5Tequal(t, H5T_IEEE_F64LE) > 0,
          "%s: [%llu, %llu]", name, (unsigned long long)dims[0], (unsigned long long)dims[1]);
    if (epochs > 0 && dims[0] == (hsize_t)epochs && dims[1] == 3) {
        double v[64];
        H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        for (int i = 0; i < 3 * epochs; i++)
            CHECK(v[i] == first + i, "%s[%d] = %g", name, i, v[i]);
    }
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
}

/* The weights of group/layer_00/W must be the model's, bit for bit. */
static void check_weights(hid_t f, const char *group, const Model *m) {
    char name[256];
    snprintf(name, sizeof name, "%s/layer_00/W", group);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    CHECK(d >= 0, "%s missing", name);
    if (d < 0) return;
    size_t n = m->layer[0].n_w;
    float *w = calloc(n, sizeof *w);
    CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) >= 0 &&
              memcmp(w, m->params + m->layer[0].w, n * sizeof *w) == 0,
          "%s differs from the model", name);
    free(w);
    H5Dclose(d);
}

static void check_groups(hid_t f, const Fixture *fx) {
    check_curve(f, "curves/0/0", 2, 200); /* the retry's curve, not the first */
    check_curve(f, "curves/1/2", 0, 0);
    check_curve(f, "curves/3/1", 3, 300);
    check_curve(f, "curves/1/0", 3, 300);
    check_weights(f, "models/0/0", &fx->ae);
    check_weights(f, "models/0/0/classifier", &fx->clf);
    check_weights(f, "models/3/1", &fx->ae);
    CHECK(H5Lexists(f, "models", H5P_DEFAULT) > 0 &&
              H5Lexists(f, "models/1", H5P_DEFAULT) == 0,
          "/models/1 written without a task file");
    hid_t b = H5Gopen2(f, "best", H5P_DEFAULT);
    CHECK(b >= 0, "/best missing");
    if (b < 0) return;
    CHECK(attr_double(b, "trial") == 1 && attr_double(b, "epochs") == 12,
          "/best is not the second write");
    CHECK(attr_double(b, "objective") == 0.2 && attr_double(b, "lr") == 0.002 &&
              attr_double(b, "batch_size") == 33 && attr_double(b, "bottleneck") == 9 &&
              attr_double(b, "lambda") == 0.1 && attr_double(b, "sigma") == 1.5,
          "/best parameters");
    CHECK(attr_double(b, "test_mse") == 0.25 && attr_double(b, "test_accuracy") == 0.8125 &&
              attr_double(b, "test_latent_accuracy") == 0.75 &&
              isnan(attr_double(b, "test_nrmse")) &&
              attr_double(b, "test_knn_accuracy") == 0.625 &&
              attr_double(b, "test_linear_accuracy") == 0.6875,
          "/best test metrics");
    check_attr_str(b, "config", config_of(1));
    int idx[8] = {0};
    hid_t d = H5Dopen2(b, "test_index", H5P_DEFAULT), ds = d < 0 ? -1 : H5Dget_space(d);
    hid_t dt = d < 0 ? -1 : H5Dget_type(d);
    CHECK(d >= 0 && H5Sget_simple_extent_npoints(ds) == 5 && H5Tequal(dt, H5T_STD_I32LE) > 0 &&
              H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, idx) >= 0 &&
              memcmp(idx, TEST_INDEX, sizeof TEST_INDEX) == 0,
          "/best/test_index is not the test images scored");
    if (dt >= 0) H5Tclose(dt);
    if (ds >= 0) H5Sclose(ds);
    if (d >= 0) H5Dclose(d);
    H5Gclose(b);
    check_weights(f, "best/model", &fx->ae);
    check_weights(f, "best/model/classifier", &fx->clf);
    hid_t l = H5Gopen2(f, "best/model/classifier/layer_01", H5P_DEFAULT);
    if (l >= 0) {
        check_attr_str(l, "activation", "softmax");
        H5Gclose(l);
    }
}

static void check_file(const Fixture *fx) {
    hid_t f = H5Fopen(fx->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0, "%s does not open", fx->path);
    if (f < 0) return;
    check_root(f);
    check_trials(f);
    check_folds(f);
    check_rounds(f);
    check_groups(f, fx);
    CHECK(H5Fget_obj_count(f, H5F_OBJ_ALL) == 1, "the test leaked HDF5 ids");
    H5Fclose(f);
}

/* ---- aesweep info ---- */

static char *info_text(const char *path, int top, int *rc, Err *e) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    *rc = results_info(path, &(InfoOptions){.top = top}, out, NULL, 0, e);
    fclose(out);
    return text;
}

/* The display column where needle starts on the line holding it. */
static int column_of(const char *text, const char *needle) {
    const char *p = strstr(text, needle);
    if (!p) return -1;
    const char *line = p;
    while (line > text && line[-1] != '\n') line--;
    int col = 0;
    for (; line < p; line++) col += ((unsigned char)*line & 0xC0) != 0x80;
    return col;
}

static void test_info(const Fixture *fx) {
    Err e = {0};
    int rc;
    char *t = info_text(fx->path, 3, &rc, &e);
    CHECK(rc == AE_OK, "results_info: %s", e.msg);
    fputs(t, stderr);
    const char *want[] = {
        fx->path,
        "status:     complete\n",
        "strategy:   random\n",
        "objective:  val_mse (min)\n",
        "trials:     5 done / 6 rows (ok 4, diverged 1, failed 0)\n",
        "folds:      4 done / 11 rows\n",
        "top 3 of 4 ok trials by val_mse",
        "best:       trial 1 refit, objective 0.2, test_mse 0.25, test_accuracy 0.8125\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(strstr(t, want[i]) != NULL, "info lacks '%s'", want[i]);
    /* Best first (0.1), then the tie at 0.2 by trial id; trial 0 (0.5) is 4th: not shown. */
    const char *r1 = strstr(t, "train.lr=0.006"), *r2 = strstr(t, "train.lr=0.002 model"),
               *r3 = strstr(t, "train.lr=0.004");
    CHECK(r1 && r2 && r3 && r1 < r2 && r2 < r3, "top rows out of order");
    CHECK(strstr(t, "train.lr=0.001\n") == NULL, "trial 0 shown beyond top 3");
    CHECK(strstr(t, "0.1 ± 0.05") != NULL, "objective cell 'mean ± std' missing");
    /* the best (0.1, se 0.0354) alone is within one standard error of itself: 0.2 is not */
    CHECK(strstr(t, "objective       se  tied") != NULL, "no se/tied columns:\n%s", t);
    CHECK(strstr(t, "tied: 1 trial within one standard error of the best (0.1 ± 0.0354") != NULL,
          "no tied line:\n%s", t);
    /* Aligned: config starts in the same column on the header and every row. */
    int c0 = column_of(t, "config"), c1 = column_of(t, "train.lr=0.006");
    CHECK(c0 > 0 && c0 == c1 && c1 == column_of(t, "train.lr=0.004"), "columns %d %d", c0, c1);
    free(t);
}

/* A "max" objective ranks the largest first. */
static void test_info_max(const Fixture *fx) {
    Err e = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/results_max.h5", fx->dir);
    ResultsMeta meta = {.job_json = "{}", .strategy = "grid", .objective = "val_accuracy",
                        .direction = "max", .folds = 1};
    Results *r;
    int rc = results_create(path, &meta, &r, &e);
    for (int t = 0; t < 3 && rc == AE_OK; t++) {
        TrialRow row = trial_row(t, 0.5 + 0.1 * t, 0, config_of(t));
        rc = results_write_trial(r, &row, &e);
    }
    if (r) rc |= results_close(r, &e);
    CHECK(rc == AE_OK, "max file: %s", e.msg);
    char *t = info_text(path, 10, &rc, &e);
    const char *a = strstr(t, "train.lr=0.003"), *b = strstr(t, "train.lr=0.001");
    CHECK(rc == AE_OK && a && b && a < b, "max: largest not first:\n%s", t);
    CHECK(strstr(t, "status:     running") && strstr(t, "no successful") == NULL, "max: %s", t);
    CHECK(strstr(t, "best:") == NULL, "a /best line without /best");
    /* The sha256 attribute is computed when the caller gives none. */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    check_attr_str(f, "job_sha256",
                   "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    H5Fclose(f);
    free(t);
}

/* search.select one_se: /best may be another trial than the best mean. info marks
 * it and says why: tied with the best (within its standard error), or, outside the
 * band, where a bisection's stages led. A job without one_se says nothing. */
static void test_info_one_se(const Fixture *fx) {
    const char *jobs[3] = {"{\"search\": {\"select\": \"one_se\"}}",
                           "{\"search\": {\"select\": \"one_se\"}}", "{}"};
    const int refit[3] = {2, 3, 2};
    for (int k = 0; k < 3; k++) {
        Err e = {0};
        char path[512];
        snprintf(path, sizeof path, "%s/results_select%d.h5", fx->dir, k);
        ResultsMeta meta = {.job_json = jobs[k], .strategy = "bisection",
                            .objective = "val_mse", .direction = "min", .folds = 3};
        Results *r;
        int rc = results_create(path, &meta, &r, &e);
        /* means 0.10, 0.11, 0.12, 0.20; trial 0's se 0.025: 1 and 2 are tied with it */
        const double mean[4] = {0.10, 0.11, 0.12, 0.20};
        for (int t = 0; t < 4 && rc == AE_OK; t++) {
            TrialRow row = trial_row(t, mean[t], 0, config_of(t));
            row.objective_se = t == 0 ? 0.025 : 0.01;
            rc = results_write_trial(r, &row, &e);
        }
        BestRow b = {.trial = refit[k], .objective = mean[refit[k]], .config = config_of(refit[k]),
                     .test_mse = 0.3, .test_accuracy = NAN, .epochs = 2};
        if (rc == AE_OK) rc = results_write_best(r, &b, fx->task, &e);
        if (r) rc |= results_close(r, &e);
        CHECK(rc == AE_OK, "one_se file %d: %s", k, e.msg);
        char *t = info_text(path, 10, &rc, &e);
        const char *tied = "(chosen by search.select one_se among the trials tied with the best "
                           "mean, trial 0)";
        const char *led = "(where the bisection's stages led, each choosing by search.select "
                          "one_se; the best mean is trial 0)";
        const char *want = k == 0 ? tied : k == 1 ? led : NULL;
        CHECK(rc == AE_OK && (want ? strstr(t, want) != NULL
                                   : !strstr(t, "one_se") && !strstr(t, "chosen")),
              "case %d: info says:\n%s", k, t);
        char row[64];
        snprintf(row, sizeof row, "%s chosen", k == 0 ? "*" : "");
        CHECK(k == 2 || strstr(t, row) != NULL, "case %d: the refit row is not marked '%s':\n%s",
              k, row, t);
        free(t);
    }
}

static void test_info_errors(const Fixture *fx) {
    Err e = {0};
    int rc;
    char *t = info_text("/nonexistent/results.h5", 5, &rc, &e);
    CHECK(rc == AE_EINPUT && strstr(e.msg, "/nonexistent/results.h5"), "missing: %d %s", rc,
          e.msg);
    free(t);
    t = info_text(fx->task, 5, &rc, &e); /* an aesweep model file */
    CHECK(rc == AE_EINPUT && strstr(e.msg, fx->task) && strstr(e.msg, "not an aesweep results"),
          "model file: %d %s", rc, e.msg);
    free(t);
    char text[512];
    snprintf(text, sizeof text, "%s/not_hdf5.h5", fx->dir);
    FILE *f = fopen(text, "w");
    fputs("hello\n", f);
    fclose(f);
    t = info_text(text, 5, &rc, &e);
    CHECK(rc == AE_EINPUT && strstr(e.msg, "not an HDF5 file"), "text file: %d %s", rc, e.msg);
    free(t);
    Results *r;
    ResultsMeta meta = {.folds = 1};
    CHECK(results_create("/nonexistent/dir/results.h5", &meta, &r, &e) == AE_ERUN &&
              r == NULL && strstr(e.msg, "/nonexistent/dir/results.h5"),
          "unwritable folder: %s", e.msg);
}

/* The front over (objective, code width): brute force says which trials no other
 * beats on both; results_pareto must return exactly those, most compressed first. */
static int dominated(const TrialRow *r, int n, int i, int maximize) {
    double oi = maximize ? -r[i].objective_mean : r[i].objective_mean;
    for (int j = 0; j < n; j++) {
        if (j == i || r[j].status != 0 || isnan(r[j].objective_mean)) continue;
        double oj = maximize ? -r[j].objective_mean : r[j].objective_mean;
        int no_worse = oj <= oi && r[j].bottleneck <= r[i].bottleneck;
        int better = oj < oi || r[j].bottleneck < r[i].bottleneck;
        if (no_worse && (better || j < i)) return 1; /* equal on both: the lower id stands */
    }
    return 0;
}

static void test_pareto(void) {
    uint64_t state = 12345;
    for (int round = 0; round < 200; round++) {
        TrialRow rows[40];
        int n = 1 + round % 40, maximize = round % 2;
        for (int i = 0; i < n; i++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            /* few distinct values, so that ties on either axis are common */
            rows[i] = trial_row(i, (double)(state >> 60) / 16, (state >> 20) % 7 == 0, "");
            rows[i].bottleneck = 2 + (double)((state >> 33) % 6);
            if ((state >> 40) % 11 == 0) rows[i].objective_mean = NAN;
        }
        const TrialRow *front[40];
        int k = results_pareto(rows, n, maximize, front), want = 0;
        for (int i = 0; i < n; i++)
            want += rows[i].status == 0 && !isnan(rows[i].objective_mean) &&
                    !dominated(rows, n, i, maximize);
        CHECK(k == want, "round %d: front of %d, brute force says %d", round, k, want);
        for (int i = 0; i < k; i++) {
            int id = front[i]->trial;
            CHECK(!dominated(rows, n, id, maximize) && rows[id].status == 0,
                  "round %d: trial %d on the front is beaten", round, id);
            CHECK(i == 0 || front[i - 1]->bottleneck < front[i]->bottleneck,
                  "round %d: not most compressed first", round);
        }
    }
}

static void test_info_pareto(const Fixture *fx) {
    Err e = {0};
    char *text = NULL;
    size_t len = 0;
    char status[64] = "";
    FILE *out = open_memstream(&text, &len);
    int rc = results_info(fx->path, &(InfoOptions){.top = 0, .pareto = 1}, out, status,
                          sizeof status, &e);
    fclose(out);
    CHECK(rc == AE_OK && !strcmp(status, "complete"), "info --pareto: %s (%s)", e.msg, status);
    fputs(text, stderr);
    /* ok trials (objective, width): 0 (0.5, 8), 1 (0.2, 9), 3 (0.2, 11), 5 (0.1, 13);
     * 1 beats 3 on both */
    CHECK(strstr(text, "Pareto front over val_mse") && strstr(text, ": 3 trials"), "%s", text);
    const char *t0 = strstr(text, "train.lr=0.001\n"), *t1 = strstr(text, "train.lr=0.002 model"),
               *t5 = strstr(text, "train.lr=0.006");
    CHECK(t0 && t1 && t5 && t0 < t1 && t1 < t5, "front rows out of order:\n%s", text);
    CHECK(strstr(text, "train.lr=0.004") == NULL, "a beaten trial on the front");
    CHECK(strstr(text, "top ") == NULL, "--top 0 still printed the top table");
    CHECK(strstr(text, "98.0") != NULL, "no compression ratio 784 / 8:\n%s", text);
    free(text);
}

int main(void) {
    test_sha256();
    test_pareto();
    Fixture fx = {0};
    if (fixture_init(&fx) == AE_OK && write_all(&fx) == AE_OK) {
        check_file(&fx);
        test_info(&fx);
        test_info_pareto(&fx);
        test_info_max(&fx);
        test_info_one_se(&fx);
        test_info_errors(&fx);
    }
    model_free(&fx.ae);
    model_free(&fx.clf);
    CHECK(H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "HDF5 ids left open");
    H5close(); /* HDF5's own caches, so valgrind sees no leak */
    return test_summary("results");
}
