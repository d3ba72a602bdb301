// The int8 table's multiply-adds with the CPU's widest integer dot-product instructions, one
// function per layout of Int8Table: row pairs with AVX2, row quads with AVX-512 VNNI.
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

// Queries per call, each with its sums kept in registers.
#define MEDLEY_PER_QUERY_COUNT(call)  \
    switch (query_count) {            \
    case 1: call(1); break;           \
    case 2: call(2); break;           \
    case 3: call(3); break;           \
    default: call(4); break;          \
    }

__attribute__((target("avx2")))
void medley_int8_score_pair_blocks_avx2(const int8_t *blocks, const float *row_scales, size_t pairs,
                                        size_t first_block, size_t block_count, const int16_t *const *queries,
                                        const float *query_scales, size_t query_count, float *const *outs) {
    if (query_count == 0 || query_count > MAX_QUERIES) __builtin_trap();
    const int8_t *start = blocks + first_block * pairs * PAIR_BYTES;
    const float *scales = row_scales + first_block * BLOCK_ROWS;
#define MEDLEY_PAIRS(n) score_blocks_avx2(start, scales, pairs, block_count, queries, query_scales, n, outs)
    MEDLEY_PER_QUERY_COUNT(MEDLEY_PAIRS)
#undef MEDLEY_PAIRS
}

enum { QUAD_BLOCK_ROWS = 16, QUAD_BYTES = 64 };

// One block of 16 rows for `n` queries: group g's 64 bytes hold four dimensions of each of
// the 16 rows, one row per 32-bit lane, so vpdpbusd against the query's four bytes broadcast
// multiplies 64 byte pairs and adds each row's four products into its lane. The stored bytes
// are the values plus 128 (the instruction's first operand is unsigned); each sum starts at
// the query's offset, −128 × the sum of its values, which takes that back out exactly. Even
// and odd groups accumulate apart, as the instruction's result is ready only some cycles later.
__attribute__((target("avx2,avx512f,avx512bw,avx512vnni"), always_inline))
static inline void score_quad_blocks_avx512_vnni(const uint8_t *blocks, const float *scales, size_t groups,
                                                 size_t block_count, const int32_t *const *queries,
                                                 const int32_t *offsets, const float *query_scales, const size_t n,
                                                 float *const *outs) {
    size_t block_bytes = groups * QUAD_BYTES;
    for (size_t b = 0; b < block_count; b++) {
        const uint8_t *block = blocks + b * block_bytes;
        __m512i even[MAX_QUERIES], odd[MAX_QUERIES];
        for (size_t q = 0; q < n; q++) {
            even[q] = _mm512_set1_epi32(offsets[q]);
            odd[q] = _mm512_setzero_si512();
        }
        size_t g = 0;
        for (; g + 2 <= groups; g += 2) {
            __m512i evenValues = _mm512_loadu_si512(block + g * QUAD_BYTES);
            __m512i oddValues = _mm512_loadu_si512(block + (g + 1) * QUAD_BYTES);
            for (size_t q = 0; q < n; q++) {
                even[q] = _mm512_dpbusd_epi32(even[q], evenValues, _mm512_set1_epi32(queries[q][g]));
                odd[q] = _mm512_dpbusd_epi32(odd[q], oddValues, _mm512_set1_epi32(queries[q][g + 1]));
            }
        }
        if (g < groups) {
            __m512i values = _mm512_loadu_si512(block + g * QUAD_BYTES);
            for (size_t q = 0; q < n; q++) {
                even[q] = _mm512_dpbusd_epi32(even[q], values, _mm512_set1_epi32(queries[q][g]));
            }
        }
        __m512 rowScales = _mm512_loadu_ps(scales + b * QUAD_BLOCK_ROWS);
        for (size_t q = 0; q < n; q++) {
            __m512i sums = _mm512_add_epi32(even[q], odd[q]);
            __m512 scores = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sums), rowScales),
                                          _mm512_set1_ps(query_scales[q]));
            _mm512_storeu_ps(outs[q] + b * QUAD_BLOCK_ROWS, scores);
        }
    }
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))
void medley_int8_score_quad_blocks_avx512_vnni(const uint8_t *blocks, const float *row_scales, size_t groups,
                                               size_t first_block, size_t block_count,
                                               const int32_t *const *queries, const int32_t *offsets,
                                               const float *query_scales, size_t query_count, float *const *outs) {
    if (query_count == 0 || query_count > MAX_QUERIES) __builtin_trap();
    const uint8_t *start = blocks + first_block * groups * QUAD_BYTES;
    const float *scales = row_scales + first_block * QUAD_BLOCK_ROWS;
#define MEDLEY_QUADS(n) \
    score_quad_blocks_avx512_vnni(start, scales, groups, block_count, queries, offsets, query_scales, n, outs)
    MEDLEY_PER_QUERY_COUNT(MEDLEY_QUADS)
#undef MEDLEY_QUADS
}

#else

void medley_int8_score_pair_blocks_avx2(const int8_t *blocks, const float *row_scales, size_t pairs,
                                        size_t first_block, size_t block_count, const int16_t *const *queries,
                                        const float *query_scales, size_t query_count, float *const *outs) {
    __builtin_trap();
}

void medley_int8_score_quad_blocks_avx512_vnni(const uint8_t *blocks, const float *row_scales, size_t groups,
                                               size_t first_block, size_t block_count,
                                               const int32_t *const *queries, const int32_t *offsets,
                                               const float *query_scales, size_t query_count, float *const *outs) {
    __builtin_trap();
}

#endif
