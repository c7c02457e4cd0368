/* Branch-free float exp / erf / activations that GCC vectorises inside `#pragma omp simd`
 * loops (libm's expf/erff are calls that block vectorisation without -ffast-math).
 *
 * ds_fast_expf: Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, exp(r) by a degree-7 polynomial,
 *   2^n by exponent bits. Within 2 ulp of expf on [−87, 88]; inputs outside are clamped
 *   (exp(−87) ≈ 1.6e−38 stands in for smaller results, exp(88) ≈ 1.65e38 for larger);
 *   NaN in, NaN out (a NaN loss must stay visible to the trainer).
 * ds_fast_erff: Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e−7 absolute: the formula
 *   PyTorch's vectorised CPU kernels use for erf, hence for nn.GELU.
 * Vectorising needs -fno-trapping-math (set for the engine): without it GCC will not
 * if-convert the clamps in front of the float-to-int conversion.
 * Ref: https://github.com/jeremybarnes/cephes/blob/master/single/expf.c */
#ifndef DS_FASTMATH_H
#define DS_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float ds_fast_expf(float xin) {
    /* NaN: compute on 0 (keeping the integer conversion and shift defined) and return NaN */
    float x = xin == xin ? xin : 0.0f;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float nf = floorf(x * 1.44269504088896341f + 0.5f);
    int32_t n = (int32_t)nf;
    float r = x - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r + 1.0f;
    uint32_t bits = (uint32_t)(n + 127) << 23; /* n + 127 in [1, 254] after the clamps */
    float s;
    memcpy(&s, &bits, sizeof s);
    return xin == xin ? p * s : xin;
}

/* erf(x) = sign(x)·(1 − t·P(t)·exp(−x²)), t = 1/(1 + 0.3275911·|x|). e2 = exp(−x²) given. */
static inline float ds_erf_from_exp(float x, float e2) {
    float ax = x < 0.0f ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * ax);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float r = 1.0f - p * t * e2;
    return x < 0.0f ? -r : r;
}

static inline float ds_fast_erff(float x) { return ds_erf_from_exp(x, ds_fast_expf(-x * x)); }

/* SiLU z·σ(z) and its derivative σ(z)·(1 + z·(1 − σ(z))). */
static inline float ds_fast_silu(float z) { return z / (1.0f + ds_fast_expf(-z)); }
static inline float ds_fast_silu_grad(float z) {
    float s = 1.0f / (1.0f + ds_fast_expf(-z));
    return s * (1.0f + z * (1.0f - s));
}

/* Exact-form GELU z·Φ(z) = 0.5·z·(1 + erf(z/√2)) and its derivative Φ(z) + z·φ(z);
 * one exp serves both erf and the density: exp(−(z/√2)²) = exp(−z²/2). */
static inline float ds_fast_gelu(float z) {
    float u = z * 0.70710678118654752f;
    return 0.5f * z * (1.0f + ds_erf_from_exp(u, ds_fast_expf(-u * u)));
}
static inline float ds_fast_gelu_grad(float z) {
    float u = z * 0.70710678118654752f;
    float e = ds_fast_expf(-u * u);
    return 0.5f * (1.0f + ds_erf_from_exp(u, e)) + z * e * 0.3989422804014327f;
}

#endif
