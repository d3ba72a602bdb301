// The trainer's softmax over a row of logits: the maximum, and the exponentials shifted by it
// with their lane sums. The same operations in the same order as MedleyTraining's SoftmaxRow
// (eight lanes, no fused multiply-add), so the results are bit for bit the portable loop's;
// AVX2 does in one instruction what the baseline build's SSE2 does in two.
#include "CScoringKernels.h"

// A fused multiply-add would round once where the portable loop rounds twice.
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static void lane_maxima_avx2(const float *row, size_t count, float lanes[8]) {
    __m256 maxima = _mm256_set1_ps(-__builtin_inff());
    for (size_t i = 0; i + 8 <= count; i += 8) {
        __m256 v = _mm256_loadu_ps(row + i);
        // Replaced where greater only, so a NaN never enters (as the portable loop's mask).
        maxima = _mm256_blendv_ps(maxima, v, _mm256_cmp_ps(v, maxima, _CMP_GT_OQ));
    }
    _mm256_storeu_ps(lanes, maxima);
}

__attribute__((target("avx2")))
static void exp_shifted_avx2(float *row, size_t count, float shift, float lanes[8]) {
    const __m256 floor = _mm256_set1_ps(-87.0f), magic = _mm256_set1_ps(12582912.0f);
    const __m256 shifts = _mm256_set1_ps(shift), one = _mm256_set1_ps(1.0f);
    __m256 totals = _mm256_setzero_ps();
    for (size_t i = 0; i + 8 <= count; i += 8) {
        __m256 x = _mm256_sub_ps(_mm256_loadu_ps(row + i), shifts);
        x = _mm256_blendv_ps(x, floor, _mm256_cmp_ps(x, floor, _CMP_LT_OQ));
        __m256 shifted = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), magic);
        __m256 n = _mm256_sub_ps(shifted, magic);
        __m256 r = _mm256_add_ps(_mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f))),
                                 _mm256_mul_ps(n, _mm256_set1_ps(2.1219444e-4f)));
        __m256 p = _mm256_set1_ps(1.98756915e-4f);
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.39819995e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519e-3f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.16657959e-2f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.66666655e-1f));
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.00000012e-1f));
        __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r), one);
        __m256i integer = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
        __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(integer, _mm256_set1_epi32(127)), 23));
        __m256 e = _mm256_mul_ps(y, scale);
        _mm256_storeu_ps(row + i, e);
        totals = _mm256_add_ps(totals, e);
    }
    _mm256_storeu_ps(lanes, totals);
}

void medley_softmax_lane_maxima(medley_vector_level level, const float *row, size_t count, float lanes[8]) {
    if (level == MEDLEY_VECTOR_PORTABLE) __builtin_trap();
    lane_maxima_avx2(row, count, lanes);
}

void medley_softmax_exp_shifted(medley_vector_level level, float *row, size_t count, float shift, float lanes[8]) {
    if (level == MEDLEY_VECTOR_PORTABLE) __builtin_trap();
    exp_shifted_avx2(row, count, shift, lanes);
}

#else

void medley_softmax_lane_maxima(medley_vector_level level, const float *row, size_t count, float lanes[8]) {
    __builtin_trap();
}

void medley_softmax_exp_shifted(medley_vector_level level, float *row, size_t count, float shift, float lanes[8]) {
    __builtin_trap();
}

#endif
