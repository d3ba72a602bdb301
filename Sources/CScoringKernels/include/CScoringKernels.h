#ifndef MEDLEY_C_SCORING_KERNELS_H
#define MEDLEY_C_SCORING_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The instruction sets the int8 kernel can use, best last. Which one a machine has is found
/// at run time (medley_int8_best_kernel), so one binary built for baseline x86-64 uses the
/// widest multiply-adds the CPU offers.
typedef enum {
    /// No vector kernel here: the caller's portable loop scores the table.
    MEDLEY_INT8_KERNEL_NONE = 0,
    /// 256-bit vpmaddwd (x86-64 with AVX2).
    MEDLEY_INT8_KERNEL_AVX2 = 1,
    /// 512-bit vpdpwssd (x86-64 with AVX-512 F, BW and VNNI).
    MEDLEY_INT8_KERNEL_AVX512_VNNI = 2,
} medley_int8_kernel;

/// The best kernel this CPU and operating system support.
medley_int8_kernel medley_int8_best_kernel(void);

/// Approximate scores of whole blocks of an int8 table (Int8Table's layout: blocks of 8 rows,
/// dimension pairs interleaved, 16 bytes per pair and block).
///
/// For each query q < query_count (at most 4) and each row i of blocks
/// first_block ..< first_block + block_count:
///     outs[q][i] = (Σ_p table pair p of row i · query pair p) × row_scales[i] × query_scales[q]
/// where rows and row_scales are counted from the first block's first row. Query q's pair p
/// is the two int16 at queries[q][8p] and queries[q][8p + 1] (Int8Table.QuantizedQueries'
/// layout, each pair repeated four times). `kernel` must be one that
/// medley_int8_best_kernel() allows and not MEDLEY_INT8_KERNEL_NONE.
void medley_int8_score_blocks(medley_int8_kernel kernel, const int8_t *blocks, const float *row_scales,
                              size_t pairs, size_t first_block, size_t block_count,
                              const int16_t *const *queries, const float *query_scales, size_t query_count,
                              float *const *outs);

#endif
