/* Optimizer tests: every rule in optim.h against reference values derived by hand
 * from torch.optim 1.13's published update rules (torch/optim/{adam,radam,sgd,
 * rmsprop,adagrad,adadelta}.py, the _single_tensor_* functions).
 *
 * Each case starts from a 3-parameter vector p0 and feeds the fixed gradients G[t]
 * below (all exact in binary) for 3 steps (7 for RAdam). The expected parameters
 * after every step were worked out in double precision from the formula; the
 * arithmetic is in the comment above each row. They were also cross-checked once
 * against torch.optim itself (float64 tensors: identical to the last digit;
 * float32 tensors: within 3e-7 relative); the test does not need Python. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "optim.h"
#include "test.h"

#define N 3
#define MAX_STEPS 7

/* Relative tolerance. The C code runs in float32 and each update is a handful of
 * float roundings (2^-24 ~ 6e-8 each) per step, over up to 7 steps, plus the
 * hyperparameters themselves rounded to float (0.999f, 0.1f, ...); torch's own
 * float32 run lands within 3e-7 of these double references. 1e-5 leaves margin
 * for that yet is ~1e-4 of a typical update, so any deviation from the rule shows. */
#define TOL 1e-5

/* |a-b| <= TOL*|b|: purely relative, unlike CHECK_CLOSE whose floor of 1 would make
 * it absolute for these parameters (all |b| < 2, some ~0.01). No expected value is 0. */
#define CHECK_REL(a, b, what)                                                         \
    do {                                                                              \
        double ra_ = (a), rb_ = (b);                                                  \
        CHECK(fabs(ra_ - rb_) <= TOL * fabs(rb_), "%s: %.9g vs %.9g (rel err %.2g)", \
              what, ra_, rb_, fabs(ra_ - rb_) / fabs(rb_));                           \
    } while (0)

/* The gradient fed at step t+1 (before weight decay). */
static const float G[MAX_STEPS][N] = {
    {0.5f, -1.0f, 2.0f},   {0.25f, 0.5f, -1.5f}, {-0.75f, -0.5f, 1.0f}, {1.0f, 0.25f, -0.5f},
    {0.5f, -0.25f, 0.75f}, {-0.5f, 1.0f, 0.5f},  {0.25f, -0.75f, -1.0f},
};

/* Runs `steps` steps of *o from p0 (state starts at zero), checking p after every
 * step against want[t] and, when want_rect is given, o->rectified. Leaves the
 * final state in s0, s1. */
static void run_case(const char *name, Optim *o, const float p0[N], int steps,
                     const double want[][N], const int *want_rect, float s0[N], float s1[N]) {
    float p[N];
    char what[96];
    for (int i = 0; i < N; i++) p[i] = p0[i], s0[i] = 0.0f, s1[i] = 0.0f;
    for (int t = 0; t < steps; t++) {
        optim_begin_step(o);
        if (want_rect) {
            CHECK(o->rectified == want_rect[t], "%s step %d: rectified %d, want %d", name, t + 1,
                  o->rectified, want_rect[t]);
        }
        optim_update(o, p, G[t], s0, s1, N);
        for (int i = 0; i < N; i++) {
            snprintf(what, sizeof what, "%s step %d p[%d]", name, t + 1, i);
            CHECK_REL(p[i], want[t][i], what);
        }
    }
    CHECK(o->t == steps, "%s: t = %ld after %d steps", name, o->t, steps);
}

static void check_state(const char *name, const float *s, const double want[N]) {
    char what[96];
    for (int i = 0; i < N; i++) {
        snprintf(what, sizeof what, "%s[%d]", name, i);
        CHECK_REL(s[i], want[i], what);
    }
}

static const float P0[N] = {0.5f, -1.0f, 2.0f};

/* ---- Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *      p -= lr (m/(1-b1^t)) / (sqrt(v)/sqrt(1-b2^t) + eps).
 * lr 0.1, betas (0.9, 0.999), eps 1e-8, p0 = {0.5, -1, 2}. Step 1 is
 * lr*g/(|g|+eps) ~ lr*sign(g) whatever |g|; steps 2, 3 depend on the history. */
static const double ADAM[3][N] = {
    /* step 1: bc1 = 1-0.9^1 = 0.1, bc2 = 1-0.999^1 = 0.001
     * g = {0.5, -1, 2}
     * m = 0.9m + 0.1g = {0.05, -0.1, 0.2}, v = 0.999v + 0.001g^2 = {0.00025, 0.001, 0.004}
     * mhat = m/bc1 = {0.5, -1, 2}, vhat = v/bc2 = {0.25, 1, 4}
     * p -= 0.1*mhat/(sqrt(vhat)+1e-8) */
    {0.400000002, -0.900000001, 1.9000000005},
    /* step 2: bc1 = 1-0.9^2 = 0.19, bc2 = 1-0.999^2 = 0.001999
     * g = {0.25, 0.5, -1.5}
     * m = 0.9m + 0.1g = {0.07, -0.04, 0.03}, v = 0.999v + 0.001g^2 = {0.00031225, 0.001249, 0.006246}
     * mhat = m/bc1 = {0.368421052632, -0.210526315789, 0.157894736842}, vhat = v/bc2 = {0.156203101551, 0.624812406203, 3.12456228114}
     * p -= 0.1*mhat/(sqrt(vhat)+1e-8) */
    {0.306782040477, -0.873366297371, 1.89106749981},
    /* step 3: bc1 = 1-0.9^3 = 0.271, bc2 = 1-0.999^3 = 0.002997001
     * g = {-0.75, -0.5, 1}
     * m = 0.9m + 0.1g = {-0.012, -0.086, 0.127}, v = 0.999v + 0.001g^2 = {0.00087443775, 0.001497751, 0.007239754}
     * mhat = m/bc1 = {-0.0442804428044, -0.317343173432, 0.468634686347}, vhat = v/bc2 = {0.291770923667, 0.499749916667, 2.41566619431}
     * p -= 0.1*mhat/(sqrt(vhat)+1e-8) */
    {0.314979720111, -0.828475968299, 1.86091551078},
};
/* torch's exp_avg and exp_avg_sq after step 3. m is as in the step-3 comment above.
 * v is not: the optimizer holds beta2 as the float 0.999f = 0.99900001287, so its
 * 1-b2 = 0.00099998713 is 1.3e-5 smaller than 0.001 and raw v carries that (the
 * parameters do not: 1-b2^t uses the same b2 and cancels, < 1e-9 on p). Redoing
 * steps 1-3 with b2 = 0.99900001287 (torch with betas=(0.9, float32(0.999)) agrees):
 *   v1 = 0.00099998713*g1^2, v2 = b2 v1 + 0.00099998713*g2^2, v3 = b2 v2 + ... */
static const double ADAM_M3[N] = {-0.012, -0.086, 0.127};
static const double ADAM_V3[N] = {0.000874426499196, 0.00149773174599, 0.0072396609229};

/* ---- Adam with weight_decay 0.1: torch's L2 rule, g <- g + wd*p (p before the
 * step), then the Adam update above. Same p0 and hyperparameters. */
static const double ADAM_WD[3][N] = {
    /* step 1: bc1 = 1-0.9^1 = 0.1, bc2 = 1-0.999^1 = 0.001
     * g = G[0] + 0.1*p = {0.55, -1.1, 2.2}
     * m = 0.9m + 0.1g = {0.055, -0.11, 0.22}, v = 0.999v + 0.001g^2 = {0.0003025, 0.00121, 0.00484}
     * mhat = m/bc1 = {0.55, -1.1, 2.2}, vhat = v/bc2 = {0.3025, 1.21, 4.84}
     * p -= 0.1*mhat/(sqrt(vhat)+1e-8) */
    {0.400000001818, -0.900000000909, 1.90000000045},
    /* step 2: bc1 = 1-0.9^2 = 0.19, bc2 = 1-0.999^2 = 0.001999
     * g = G[1] + 0.1*p = {0.290000000182, 0.409999999909, -1.30999999995}
     * m = 0.9m + 0.1g = {0.0785000000182, -0.0580000000091, 0.0670000000045}, v = 0.999v + 0.001g^2 = {0.000386297500105, 0.00137688999993, 0.00655125999988}
     * mhat = m/bc1 = {0.413157894833, -0.305263157943, 0.352631578971}, vhat = v/bc2 = {0.193245372739, 0.68878939466, 3.27726863426}
     * p -= 0.1*mhat/(sqrt(vhat)+1e-8) */
    {0.306014363738, -0.863218354794, 1.88052106679},
    /* step 3: bc1 = 1-0.9^3 = 0.271, bc2 = 1-0.999^3 = 0.002997001
     * g = G[2] + 0.1*p = {-0.719398563626, -0.586321835479, 1.18805210668}
     * m = 0.9m + 0.1g = {-0.00128985634626, -0.110832183556, 0.179105210672}, v = 0.999v + 0.001g^2 = {0.000903445495953, 0.00171928640469, 0.00795617654807}
     * mhat = m/bc1 = {-0.00475961751386, -0.408974847071, 0.660904836428}, vhat = v/bc2 = {0.301449848016, 0.573668945951, 2.65471267713}
     * p -= 0.1*mhat/(sqrt(vhat)+1e-8) */
    {0.306881254773, -0.809221815979, 1.83995805764},
};

/* ---- RAdam: m, v as Adam; rho_inf = 2/(1-b2) - 1 = 1999 (b2 = 0.999);
 *      rho_t = rho_inf - 2 t b2^t / (1-b2^t).
 *      rho_t <= 5: p -= lr m/(1-b1^t)                  (plain bias-corrected momentum)
 *      rho_t >  5: p -= lr m/(1-b1^t) sqrt(1-b2^t)/(sqrt(v)+eps) r,
 *                  r = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t)).
 * rho_1 = 1 for any b2 and rho_t grows by at most ~1 per step (fastest as b2 -> 1;
 * b2 = 0.9 crosses 5 at step 6 too, b2 = 0.75 only at step 8, b2 <= 2/3 never since
 * then rho_inf <= 5), so the earliest possible switch is step 6: with the default
 * b2 = 0.999, rho_5 = 4.996 and rho_6 = 5.994. lr 0.1, eps 1e-8,
 * p0 = {0.2, -0.25, 0.4}: chosen so that p stays small and the small rectified
 * steps (~6e-4) are ~1% of |p|, well above the tolerance. */
static const float RADAM_P0[N] = {0.2f, -0.25f, 0.4f};
static const int RADAM_RECT[7] = {0, 0, 0, 0, 0, 1, 1};
static const double RADAM[7][N] = {
    /* step 1: bc1 = 0.1, rho_t = 1999 - 2*1*0.999^1/bc2 = 1 <= 5: not rectified
     * g = {0.5, -1, 2}, m = 0.9m + 0.1g = {0.05, -0.1, 0.2}
     * p -= 0.1*m/bc1, m/bc1 = {0.5, -1, 2} */
    {0.15, -0.15, 0.2},
    /* step 2: bc1 = 0.19, rho_t = 1999 - 2*2*0.999^2/bc2 = 1.99949974985 <= 5: not rectified
     * g = {0.25, 0.5, -1.5}, m = 0.9m + 0.1g = {0.07, -0.04, 0.03}
     * p -= 0.1*m/bc1, m/bc1 = {0.368421052632, -0.210526315789, 0.157894736842} */
    {0.113157894737, -0.128947368421, 0.184210526316},
    /* step 3: bc1 = 0.271, rho_t = 1999 - 2*3*0.999^3/bc2 = 2.99866599978 <= 5: not rectified
     * g = {-0.75, -0.5, 1}, m = 0.9m + 0.1g = {-0.012, -0.086, 0.127}
     * p -= 0.1*m/bc1, m/bc1 = {-0.0442804428044, -0.317343173432, 0.468634686347} */
    {0.117585939017, -0.0972130510779, 0.137347057681},
    /* step 4: bc1 = 0.3439, rho_t = 1999 - 2*4*0.999^4/bc2 = 3.99749874985 <= 5: not rectified
     * g = {1, 0.25, -0.5}, m = 0.9m + 0.1g = {0.0892, -0.0524, 0.0643}
     * p -= 0.1*m/bc1, m/bc1 = {0.259377726083, -0.152369874964, 0.186972957255} */
    {0.091648166409, -0.0819760635815, 0.118649761956},
    /* step 5: bc1 = 0.40951, rho_t = 1999 - 2*5*0.999^5/bc2 = 4.9959980004 <= 5: not rectified
     * g = {0.5, -0.25, 0.75}, m = 0.9m + 0.1g = {0.13028, -0.07216, 0.13287}
     * p -= 0.1*m/bc1, m/bc1 = {0.318136309248, -0.176210593148, 0.324460941125} */
    {0.0598345354842, -0.0643550042667, 0.0862036678431},
    /* step 6: bc1 = 0.468559, rho_t = 1999 - 2*6*0.999^6/bc2 = 5.99416375166 > 5: rectified
     * g = {-0.5, 1, 0.5}, m = 0.9m + 0.1g = {0.067252, 0.035056, 0.169583}
     * v = 0.999v + 0.001g^2 = {0.00236956805919, 0.00261807480126, 0.00827949420002}, bc2 = 0.00598501998501
     * r = sqrt((rho_t-4)(rho_t-2)*1999/(1995*1997*rho_t)) = 0.0258211128019
     * p -= (m/bc1)*0.1*sqrt(bc2)/(sqrt(v)+1e-8)*r, m/bc1 = {0.143529416786, 0.0748166186115, 0.361924538852} */
    {0.0592455372473, -0.0646470929448, 0.0854091130785},
    /* step 7: bc1 = 0.5217031, rho_t = 1999 - 2*7*0.999^7/bc2 = 6.99199600399 > 5: rectified
     * g = {0.25, -0.75, -1}, m = 0.9m + 0.1g = {0.0855268, -0.0434496, 0.0526247}
     * v = 0.999v + 0.001g^2 = {0.00242969849113, 0.00317795672645, 0.00927121470582}, bc2 = 0.00697903496502
     * r = sqrt((rho_t-4)(rho_t-2)*1999/(1995*1997*rho_t)) = 0.03273881441
     * p -= (m/bc1)*0.1*sqrt(bc2)/(sqrt(v)+1e-8)*r, m/bc1 = {0.16393768793, -0.0832841514647, 0.100870974315} */
    {0.0583359106286, -0.0642430300846, 0.0851225907405},
};

/* ---- SGD with momentum 0.9 (dampening 0, not Nesterov): torch starts the buffer
 * at the first gradient (buf = g at step 1), then buf = mu buf + g; p -= lr buf.
 * lr 0.1, p0 = {0.5, -1, 2}. */
static const double SGD_MOM[3][N] = {
    /* step 1: g = {0.5, -1, 2}
     * buf = g = {0.5, -1, 2}
     * p -= 0.1*buf */
    {0.45, -0.9, 1.8},
    /* step 2: g = {0.25, 0.5, -1.5}
     * buf = 0.9buf + g = {0.7, -0.4, 0.3}
     * p -= 0.1*buf */
    {0.38, -0.86, 1.77},
    /* step 3: g = {-0.75, -0.5, 1}
     * buf = 0.9buf + g = {-0.12, -0.86, 1.27}
     * p -= 0.1*buf */
    {0.392, -0.774, 1.643},
};
static const double SGD_MOM_BUF3[N] = {-0.12, -0.86, 1.27}; /* momentum_buffer after step 3 */

/* ---- Plain SGD (momentum 0): p -= lr g. lr 0.1, p0 = {0.5, -1, 2}. */
static const double SGD[3][N] = {
    /* step 1: g = {0.5, -1, 2}
     * p -= 0.1*g */
    {0.45, -0.9, 1.8},
    /* step 2: g = {0.25, 0.5, -1.5}
     * p -= 0.1*g */
    {0.425, -0.95, 1.95},
    /* step 3: g = {-0.75, -0.5, 1}
     * p -= 0.1*g */
    {0.5, -0.9, 1.85},
};

/* ---- SGD momentum 0.9 with weight_decay 0.1: g <- g + wd*p, then as above (the
 * buffer starts at the decayed gradient). lr 0.1, p0 = {0.5, -1, 2}. */
static const double SGD_MOM_WD[3][N] = {
    /* step 1: g = G[0] + 0.1*p = {0.55, -1.1, 2.2}
     * buf = g = {0.55, -1.1, 2.2}
     * p -= 0.1*buf */
    {0.445, -0.89, 1.78},
    /* step 2: g = G[1] + 0.1*p = {0.2945, 0.411, -1.322}
     * buf = 0.9buf + g = {0.7895, -0.579, 0.658}
     * p -= 0.1*buf */
    {0.36605, -0.8321, 1.7142},
    /* step 3: g = G[2] + 0.1*p = {-0.713395, -0.58321, 1.17142}
     * buf = 0.9buf + g = {-0.002845, -1.10431, 1.76362}
     * p -= 0.1*buf */
    {0.3663345, -0.721669, 1.537838},
};

/* ---- RMSprop (not centered, no momentum): s = alpha s + (1-alpha) g^2;
 * p -= lr g/(sqrt(s)+eps). lr 0.01 (torch's default), alpha 0.99, eps 1e-8,
 * p0 = {0.5, -1, 2}. Step 1 moves by lr/sqrt(0.01) = 0.1 whatever |g|. */
static const double RMSPROP[3][N] = {
    /* step 1: g = {0.5, -1, 2}
     * s = 0.99s + 0.01g^2 = {0.0025, 0.01, 0.04}
     * p -= 0.01*g/(sqrt(s)+1e-8) */
    {0.40000002, -0.90000001, 1.900000005},
    /* step 2: g = {0.25, 0.5, -1.5}
     * s = 0.99s + 0.01g^2 = {0.0031, 0.0124, 0.0621}
     * p -= 0.01*g/(sqrt(s)+1e-8) */
    {0.355098702558, -0.944901331474, 1.96019292913},
    /* step 3: g = {-0.75, -0.5, 1}
     * s = 0.99s + 0.01g^2 = {0.008694, 0.014776, 0.071479}
     * p -= 0.01*g/(sqrt(s)+1e-8) */
    {0.435534875442, -0.903768223329, 1.92278955772},
};
static const double RMSPROP_S3[N] = {0.008694, 0.014776, 0.071479}; /* square_avg, step 3 */

/* ---- Adagrad (lr_decay 0, initial accumulator 0): s += g^2; p -= lr g/(sqrt(s)+eps).
 * lr 0.1, eps 1e-10, p0 = {0.5, -1, 2}. */
static const double ADAGRAD[3][N] = {
    /* step 1: g = {0.5, -1, 2}
     * s += g^2 = {0.25, 1, 4}
     * p -= 0.1*g/(sqrt(s)+1e-10) */
    {0.40000000002, -0.90000000001, 1.9},
    /* step 2: g = {0.25, 0.5, -1.5}
     * s += g^2 = {0.3125, 1.25, 6.25}
     * p -= 0.1*g/(sqrt(s)+1e-10) */
    {0.355278640478, -0.944721359556, 1.96},
    /* step 3: g = {-0.75, -0.5, 1}
     * s += g^2 = {0.875, 1.5, 7.25}
     * p -= 0.1*g/(sqrt(s)+1e-10) */
    {0.435457013043, -0.903896530513, 1.92286093237},
};
static const double ADAGRAD_S3[N] = {0.875, 1.5, 7.25}; /* sum, step 3 */

/* ---- Adadelta: sq = rho sq + (1-rho) g^2; delta = sqrt(acc+eps)/sqrt(sq+eps) g;
 * acc = rho acc + (1-rho) delta^2; p -= lr delta. Defaults lr 1.0, rho 0.9,
 * eps 1e-6. With acc = 0 at the start the steps are ~sqrt(eps/(0.1 g^2)) g ~ 3e-3,
 * so p0 = {0.01, -0.02, 0.03} keeps them a large fraction of |p| (eps matters here). */
static const float ADADELTA_P0[N] = {0.01f, -0.02f, 0.03f};
static const double ADADELTA[3][N] = {
    /* step 1: g = {0.5, -1, 2}
     * sq = 0.9sq + 0.1g^2 = {0.025, 0.1, 0.4}
     * delta = sqrt(acc+1e-6)/sqrt(sq+1e-6)*g = {0.00316221441651, -0.0031622618489, 0.00316227370733}
     * acc = 0.9acc + 0.1delta^2 = {9.999600016e-07, 9.999900001e-07, 9.99997500006e-07}
     * p -= 1.0*delta */
    {0.00683778558349, -0.0168377381511, 0.0268377262927},
    /* step 2: g = {0.25, 0.5, -1.5}
     * sq = 0.9sq + 0.1g^2 = {0.02875, 0.115, 0.585}
     * delta = sqrt(acc+1e-6)/sqrt(sq+1e-6)*g = {0.00208508702779, 0.00208512986199, -0.00277349687718}
     * acc = 0.9acc + 0.1delta^2 = {1.33472279279e-06, 1.33476765423e-06, 1.66922624278e-06}
     * p -= 1.0*delta */
    {0.0047526985557, -0.0189228680131, 0.0296112231699},
    /* step 3: g = {-0.75, -0.5, 1}
     * sq = 0.9sq + 0.1g^2 = {0.082125, 0.1285, 0.6265}
     * delta = sqrt(acc+1e-6)/sqrt(sq+1e-6)*g = {-0.00399888200493, -0.00213127055371, 0.00206410510872}
     * acc = 0.9acc + 0.1delta^2 = {2.80035624244e-06, 1.65552230611e-06, 1.92835660849e-06}
     * p -= 1.0*delta */
    {0.00875158056062, -0.0167915974594, 0.0275471180611},
};
static const double ADADELTA_SQ3[N] = {0.082125, 0.1285, 0.6265}; /* square_avg, step 3 */
static const double ADADELTA_ACC3[N] = {2.80035624244e-06, 1.65552230611e-06,
                                        1.92835660849e-06}; /* acc_delta, step 3 */

static void test_rules(void) {
    Optim o;
    float s0[N], s1[N];

    optim_init(&o, OPT_ADAM, 0.1f);
    run_case("adam", &o, P0, 3, ADAM, NULL, s0, s1);
    check_state("adam exp_avg", s0, ADAM_M3);
    check_state("adam exp_avg_sq", s1, ADAM_V3);

    optim_init(&o, OPT_ADAM, 0.1f);
    o.weight_decay = 0.1f;
    run_case("adam wd", &o, P0, 3, ADAM_WD, NULL, s0, s1);

    optim_init(&o, OPT_RADAM, 0.1f);
    run_case("radam", &o, RADAM_P0, 7, RADAM, RADAM_RECT, s0, s1);

    optim_init(&o, OPT_SGD, 0.1f);
    o.momentum = 0.9f;
    run_case("sgd momentum", &o, P0, 3, SGD_MOM, NULL, s0, s1);
    check_state("sgd momentum_buffer", s0, SGD_MOM_BUF3);

    optim_init(&o, OPT_SGD, 0.1f);
    run_case("sgd", &o, P0, 3, SGD, NULL, s0, s1);

    optim_init(&o, OPT_SGD, 0.1f);
    o.momentum = 0.9f;
    o.weight_decay = 0.1f;
    run_case("sgd momentum wd", &o, P0, 3, SGD_MOM_WD, NULL, s0, s1);

    optim_init(&o, OPT_RMSPROP, 0.01f);
    run_case("rmsprop", &o, P0, 3, RMSPROP, NULL, s0, s1);
    check_state("rmsprop square_avg", s0, RMSPROP_S3);

    optim_init(&o, OPT_ADAGRAD, 0.1f);
    run_case("adagrad", &o, P0, 3, ADAGRAD, NULL, s0, s1);
    check_state("adagrad sum", s0, ADAGRAD_S3);

    optim_init(&o, OPT_ADADELTA, 1.0f);
    run_case("adadelta", &o, ADADELTA_P0, 3, ADADELTA, NULL, s0, s1);
    check_state("adadelta square_avg", s0, ADADELTA_SQ3);
    check_state("adadelta acc_delta", s1, ADADELTA_ACC3);
}

/* optim_init gives torch's defaults; optim_state_count matches the state each rule
 * keeps (torch: Adam/RAdam exp_avg + exp_avg_sq, Adadelta square_avg + acc_delta,
 * SGD momentum_buffer, RMSprop square_avg, Adagrad sum). */
static void test_defaults(void) {
    static const int want_states[OPT_COUNT] = {
        [OPT_ADAM] = 2, [OPT_RADAM] = 2, [OPT_SGD] = 1,
        [OPT_RMSPROP] = 1, [OPT_ADAGRAD] = 1, [OPT_ADADELTA] = 2,
    };
    for (int k = 0; k < OPT_COUNT; k++) {
        CHECK(optim_state_count((OptKind)k) == want_states[k], "%s: state count %d, want %d",
              optim_names[k], optim_state_count((OptKind)k), want_states[k]);
        Optim o;
        optim_init(&o, (OptKind)k, 0.25f);
        float eps = k == OPT_ADAGRAD ? 1e-10f : k == OPT_ADADELTA ? 1e-6f : 1e-8f;
        CHECK(o.kind == (OptKind)k && o.lr == 0.25f && o.t == 0 && o.weight_decay == 0.0f &&
                  o.momentum == 0.0f && o.eps == eps,
              "%s: init (lr %g, t %ld, wd %g, momentum %g, eps %g)", optim_names[k], o.lr, o.t,
              o.weight_decay, o.momentum, o.eps);
        if (k == OPT_ADAM || k == OPT_RADAM)
            CHECK(o.beta1 == 0.9f && o.beta2 == 0.999f, "%s: betas %g %g", optim_names[k],
                  o.beta1, o.beta2);
        if (k == OPT_RMSPROP) CHECK(o.alpha == 0.99f, "rmsprop: alpha %g", o.alpha);
        if (k == OPT_ADADELTA) CHECK(o.rho == 0.9f, "adadelta: rho %g", o.rho);
    }
}

/* optim_update over [0, 13) then [13, 37) within one step must equal one call over
 * [0, 37): same p and same state, bit for bit (the rules are elementwise; 37 and 13
 * also put vector bodies and scalar tails at different elements). Kinds with one
 * state array get s1 = NULL, which also checks they never touch it. 7 steps so
 * RAdam crosses into its rectified branch. */
static void test_split(void) {
    enum { M = 37, CUT = 13, STEPS = 7 };
    static const struct {
        OptKind kind;
        float lr, momentum, wd;
    } cfg[] = {
        {OPT_ADAM, 0.1f, 0, 0},     {OPT_ADAM, 0.1f, 0, 0.1f},    {OPT_RADAM, 0.1f, 0, 0},
        {OPT_SGD, 0.1f, 0.9f, 0},   {OPT_SGD, 0.1f, 0, 0},        {OPT_SGD, 0.1f, 0.9f, 0.1f},
        {OPT_RMSPROP, 0.01f, 0, 0}, {OPT_ADAGRAD, 0.1f, 0, 0},    {OPT_ADADELTA, 1.0f, 0, 0},
    };
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        Optim oa, ob;
        optim_init(&oa, cfg[c].kind, cfg[c].lr);
        oa.momentum = cfg[c].momentum;
        oa.weight_decay = cfg[c].wd;
        ob = oa;
        int two = optim_state_count(cfg[c].kind) == 2;
        float pa[M], pb[M], g[M], a0[M] = {0}, b0[M] = {0}, a1[M] = {0}, b1[M] = {0};
        float *sa1 = two ? a1 : NULL, *sb1 = two ? b1 : NULL;
        for (int i = 0; i < M; i++) pa[i] = pb[i] = (float)((i * 5) % 9 - 4) * 0.25f + 0.125f;
        for (int t = 0; t < STEPS; t++) {
            for (int i = 0; i < M; i++) g[i] = (float)((i * 7 + t * 3) % 11 - 5) * 0.125f;
            optim_begin_step(&oa);
            optim_begin_step(&ob);
            optim_update(&oa, pa, g, a0, sa1, M);
            optim_update(&ob, pb, g, b0, sb1, CUT);
            optim_update(&ob, pb + CUT, g + CUT, b0 + CUT, two ? sb1 + CUT : NULL, M - CUT);
            int bad = -1;
            for (int i = 0; i < M && bad < 0; i++)
                if (pa[i] != pb[i] || a0[i] != b0[i] || a1[i] != b1[i]) bad = i;
            CHECK(bad < 0, "%s (momentum %g, wd %g) step %d: split differs at %d: p %.9g vs %.9g",
                  optim_names[cfg[c].kind], cfg[c].momentum, cfg[c].wd, t + 1, bad,
                  pa[bad < 0 ? 0 : bad], pb[bad < 0 ? 0 : bad]);
        }
    }
}

int main(void) {
    test_defaults();
    test_rules();
    test_split();
    return test_summary("optim");
}
