/* Sampler names, defaults, validation and dispatch (sat-spec §5.2-5.6): the parts of SAT's
 * sample_k / sample_rf that pick a sampler and set up its start state. The steps
 * themselves are in sampler_k.c, sampler_dpm.c and sampler_vrf.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/sampler_impl.h"
#include "diffusion/schedule.h"

static const struct {
    const char *name;
    ds_sampler_kind kind;
} NAMES[] = {
    {"v-ddim", DS_SAMPLER_V_DDIM},
    {"v-ddim-cfgpp", DS_SAMPLER_V_DDIM_CFGPP},
    {"dpmpp-3m-sde", DS_SAMPLER_DPMPP_3M_SDE},
    {"dpmpp-2m-sde", DS_SAMPLER_DPMPP_2M_SDE},
    {"dpmpp-2m", DS_SAMPLER_DPMPP_2M},
    {"k-heun", DS_SAMPLER_K_HEUN},
    {"k-lms", DS_SAMPLER_K_LMS},
    {"k-dpmpp-2s-ancestral", DS_SAMPLER_K_DPMPP_2S_ANCESTRAL},
    {"k-dpm-2", DS_SAMPLER_K_DPM_2},
    {"k-dpm-fast", DS_SAMPLER_K_DPM_FAST},
    {"k-dpm-adaptive", DS_SAMPLER_K_DPM_ADAPTIVE},
    {"euler", DS_SAMPLER_RF_EULER},
    {"rk4", DS_SAMPLER_RF_RK4},
    {"dpmpp", DS_SAMPLER_RF_DPMPP},
    {"pingpong", DS_SAMPLER_RF_PINGPONG},
};
enum { N_NAMES = sizeof NAMES / sizeof *NAMES };

/* SAT's diffusion_objective strings (the config layer's ds_objective_name is not linked
 * into every build that uses the samplers). */
static const char *objective_str(ds_objective o) {
    return o == DS_OBJ_V ? "v" : o == DS_OBJ_RECTIFIED_FLOW ? "rectified_flow" : "rf_denoiser";
}

const char *ds_sampler_name(ds_sampler_kind kind) {
    for (int i = 0; i < N_NAMES; i++)
        if (NAMES[i].kind == kind) return NAMES[i].name;
    return "?";
}

ds_sampler_family ds_sampler_family_of(ds_sampler_kind kind) {
    switch (kind) {
    case DS_SAMPLER_V_DDIM:
    case DS_SAMPLER_V_DDIM_CFGPP: return DS_SFAM_V;
    case DS_SAMPLER_RF_EULER:
    case DS_SAMPLER_RF_RK4:
    case DS_SAMPLER_RF_DPMPP:
    case DS_SAMPLER_RF_PINGPONG: return DS_SFAM_RF;
    default: return DS_SFAM_K;
    }
}

bool ds_sampler_fits(ds_sampler_kind kind, ds_objective obj) {
    bool rf = ds_sampler_family_of(kind) == DS_SFAM_RF;
    return obj == DS_OBJ_V ? !rf : rf;
}

bool ds_sampler_is_stochastic(const ds_sampler_params *p) {
    switch (p->kind) {
    case DS_SAMPLER_DPMPP_2M_SDE:
    case DS_SAMPLER_DPMPP_3M_SDE:
    case DS_SAMPLER_K_DPMPP_2S_ANCESTRAL: return p->eta != 0.0 && p->s_noise != 0.0;
    case DS_SAMPLER_V_DDIM:
    case DS_SAMPLER_V_DDIM_CFGPP: return p->eta != 0.0;
    case DS_SAMPLER_RF_PINGPONG: return true;
    default: return false;
    }
}

const char *ds_sampler_names(const ds_objective *obj, char *buf, size_t n) {
    size_t used = 0;
    if (n) buf[0] = 0;
    for (int i = 0; i < N_NAMES; i++) {
        if (obj && !ds_sampler_fits(NAMES[i].kind, *obj)) continue;
        int w = snprintf(buf + used, n > used ? n - used : 0, "%s%s", used ? ", " : "", NAMES[i].name);
        if (w > 0) used += (size_t)w;
        if (used >= n) break;
    }
    return buf;
}

ds_status ds_sampler_parse(const char *name, const ds_objective *obj, ds_sampler_kind *out, ds_err *err) {
    char valid[512];
    const char *base = name;
    /* "rf-euler", "rf-dpmpp", …: the fixtures' spelling of sample_rf's names. */
    if (!strncmp(name, "rf-", 3)) base = name + 3;
    for (int i = 0; i < N_NAMES; i++) {
        if (strcmp(base, NAMES[i].name) != 0) continue;
        if (base != name && ds_sampler_family_of(NAMES[i].kind) != DS_SFAM_RF) break;
        if (obj && !ds_sampler_fits(NAMES[i].kind, *obj))
            return ds_err_set(err, DS_ERR_INVALID,
                              "sampler \"%s\" is for %s models, this model's objective is %s; valid samplers: %s",
                              name, ds_sampler_family_of(NAMES[i].kind) == DS_SFAM_RF ? "rectified-flow" : "v-objective",
                              objective_str(*obj), ds_sampler_names(obj, valid, sizeof valid));
        *out = NAMES[i].kind;
        return DS_OK;
    }
    if (obj)
        return ds_err_set(err, DS_ERR_INVALID, "unknown sampler \"%s\"; valid samplers for objective %s: %s", name,
                          objective_str(*obj), ds_sampler_names(obj, valid, sizeof valid));
    return ds_err_set(err, DS_ERR_INVALID, "unknown sampler \"%s\"; valid samplers: %s", name,
                      ds_sampler_names(NULL, valid, sizeof valid));
}

ds_sampler_params ds_sampler_defaults(ds_sampler_kind kind) {
    ds_sampler_params p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.steps = 100;
    p.sigma_min = 0.01;
    p.rho = 1.0;
    p.s_noise = 1.0;
    p.rtol = p.atol = 0.01;
    p.rf_grid = DS_RF_GRID_AUTO;
    switch (ds_sampler_family_of(kind)) {
    case DS_SFAM_V: p.sigma_max = 1.0; p.eta = 0.0; break;
    case DS_SFAM_RF: p.sigma_max = 1.0; break;
    case DS_SFAM_K:
        p.sigma_max = 100.0;
        /* k-diffusion's defaults: eta 1 for the SDE / ancestral samplers, unused elsewhere. */
        p.eta = 1.0;
        break;
    }
    return p;
}

ds_sampler_params ds_sampler_demo(ds_objective obj, int steps, const ds_dist_shift_config *shift) {
    ds_sampler_params p;
    switch (obj) {
    case DS_OBJ_V:
        p = ds_sampler_defaults(DS_SAMPLER_V_DDIM);
        p.dist_shift = shift;
        break;
    case DS_OBJ_RECTIFIED_FLOW:
        p = ds_sampler_defaults(DS_SAMPLER_RF_EULER);
        p.rf_grid = DS_RF_GRID_LINEAR;
        p.dist_shift = shift;
        break;
    default:
        p = ds_sampler_defaults(DS_SAMPLER_RF_PINGPONG);
        p.rf_grid = DS_RF_GRID_LOGSNR;
        break;
    }
    p.steps = steps;
    p.sigma_max = 1.0;
    return p;
}

/* The RF grid a params set resolves to. */
static bool rf_linear(const ds_sampler_params *p) {
    if (p->rf_grid == DS_RF_GRID_LINEAR) return true;
    if (p->rf_grid == DS_RF_GRID_LOGSNR) return false;
    return p->kind == DS_SAMPLER_RF_RK4; /* sample_rf hands rk4 only `steps` */
}

int ds_sampler_schedule(const ds_sampler_params *p, int64_t length, double *out) {
    switch (ds_sampler_family_of(p->kind)) {
    case DS_SFAM_V: ds_sched_vddim(p->steps, ds_unit_sigma_max(p), p->dist_shift, length, out); return p->steps;
    case DS_SFAM_RF:
        if (rf_linear(p))
            ds_sched_linear(p->steps, ds_unit_sigma_max(p), p->dist_shift, length, out);
        else
            ds_sched_rf_logsnr(p->steps, ds_unit_sigma_max(p), out);
        return p->steps + 1;
    case DS_SFAM_K:
        if (p->kind == DS_SAMPLER_K_DPM_FAST || p->kind == DS_SAMPLER_K_DPM_ADAPTIVE) return 0;
        ds_sched_polyexponential(p->steps, p->sigma_min, p->sigma_max, p->rho, out);
        return p->steps + 1;
    }
    return 0;
}

/* ---- run helpers ---------------------------------------------------------------------- */

ds_status ds_srun_alloc(ds_srun *r, int count, float **bufs) {
    bool ok = true;
    for (int i = 0; i < count; i++) ok &= (bufs[i] = malloc((size_t)r->n * sizeof(float))) != NULL;
    if (ok) return DS_OK;
    ds_srun_free(count, bufs);
    return ds_err_set(r->err, DS_ERR_NOMEM, "out of memory for %d sampler buffers of %lld values", count,
                      (long long)r->n);
}

void ds_srun_free(int count, float **bufs) {
    for (int i = 0; i < count; i++) {
        free(bufs[i]);
        bufs[i] = NULL;
    }
}

ds_status ds_srun_model(ds_srun *r, const ds_model_fn *f, const float *x, double t, float *out, float *out_uncond) {
    for (int64_t b = 0; b < r->B; b++) r->tb[b] = (float)t; /* torch: t_i · ones([B]) in float32 */
    r->nfe++;
    return f->call(f->user, x, r->tb, out, out_uncond, r->err);
}

ds_status ds_srun_denoise(ds_srun *r, const ds_denoiser *d, const float *x, double sigma, float *out) {
    r->nfe++;
    return d->call(d->user, x, sigma, out, r->err);
}

void ds_srun_step(ds_srun *r, int i, double progress, double sigma, const float *x, const float *den) {
    const ds_sampler_params *p = r->p;
    if (!p->on_step) return;
    ds_sample_step s = {i, r->n_steps, progress, sigma, r->nfe, x, den};
    p->on_step(p->user, &s);
}

ds_status ds_srun_check(ds_srun *r, int i) {
    if (r->p->cancel && atomic_load(r->p->cancel))
        return ds_err_set(r->err, DS_ERR_CANCELLED, "sampling cancelled after %d model evaluations (step %d)", r->nfe, i);
    return DS_OK;
}

ds_status ds_srun_noise(ds_srun *r, float *z) {
    if (!r->p->rng) return ds_err_set(r->err, DS_ERR_INVALID, "sampler needs a random stream");
    ds_rng_normal_fill(r->p->rng, z, r->n);
    return DS_OK;
}

/* ---- entry points --------------------------------------------------------------------- */

static ds_status validate(const ds_sampler_params *p, int64_t B, int64_t C, int64_t T, ds_err *err) {
    const char *nm = ds_sampler_name(p->kind);
    if ((unsigned)p->kind >= DS_SAMPLER_COUNT) return ds_err_set(err, DS_ERR_INVALID, "sampler: unknown kind %d", p->kind);
    if (B < 1 || C < 1 || T < 1)
        return ds_err_set(err, DS_ERR_INVALID, "sampler %s: empty batch [%lld, %lld, %lld]", nm, (long long)B,
                          (long long)C, (long long)T);
    if (p->steps < 1) return ds_err_set(err, DS_ERR_INVALID, "sampler %s: steps must be >= 1, got %d", nm, p->steps);
    if (!(p->sigma_max > 0.0) || !isfinite(p->sigma_max))
        return ds_err_set(err, DS_ERR_INVALID, "sampler %s: sigma_max must be > 0, got %g", nm, p->sigma_max);
    if (ds_sampler_family_of(p->kind) == DS_SFAM_K) {
        if (!(p->sigma_min > 0.0))
            return ds_err_set(err, DS_ERR_INVALID, "sampler %s: sigma_min must be > 0, got %g", nm, p->sigma_min);
        if (!(p->rho > 0.0)) return ds_err_set(err, DS_ERR_INVALID, "sampler %s: rho must be > 0, got %g", nm, p->rho);
        /* SAT would walk an increasing schedule (e.g. an init_noise_level below sigma_min)
         * without complaint and return noise; refuse it with the reason. */
        if (!(p->sigma_max > p->sigma_min))
            return ds_err_set(err, DS_ERR_INVALID, "sampler %s: sigma_max (%g, the init_noise_level of a variation) must "
                              "be above sigma_min (%g)", nm, p->sigma_max, p->sigma_min);
    }
    if (!(p->eta >= 0.0)) return ds_err_set(err, DS_ERR_INVALID, "sampler %s: eta must be >= 0, got %g", nm, p->eta);
    if (p->kind == DS_SAMPLER_K_DPM_ADAPTIVE && !(p->rtol > 0.0 && p->atol > 0.0))
        return ds_err_set(err, DS_ERR_INVALID, "sampler %s: rtol and atol must be > 0", nm);
    if (ds_sampler_is_stochastic(p) && !p->rng)
        return ds_err_set(err, DS_ERR_INVALID, "sampler %s (eta %g) is stochastic and needs a seeded random stream", nm,
                          p->eta);
    return DS_OK;
}

static ds_status finish(ds_srun *r, ds_status s, const float *out) {
    if (s != DS_OK) return s;
    for (int64_t i = 0; i < r->n; i++)
        if (!isfinite(out[i]))
            return ds_err_set(r->err, DS_ERR_NUMERIC, "sampler %s produced a non-finite value (element %lld)",
                              ds_sampler_name(r->p->kind), (long long)i);
    return DS_OK;
}

/* sample_k's k-diffusion branch: x = noise·sigmas[0] (+ init_data), then the sampler. */
static ds_status run_k_family(ds_srun *r, const ds_denoiser *d, const float *noise, const float *init, float *x,
                              float *out) {
    const ds_sampler_params *p = r->p;
    double *sig = malloc((size_t)(p->steps + 1) * sizeof(double));
    if (!sig) return ds_err_set(r->err, DS_ERR_NOMEM, "out of memory");
    ds_sched_polyexponential(p->steps, p->sigma_min, p->sigma_max, p->rho, sig);
    float s0 = (float)sig[0];
    free(sig);
    for (int64_t i = 0; i < r->n; i++) x[i] = init ? init[i] + noise[i] * s0 : noise[i] * s0;
    switch (p->kind) {
    case DS_SAMPLER_K_DPM_FAST: return ds_run_dpm_fast(r, d, x, out);
    case DS_SAMPLER_K_DPM_ADAPTIVE: return ds_run_dpm_adaptive(r, d, x, out);
    default: return ds_run_k(r, d, x, out);
    }
}

static ds_status srun_begin(ds_srun *r, const ds_sampler_params *p, int64_t B, int64_t C, int64_t T, ds_err *err) {
    memset(r, 0, sizeof *r);
    r->p = p;
    r->B = B, r->C = C, r->T = T, r->n = B * C * T;
    r->err = err;
    r->n_steps = p->kind == DS_SAMPLER_K_DPM_ADAPTIVE ? 0 : p->steps;
    r->tb = malloc((size_t)B * sizeof(float));
    if (!r->tb) return ds_err_set(err, DS_ERR_NOMEM, "out of memory");
    return DS_OK;
}

ds_status ds_sample_k(const ds_denoiser *d, const ds_sampler_params *p, int64_t B, int64_t C, int64_t T,
                      const float *noise, const float *init, float *out, ds_err *err) {
    DS_TRY(validate(p, B, C, T, err));
    if (ds_sampler_family_of(p->kind) != DS_SFAM_K)
        return ds_err_set(err, DS_ERR_INVALID, "sampler %s is not a k-diffusion sampler", ds_sampler_name(p->kind));
    ds_srun r;
    DS_TRY(srun_begin(&r, p, B, C, T, err));
    float *x = NULL;
    ds_status s = ds_srun_alloc(&r, 1, &x);
    if (s == DS_OK) s = run_k_family(&r, d, noise, init, x, out);
    free(x);
    free(r.tb);
    return finish(&r, s, out);
}

ds_status ds_sample(const ds_model_fn *f, const ds_sampler_params *p, int64_t B, int64_t C, int64_t T,
                    const float *noise, const float *init, float *out, ds_err *err) {
    DS_TRY(validate(p, B, C, T, err));
    ds_srun r;
    DS_TRY(srun_begin(&r, p, B, C, T, err));
    float *x = NULL;
    ds_status s = ds_srun_alloc(&r, 1, &x);
    if (s != DS_OK) {
        free(r.tb);
        return s;
    }
    double sm = ds_unit_sigma_max(p);
    switch (ds_sampler_family_of(p->kind)) {
    case DS_SFAM_K: {
        ds_vdenoiser v;
        if ((s = ds_vdenoiser_init(&v, f, B, r.n, err)) != DS_OK) break;
        ds_denoiser d = ds_vdenoiser_denoiser(&v);
        s = run_k_family(&r, &d, noise, init, x, out);
        ds_vdenoiser_free(&v);
        break;
    }
    case DS_SFAM_V: {
        /* sample_k's v-diffusion branch: sigma_max is a t; x = init·alpha + noise·sigma. */
        double a = cos(sm * M_PI / 2.0), sg = sin(sm * M_PI / 2.0);
        for (int64_t i = 0; i < r.n; i++) x[i] = init ? (float)(init[i] * a + noise[i] * sg) : noise[i];
        s = ds_run_v(&r, f, x, out);
        break;
    }
    case DS_SFAM_RF:
        /* sample_rf: x = init·(1 − sigma_max) + noise·sigma_max. */
        for (int64_t i = 0; i < r.n; i++) x[i] = init ? (float)(init[i] * (1.0 - sm) + noise[i] * sm) : noise[i];
        s = ds_run_rf(&r, f, x, out);
        break;
    }
    free(x);
    free(r.tb);
    return finish(&r, s, out);
}
