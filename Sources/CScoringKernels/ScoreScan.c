// The top-K accumulators' pass over a tile's scores: finding the next score that could enter
// a list. Once a list is full nearly no score can, so this is a comparison per score, done 8
// or 16 at a time.
#include "CScoringKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static size_t first_at_least_avx2(const float *scores, const float *biases, size_t j, size_t count, float threshold) {
    __m256 bound = _mm256_set1_ps(threshold);
    for (; j + 8 <= count; j += 8) {
        __m256 x = _mm256_loadu_ps(scores + j);
        if (biases) x = _mm256_add_ps(x, _mm256_loadu_ps(biases + j));
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(x, bound, _CMP_GE_OQ));
        if (mask) return j + (size_t)__builtin_ctz((unsigned)mask);
    }
    for (; j < count; j++) {
        float x = biases ? scores[j] + biases[j] : scores[j];
        if (x >= threshold) return j;
    }
    return count;
}

__attribute__((target("avx2,avx512f")))
static size_t first_at_least_avx512(const float *scores, const float *biases, size_t j, size_t count, float threshold) {
    __m512 bound = _mm512_set1_ps(threshold);
    for (; j + 16 <= count; j += 16) {
        __m512 x = _mm512_loadu_ps(scores + j);
        if (biases) x = _mm512_add_ps(x, _mm512_loadu_ps(biases + j));
        __mmask16 mask = _mm512_cmp_ps_mask(x, bound, _CMP_GE_OQ);
        if (mask) return j + (size_t)__builtin_ctz((unsigned)mask);
    }
    return first_at_least_avx2(scores, biases, j, count, threshold);
}

size_t medley_first_score_at_least(medley_vector_level level, const float *scores, const float *biases,
                                   size_t from, size_t count, float threshold) {
    switch (level) {
    case MEDLEY_VECTOR_AVX512_VNNI: return first_at_least_avx512(scores, biases, from, count, threshold);
    case MEDLEY_VECTOR_AVX2: return first_at_least_avx2(scores, biases, from, count, threshold);
    default: __builtin_trap();
    }
}

#else

size_t medley_first_score_at_least(medley_vector_level level, const float *scores, const float *biases,
                                   size_t from, size_t count, float threshold) {
    __builtin_trap();
}

#endif
