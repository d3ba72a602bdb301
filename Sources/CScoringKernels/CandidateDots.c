// The exact float32 scores of a list's candidates after an int8 or bfloat16 pass: one dot
// product per candidate row, the rows scattered over a table larger than the caches, so the
// rows a few candidates ahead are fetched while one is summed. The sums are MedleyModel's
// portable dot product's to the bit (ScoringKernels.dot: two accumulators of eight lanes over
// sixteen dimensions at a time, then eight, the lanes added in order, then the rest one by
// one), so a re-scored list carries the scores the float32 path's re-scoring always gave.
#include "CScoringKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

enum { PREFETCH_AHEAD = 4 };

__attribute__((always_inline))
static inline void prefetch_row(const float *table, size_t dimension, int64_t row) {
    const char *start = (const char *)(table + (size_t)row * dimension);
    for (size_t offset = 0; offset < dimension * sizeof(float); offset += 64) __builtin_prefetch(start + offset, 0, 3);
}

// One candidate after another, `MULTIPLY_ADD(a, b, c)` being c + a × b, fused or not.
#define CANDIDATE_DOTS(MULTIPLY_ADD)                                                                  \
    for (size_t i = 0; i < count; i++) {                                                              \
        if (i + PREFETCH_AHEAD < count) prefetch_row(table, dimension, rows[i + PREFETCH_AHEAD]);     \
        const float *item = table + (size_t)rows[i] * dimension;                                      \
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                    \
        size_t k = 0;                                                                                 \
        for (; k + 16 <= dimension; k += 16) {                                                        \
            a0 = MULTIPLY_ADD(_mm256_loadu_ps(query + k), _mm256_loadu_ps(item + k), a0);             \
            a1 = MULTIPLY_ADD(_mm256_loadu_ps(query + k + 8), _mm256_loadu_ps(item + k + 8), a1);     \
        }                                                                                             \
        if (k + 8 <= dimension) {                                                                     \
            a0 = MULTIPLY_ADD(_mm256_loadu_ps(query + k), _mm256_loadu_ps(item + k), a0);             \
            k += 8;                                                                                   \
        }                                                                                             \
        float lanes[8];                                                                               \
        _mm256_storeu_ps(lanes, _mm256_add_ps(a0, a1));                                               \
        float sum = -0.0f;                                                                            \
        for (int l = 0; l < 8; l++) sum += lanes[l];                                                  \
        for (; k < dimension; k++) {                                                                  \
            float product = query[k] * item[k]; /* a statement of its own: never contracted */        \
            sum += product;                                                                           \
        }                                                                                             \
        out[i] = sum + biases[rows[i]];                                                               \
    }

// Intrinsics are not contracted into a fused multiply-add.
#define UNFUSED(a, b, c) _mm256_add_ps((c), _mm256_mul_ps((a), (b)))
#define FUSED(a, b, c) _mm256_fmadd_ps((a), (b), (c))

__attribute__((target("avx2")))
static void candidate_dots_unfused(const float *query, const float *table, size_t dimension, const int64_t *rows,
                                   size_t count, const float *biases, float *out) {
    CANDIDATE_DOTS(UNFUSED)
}

__attribute__((target("avx2,fma")))
static void candidate_dots_fused(const float *query, const float *table, size_t dimension, const int64_t *rows,
                                 size_t count, const float *biases, float *out) {
    CANDIDATE_DOTS(FUSED)
}

void medley_candidate_dots(medley_vector_level level, int fused, const float *query, const float *table,
                           size_t dimension, const int64_t *rows, size_t count, const float *biases, float *out) {
    if (level != MEDLEY_VECTOR_AVX512_VNNI && level != MEDLEY_VECTOR_AVX2) __builtin_trap();
    if (fused) candidate_dots_fused(query, table, dimension, rows, count, biases, out);
    else candidate_dots_unfused(query, table, dimension, rows, count, biases, out);
}

#else

void medley_candidate_dots(medley_vector_level level, int fused, const float *query, const float *table,
                           size_t dimension, const int64_t *rows, size_t count, const float *biases, float *out) {
    __builtin_trap();
}

#endif
