// The top-K accumulators' pass over a tile's scores: finding the next score that could enter
// a list (once a list is full nearly no score can, so this is a comparison per score, done 8
// or 16 at a time), and the maxima of the tile's scores by lane, from which a list not yet
// full takes a floor.
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

// The elements past the last whole 128, one at a time. `x > lane` is false for NaN, so a NaN
// never becomes a maximum (as in the vector loops, where max_ps(x, lane) gives lane when x is NaN).
static void lane_maxima_tail(const float *scores, const float *biases, size_t j, size_t count, float *lanes) {
    for (; j < count; j++) {
        float x = biases ? scores[j] + biases[j] : scores[j];
        if (x > lanes[j % MEDLEY_SCORE_LANES]) lanes[j % MEDLEY_SCORE_LANES] = x;
    }
}

__attribute__((target("avx2")))
static void lane_maxima_avx2(const float *scores, const float *biases, size_t count, float *lanes) {
    __m256 m[16];
    for (int v = 0; v < 16; v++) m[v] = _mm256_set1_ps(-__builtin_inff());
    size_t j = 0;
    for (; j + MEDLEY_SCORE_LANES <= count; j += MEDLEY_SCORE_LANES) {
        for (int v = 0; v < 16; v++) {
            __m256 x = _mm256_loadu_ps(scores + j + 8 * v);
            if (biases) x = _mm256_add_ps(x, _mm256_loadu_ps(biases + j + 8 * v));
            m[v] = _mm256_max_ps(x, m[v]);
        }
    }
    for (int v = 0; v < 16; v++) _mm256_storeu_ps(lanes + 8 * v, m[v]);
    lane_maxima_tail(scores, biases, j, count, lanes);
}

__attribute__((target("avx2,avx512f")))
static void lane_maxima_avx512(const float *scores, const float *biases, size_t count, float *lanes) {
    __m512 m[8];
    for (int v = 0; v < 8; v++) m[v] = _mm512_set1_ps(-__builtin_inff());
    size_t j = 0;
    for (; j + MEDLEY_SCORE_LANES <= count; j += MEDLEY_SCORE_LANES) {
        for (int v = 0; v < 8; v++) {
            __m512 x = _mm512_loadu_ps(scores + j + 16 * v);
            if (biases) x = _mm512_add_ps(x, _mm512_loadu_ps(biases + j + 16 * v));
            m[v] = _mm512_max_ps(x, m[v]);
        }
    }
    for (int v = 0; v < 8; v++) _mm512_storeu_ps(lanes + 16 * v, m[v]);
    lane_maxima_tail(scores, biases, j, count, lanes);
}

// Floats mapped to unsigned integers in their order (−0 just below +0; no NaN here), so that
// the selection below compares integers.
__attribute__((target("avx2")))
static __m256i ordered_keys_avx2(__m256 x) {
    __m256i bits = _mm256_castps_si256(x);
    __m256i negative = _mm256_srai_epi32(bits, 31);
    return _mm256_xor_si256(bits, _mm256_or_si256(negative, _mm256_set1_epi32((int)0x80000000u)));
}

static float float_of_ordered_key(uint32_t key) {
    uint32_t bits = key & 0x80000000u ? key & 0x7FFFFFFFu : ~key;
    float value;
    __builtin_memcpy(&value, &bits, sizeof value);
    return value;
}

// The rank-th largest of the 128 lanes: the largest key v with at least `rank` lanes at or
// above it, found by bisection over the keys, each step a count of 128 comparisons.
__attribute__((target("avx2,popcnt")))
static float rank_th_largest_avx2(const float *lanes, size_t rank) {
    __m256i keys[16];
    uint32_t low = UINT32_MAX, high = 0;
    for (int v = 0; v < 16; v++) {
        keys[v] = ordered_keys_avx2(_mm256_loadu_ps(lanes + 8 * v));
        uint32_t k[8];
        _mm256_storeu_si256((__m256i *)k, keys[v]);
        for (int l = 0; l < 8; l++) {
            if (k[l] < low) low = k[l];
            if (k[l] > high) high = k[l];
        }
    }
    // Unsigned a >= b as max(a, b) == a.
    while (low < high) {
        uint32_t mid = low + (high - low) / 2 + 1;
        __m256i bound = _mm256_set1_epi32((int)mid);
        int count = 0;
        for (int v = 0; v < 16; v++) {
            __m256i atLeast = _mm256_cmpeq_epi32(_mm256_max_epu32(keys[v], bound), keys[v]);
            count += __builtin_popcount((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(atLeast)));
        }
        if ((size_t)count >= rank) low = mid; else high = mid - 1;
    }
    return float_of_ordered_key(low);
}

// The same bisection with 16 keys a comparison, a mask each.
__attribute__((target("avx2,avx512f,popcnt")))
static float rank_th_largest_avx512(const float *lanes, size_t rank) {
    __m512i keys[8];
    __m512i low = _mm512_set1_epi32(-1), high = _mm512_setzero_si512();
    for (int v = 0; v < 8; v++) {
        __m512i bits = _mm512_castps_si512(_mm512_loadu_ps(lanes + 16 * v));
        __m512i negative = _mm512_srai_epi32(bits, 31);
        keys[v] = _mm512_xor_si512(bits, _mm512_or_si512(negative, _mm512_set1_epi32((int)0x80000000u)));
        low = _mm512_min_epu32(low, keys[v]);
        high = _mm512_max_epu32(high, keys[v]);
    }
    uint32_t lowest = _mm512_reduce_min_epu32(low), highest = _mm512_reduce_max_epu32(high);
    while (lowest < highest) {
        uint32_t mid = lowest + (highest - lowest) / 2 + 1;
        __m512i bound = _mm512_set1_epi32((int)mid);
        int count = 0;
        for (int v = 0; v < 8; v++) count += __builtin_popcount((unsigned)_mm512_cmpge_epu32_mask(keys[v], bound));
        if ((size_t)count >= rank) lowest = mid; else highest = mid - 1;
    }
    return float_of_ordered_key(lowest);
}

float medley_score_floor(medley_vector_level level, const float *scores, const float *biases, size_t count,
                         size_t rank) {
    float lanes[MEDLEY_SCORE_LANES];
    switch (level) {
    case MEDLEY_VECTOR_AVX512_VNNI:
        lane_maxima_avx512(scores, biases, count, lanes);
        return rank_th_largest_avx512(lanes, rank);
    case MEDLEY_VECTOR_AVX2:
        lane_maxima_avx2(scores, biases, count, lanes);
        return rank_th_largest_avx2(lanes, rank);
    default: __builtin_trap();
    }
}

#else

size_t medley_first_score_at_least(medley_vector_level level, const float *scores, const float *biases,
                                   size_t from, size_t count, float threshold) {
    __builtin_trap();
}

float medley_score_floor(medley_vector_level level, const float *scores, const float *biases, size_t count,
                         size_t rank) {
    __builtin_trap();
}

#endif
