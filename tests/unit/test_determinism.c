/* Same seed, same bits: two trainings of one configuration give identical weights
 * and curves; another seed gives different ones. Dropout and input noise are on,
 * so every random stream of the trainer takes part. */
#include <string.h>

#include "test.h"
#include "trainer.h"

static TrainConfig config(uint64_t seed) {
    TrainConfig c;
    memset(&c, 0, sizeof c);
    c.shape = (ModelShape){.n_hidden = 1, .hidden = {64}, .bottleneck = 8,
                           .activation = ACT_LEAKY_RELU, .latent_activation = ACT_LINEAR,
                           .output_activation = ACT_SIGMOID, .leaky_slope = 0.1f};
    optim_init(&c.optim, OPT_ADAM, 1e-3f);
    c.optim.weight_decay = 1e-4f;
    c.loss = LOSS_MSE;
    c.recon_weight = 1;
    c.batch_size = 50; /* 900 / 50 and a last short batch of the 1000 - 100 */
    c.epochs = 2;
    c.dropout = 0.1f;
    c.input_noise = 0.05f;
    c.seed = seed;
    return c;
}

static int train(const Dataset *d, const Index *tr, const Index *va, uint64_t seed, Model *m,
                 TrainResult *r) {
    TrainConfig c = config(seed);
    Err e = {0};
    int rc = trainer_fit(&c, &d->train, tr, va, m, r, &e);
    CHECK(rc == AE_OK, "trainer_fit: %s", e.msg);
    CHECK(r->status == TRAIN_OK && r->epochs == 2, "status %d epochs %d", r->status, r->epochs);
    return rc;
}

int main(void) {
    Dataset d;
    Err e = {0};
    const char *dir = test_env("FASHION_DIR", "/usr/share/datasets/fashion-mnist");
    if (dataset_load(dir, &d, &e) != AE_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    Index all, sub, tr, va;
    CHECK(index_all(d.train.n, &all, &e) == AE_OK, "%s", e.msg);
    CHECK(index_subset(d.train.labels, &all, 1010, 5, &sub, &e) == AE_OK, "%s", e.msg);
    CHECK(index_holdout(d.train.labels, &sub, 0.1, 6, &tr, &va, &e) == AE_OK, "%s", e.msg);

    Model a, b, c;
    TrainResult ra, rb, rc;
    train(&d, &tr, &va, 42, &a, &ra);
    train(&d, &tr, &va, 42, &b, &rb);
    train(&d, &tr, &va, 43, &c, &rc);
    size_t bytes = sizeof(float) * a.n_params;
    CHECK(memcmp(a.params, b.params, bytes) == 0, "same seed: weights differ");
    CHECK(memcmp(ra.curve, rb.curve, sizeof(double) * CURVE_COLS * ra.epochs) == 0,
          "same seed: curves differ");
    CHECK(memcmp(&ra.val_mse, &rb.val_mse, sizeof ra.val_mse) == 0, "same seed: val_mse %.17g vs %.17g",
          ra.val_mse, rb.val_mse);
    CHECK(memcmp(a.params, c.params, bytes) != 0, "another seed: identical weights");
    CHECK(ra.val_mse != rc.val_mse, "another seed: identical val_mse");
    /* Evaluation is a pure function of the weights too. */
    double m1, m2;
    CHECK(model_eval_mse(&a, &d.train, &va, &m1, &e) == AE_OK, "%s", e.msg);
    CHECK(model_eval_mse(&b, &d.train, &va, &m2, &e) == AE_OK, "%s", e.msg);
    CHECK(m1 == m2, "eval differs: %.17g vs %.17g", m1, m2);

    model_free(&a), model_free(&b), model_free(&c);
    train_result_free(&ra), train_result_free(&rb), train_result_free(&rc);
    index_free(&all), index_free(&sub), index_free(&tr), index_free(&va);
    dataset_free(&d);
    return test_summary("determinism");
}
