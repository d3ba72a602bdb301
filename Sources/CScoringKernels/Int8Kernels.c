// The int8 table's multiply-adds with the CPU's widest integer dot-product instructions.
// Swift cannot compile one function for AVX2 and another for AVX-512 inside a baseline
// build, so these few loops are C with per-function target attributes, chosen at run time.
#include "CScoringKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

enum { BLOCK_ROWS = 8, PAIR_BYTES = 16, MAX_QUERIES = 4 };

static int32_t query_pair(const int16_t *query, size_t p) {
    int32_t pair;
    __builtin_memcpy(&pair, query + 8 * p, sizeof pair);
    return pair;
}

// One block for `n` queries: vpmovsxbw widens the block's 16 bytes of pair p to 16 int16
// (8 rows × 2 dimensions), vpmaddwd against the query's pair broadcast gives each row's two
// products summed, and the sums accumulate in 8 int32 lanes, one per row. Inlined with `n` a
// constant, so the sums stay in registers.
__attribute__((target("avx2"), always_inline))
static inline void score_block_avx2(const int8_t *block, const float *scales, size_t pairs,
                                    const int16_t *const *queries, const float *query_scales, const size_t n,
                                    float *const *outs, size_t row) {
    __m256i sums[MAX_QUERIES];
    for (size_t q = 0; q < n; q++) sums[q] = _mm256_setzero_si256();
    for (size_t p = 0; p < pairs; p++) {
        __m256i values = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + p * PAIR_BYTES)));
        for (size_t q = 0; q < n; q++) {
            __m256i pair = _mm256_set1_epi32(query_pair(queries[q], p));
            sums[q] = _mm256_add_epi32(sums[q], _mm256_madd_epi16(values, pair));
        }
    }
    __m256 rowScales = _mm256_loadu_ps(scales);
    for (size_t q = 0; q < n; q++) {
        __m256 scores = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sums[q]), rowScales),
                                      _mm256_set1_ps(query_scales[q]));
        _mm256_storeu_ps(outs[q] + row, scores);
    }
}

__attribute__((target("avx2"), always_inline))
static inline void score_blocks_avx2(const int8_t *blocks, const float *scales, size_t pairs, size_t block_count,
                                     const int16_t *const *queries, const float *query_scales, const size_t n,
                                     float *const *outs) {
    size_t block_bytes = pairs * PAIR_BYTES;
    for (size_t b = 0; b < block_count; b++) {
        score_block_avx2(blocks + b * block_bytes, scales + b * BLOCK_ROWS, pairs, queries, query_scales, n,
                         outs, b * BLOCK_ROWS);
    }
}

// Two blocks at once: pair p of block b and of block b + 1 widen to one 512-bit vector of
// 32 int16, so the 16 int32 lanes are the two blocks' 16 rows and need no horizontal sums;
// vpdpwssd multiplies, adds the pairs and accumulates in one instruction. Its result is ready
// only some cycles later, so even and odd pairs accumulate apart: twice the independent chains.
__attribute__((target("avx2,avx512f,avx512bw,avx512vnni"), always_inline))
static inline __m512i widened_pair_avx512(const int8_t *first, const int8_t *second, size_t p) {
    __m256i bytes = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(first + p * PAIR_BYTES))),
        _mm_loadu_si128((const __m128i *)(second + p * PAIR_BYTES)), 1);
    return _mm512_cvtepi8_epi16(bytes);
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vnni"), always_inline))
static inline void score_blocks_avx512_vnni(const int8_t *blocks, const float *scales, size_t pairs,
                                            size_t block_count, const int16_t *const *queries,
                                            const float *query_scales, const size_t n, float *const *outs) {
    size_t block_bytes = pairs * PAIR_BYTES;
    size_t b = 0;
    for (; b + 2 <= block_count; b += 2) {
        const int8_t *first = blocks + b * block_bytes, *second = first + block_bytes;
        __m512i even[MAX_QUERIES], odd[MAX_QUERIES];
        for (size_t q = 0; q < n; q++) even[q] = odd[q] = _mm512_setzero_si512();
        size_t p = 0;
        for (; p + 2 <= pairs; p += 2) {
            __m512i evenValues = widened_pair_avx512(first, second, p);
            __m512i oddValues = widened_pair_avx512(first, second, p + 1);
            for (size_t q = 0; q < n; q++) {
                even[q] = _mm512_dpwssd_epi32(even[q], evenValues, _mm512_set1_epi32(query_pair(queries[q], p)));
                odd[q] = _mm512_dpwssd_epi32(odd[q], oddValues, _mm512_set1_epi32(query_pair(queries[q], p + 1)));
            }
        }
        if (p < pairs) {
            __m512i values = widened_pair_avx512(first, second, p);
            for (size_t q = 0; q < n; q++) {
                even[q] = _mm512_dpwssd_epi32(even[q], values, _mm512_set1_epi32(query_pair(queries[q], p)));
            }
        }
        __m512 rowScales = _mm512_loadu_ps(scales + b * BLOCK_ROWS);
        for (size_t q = 0; q < n; q++) {
            __m512i sums = _mm512_add_epi32(even[q], odd[q]);
            __m512 scores = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sums), rowScales),
                                          _mm512_set1_ps(query_scales[q]));
            _mm512_storeu_ps(outs[q] + b * BLOCK_ROWS, scores);
        }
    }
    if (b < block_count) {
        score_block_avx2(blocks + b * block_bytes, scales + b * BLOCK_ROWS, pairs, queries, query_scales, n,
                         outs, b * BLOCK_ROWS);
    }
}

// One copy of each loop per query count, so that each keeps its sums in registers.
#define MEDLEY_PER_QUERY_COUNT(function, attributes)                                                   \
    attributes static void function##_any(const int8_t *blocks, const float *scales, size_t pairs,   \
                                          size_t block_count, const int16_t *const *queries,          \
                                          const float *query_scales, size_t n, float *const *outs) {  \
        switch (n) {                                                                                   \
        case 1: function(blocks, scales, pairs, block_count, queries, query_scales, 1, outs); break;  \
        case 2: function(blocks, scales, pairs, block_count, queries, query_scales, 2, outs); break;  \
        case 3: function(blocks, scales, pairs, block_count, queries, query_scales, 3, outs); break;  \
        default: function(blocks, scales, pairs, block_count, queries, query_scales, 4, outs); break; \
        }                                                                                              \
    }

MEDLEY_PER_QUERY_COUNT(score_blocks_avx2, __attribute__((target("avx2"))))
MEDLEY_PER_QUERY_COUNT(score_blocks_avx512_vnni, __attribute__((target("avx2,avx512f,avx512bw,avx512vnni"))))

void medley_int8_score_blocks(medley_vector_level level, const int8_t *blocks, const float *row_scales,
                              size_t pairs, size_t first_block, size_t block_count,
                              const int16_t *const *queries, const float *query_scales, size_t query_count,
                              float *const *outs) {
    if (query_count == 0 || query_count > MAX_QUERIES) __builtin_trap();
    const int8_t *start = blocks + first_block * pairs * PAIR_BYTES;
    const float *scales = row_scales + first_block * BLOCK_ROWS;
    switch (level) {
    case MEDLEY_VECTOR_AVX512_VNNI:
        score_blocks_avx512_vnni_any(start, scales, pairs, block_count, queries, query_scales, query_count, outs);
        break;
    case MEDLEY_VECTOR_AVX2:
        score_blocks_avx2_any(start, scales, pairs, block_count, queries, query_scales, query_count, outs);
        break;
    default:
        __builtin_trap();
    }
}

#else

void medley_int8_score_blocks(medley_vector_level level, const int8_t *blocks, const float *row_scales,
                              size_t pairs, size_t first_block, size_t block_count,
                              const int16_t *const *queries, const float *query_scales, size_t query_count,
                              float *const *outs) {
    __builtin_trap();
}

#endif
