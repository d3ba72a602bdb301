#ifndef MEDLEY_C_SCORING_KERNELS_H
#define MEDLEY_C_SCORING_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The instruction sets the kernels can use, best last. Which one a machine has is found at
/// run time (medley_best_vector_level), so one binary built for baseline x86-64 uses the
/// widest instructions the CPU offers.
typedef enum {
    /// No vector kernel here: the caller's portable loop does the work.
    MEDLEY_VECTOR_PORTABLE = 0,
    /// 256-bit AVX2 (x86-64).
    MEDLEY_VECTOR_AVX2 = 1,
    /// 512-bit AVX-512 F, BW and VNNI (x86-64).
    MEDLEY_VECTOR_AVX512_VNNI = 2,
} medley_vector_level;

/// The best level this CPU and operating system support.
medley_vector_level medley_best_vector_level(void);

/// Approximate scores of whole blocks of an int8 table in row pairs (Int8Table's rowPairs
/// layout: blocks of 8 rows, dimension pairs interleaved, 16 signed bytes per pair and block),
/// with AVX2; the CPU must have it.
///
/// For each query q < query_count (at most 4) and each row i of blocks
/// first_block ..< first_block + block_count:
///     outs[q][i] = (Σ_p table pair p of row i · query pair p) × row_scales[i] × query_scales[q]
/// where rows and row_scales are counted from the first block's first row. Query q's pair p
/// is the two int16 at queries[q][8p] and queries[q][8p + 1] (Int8Table.QuantizedQueries'
/// layout, each pair repeated four times).
void medley_int8_score_pair_blocks_avx2(const int8_t *blocks, const float *row_scales, size_t pairs,
                                        size_t first_block, size_t block_count, const int16_t *const *queries,
                                        const float *query_scales, size_t query_count, float *const *outs);

/// Approximate scores of whole blocks of an int8 table in row quads (Int8Table's rowQuads
/// layout: blocks of 16 rows, four dimensions interleaved, 64 bytes per group and block, each
/// byte the value plus 128), with AVX-512 F, BW and VNNI; the CPU must have them.
///
/// For each query q < query_count (at most 4) and each row i of those blocks:
///     outs[q][i] = (offsets[q] + Σ_g Σ_l byte l of row i's group g × query byte l of group g)
///                  × row_scales[i] × query_scales[q]
/// where query q's group g is the Int32 queries[q][g] (four signed bytes, the first dimension
/// lowest) and offsets[q] is −128 × the sum of its bytes, so the sum is that of the values.
void medley_int8_score_quad_blocks_avx512_vnni(const uint8_t *blocks, const float *row_scales, size_t groups,
                                               size_t first_block, size_t block_count,
                                               const int32_t *const *queries, const int32_t *offsets,
                                               const float *query_scales, size_t query_count, float *const *outs);

/// The first j in from ..< count with scores[j] + biases[j] >= threshold (scores[j] alone when
/// biases is NULL), or count when there is none; NaN never qualifies. The sum is the float32
/// one the caller computes, so both agree on every j. `level` must be one that
/// medley_best_vector_level() allows and not MEDLEY_VECTOR_PORTABLE.
size_t medley_first_score_at_least(medley_vector_level level, const float *scores, const float *biases,
                                   size_t from, size_t count, float threshold);

/// The lanes medley_score_floor groups scores into.
#define MEDLEY_SCORE_LANES 128

/// The rank-th largest (1 ≤ rank ≤ MEDLEY_SCORE_LANES) of the lanes' maxima, where lane l's
/// maximum is the largest of scores[j] + biases[j] (scores[j] alone when biases is NULL) over
/// the j < count with j mod MEDLEY_SCORE_LANES = l: −∞ when there is none, and a NaN never
/// counts. The sums are the float32 ones medley_first_score_at_least compares. `level` as there.
float medley_score_floor(medley_vector_level level, const float *scores, const float *biases, size_t count,
                         size_t rank);

/// out[i] = Σ_l query[l] × table[rows[i] × dimension + l] + biases[rows[i]] for i < count: the
/// float32 scores of a list's candidates, summed in MedleyModel's portable dot product's order
/// (ScoringKernels.dot), with fused multiply-adds when `fused` (a build for a CPU with FMA,
/// where that dot product fuses them too), so the same bits. With AVX2; `level` as above.
void medley_candidate_dots(medley_vector_level level, int fused, const float *query, const float *table,
                           size_t dimension, const int64_t *rows, size_t count, const float *biases, float *out);

/// The softmax of a row of logits, its first count − count % 8 elements in lanes of eight
/// (MedleyTraining's SoftmaxRow; the caller does the rest): lanes[l] = the largest of the
/// elements at l, l + 8, l + 16, … (−∞ when none; a NaN never counts). With AVX2; `level` must
/// be one that medley_best_vector_level() allows and not MEDLEY_VECTOR_PORTABLE.
void medley_softmax_lane_maxima(medley_vector_level level, const float *row, size_t count, float lanes[8]);

/// Replaces each of those elements x by e^(x − shift) (SoftmaxRow.exp's polynomial, no fused
/// multiply-add, so the same bits), and sets lanes[l] to the running sum of the results at l,
/// l + 8, …, added in that order. `level` as above.
void medley_softmax_exp_shifted(medley_vector_level level, float *row, size_t count, float shift, float lanes[8]);

#endif
