import CScoringKernels

/// An int8 copy of the item table for scoring: each row is scaled by its largest magnitude to
/// [−127, 127] and rounded, so the table is a quarter of the float32 bytes. Queries are rounded
/// to integers with a scale of their own, and the dot products are integer multiply-adds
/// (``VectorKernel``), exact, so every kernel reading a layout gives the same scores.
///
/// Rows are stored in blocks whose dimensions are interleaved in small groups (``Layout``): one
/// multiply-add of a group's bytes by the query's group, broadcast, advances every row of the
/// block at once, so a block needs no horizontal additions. A score from this table is within
/// about half a quantisation step (the row's largest magnitude / 254) times the query's L1 norm
/// of the float32 product, plus the query's own rounding (half its step times the stored row's
/// L1 norm), which is why lists are re-scored in float32 (``ItemScorer``) before they are
/// returned, and why the scorer can check, with ``ErrorTerms``, that no item outside a list's
/// candidates could have entered it.
public struct Int8Table: Sendable {
    /// How the rows are laid out, for the instructions that read them.
    public enum Layout: Sendable, CaseIterable {
        /// Blocks of 8 rows whose dimensions are interleaved by pairs: dimensions 2p and 2p + 1
        /// of the block's rows are 16 consecutive signed bytes. Queries are rounded to int16.
        /// Read by `pmaddwd` (the portable loop, eight products per instruction) and AVX2's
        /// `vpmaddwd` (16).
        case rowPairs
        /// Blocks of 16 rows whose dimensions are interleaved by fours: dimensions 4g ..< 4g + 4
        /// of the block's rows are 64 consecutive bytes, stored with 128 added so that they are
        /// unsigned. Queries are rounded to int8. Read by AVX-512 VNNI's `vpdpbusd`, which
        /// multiplies unsigned by signed bytes: 64 products per instruction, with no widening.
        case rowQuads

        /// The layout the fastest kernel this machine runs reads.
        public static var preferred: Layout { VectorKernel.best == .avx512VNNI ? .rowQuads : .rowPairs }

        /// Rows per block.
        var blockRows: Int { self == .rowPairs ? 8 : 16 }
        /// Dimensions per interleaved group.
        var groupWidth: Int { self == .rowPairs ? 2 : 4 }
        /// The C kernel that reads this layout (the portable loop reads both).
        var kernel: VectorKernel { self == .rowPairs ? .avx2 : .avx512VNNI }
    }

    public let layout: Layout
    /// `blockCount × (groups × groupWidth × blockRows)` bytes; rows past the table's end are
    /// zero (128 in ``Layout/rowQuads``, which stores every value plus 128).
    let blocks: [Int8]
    /// One scale per row (`blockCount × blockRows`; 0 past the end and for all-zero rows):
    /// row value = int8 value × scale.
    let scales: [Float]
    public let rows: Int
    public let dimension: Int
    /// Dimension groups per row (the last one padded with zeros).
    let groups: Int
    /// Per chunk of ``errorChunkRows`` rows, the largest row scale and the largest stored row's
    /// L1 norm (scale × Σ |value|): what ``errorTerms(rows:)`` reads.
    private let chunkLargestScales: [Float]
    private let chunkLargestL1Norms: [Float]

    /// The largest dimension a ``Layout/rowQuads`` table takes: a row's unsigned sum, at most
    /// 255 × 127 per dimension, must stay below Int32.max.
    static let largestQuadDimension = 65_536

    public init(_ table: [Float], dimension: Int, layout: Layout = .preferred) {
        precondition(dimension > 0 && table.count % dimension == 0, "the table is not rows × dimension")
        precondition(layout == .rowPairs || dimension <= Self.largestQuadDimension, "dimension too large for int8 row quads")
        let rows = table.count / dimension
        let groups = (dimension + layout.groupWidth - 1) / layout.groupWidth
        let blockRows = layout.blockRows
        let blockCount = (rows + blockRows - 1) / blockRows
        let stored: (Int) -> Int8 = layout == .rowPairs ? { Int8($0) } : { Int8(bitPattern: UInt8($0 + 128)) }
        var blocks = [Int8](repeating: stored(0), count: blockCount * groups * layout.groupWidth * blockRows)
        var scales = [Float](repeating: 0, count: blockCount * blockRows)
        let chunks = (rows + Self.errorChunkRows - 1) / Self.errorChunkRows
        var chunkLargestScales = [Float](repeating: 0, count: chunks)
        var chunkLargestL1Norms = [Float](repeating: 0, count: chunks)
        for r in 0..<rows {
            let row = table[(r * dimension)..<((r + 1) * dimension)]
            let chunk = r / Self.errorChunkRows
            // A row with a non-finite value has no step; it is stored as zeros and makes its
            // chunk's bound infinite, so the lists that could hold it are scored in float32
            // (``ItemScorer``).
            guard row.allSatisfy(\.isFinite) else {
                chunkLargestScales[chunk] = .infinity
                continue
            }
            let largest = row.reduce(Float(0)) { max($0, abs($1)) }
            guard largest > 0 else { continue }
            let scale = largest / 127
            scales[r] = scale
            var magnitudes = 0
            for (j, x) in row.enumerated() {
                let value = min(127, max(-127, Int((x / scale).rounded())))
                blocks[Self.position(row: r, dimension: j, groups: groups, layout: layout)] = stored(value)
                magnitudes += abs(value)
            }
            chunkLargestScales[chunk] = max(chunkLargestScales[chunk], scale)
            chunkLargestL1Norms[chunk] = max(chunkLargestL1Norms[chunk], scale * Float(magnitudes))
        }
        self.chunkLargestScales = chunkLargestScales
        self.chunkLargestL1Norms = chunkLargestL1Norms
        self.layout = layout
        self.blocks = blocks
        self.scales = scales
        self.rows = rows
        self.dimension = dimension
        self.groups = groups
    }

    /// Where row `row`'s dimension `j` lies in ``blocks``: its block, the group's bytes in it,
    /// the row's bytes in those.
    private static func position(row: Int, dimension j: Int, groups: Int, layout: Layout) -> Int {
        let (width, blockRows) = (layout.groupWidth, layout.blockRows)
        return (row / blockRows) * groups * width * blockRows + (j / width) * width * blockRows
            + (row % blockRows) * width + j % width
    }

    /// The int8 value row `row` holds for dimension `j` (in [−127, 127]).
    func storedValue(row: Int, dimension j: Int) -> Int {
        let raw = blocks[Self.position(row: row, dimension: j, groups: groups, layout: layout)]
        return layout == .rowPairs ? Int(raw) : Int(UInt8(bitPattern: raw)) - 128
    }

    /// The value the table holds for row `row`, dimension `j`, as float32 (for tests and checks).
    func value(row: Int, dimension j: Int) -> Float {
        Float(storedValue(row: row, dimension: j)) * scales[row]
    }

    /// Queries rounded to integers for ``approximateScores(_:rows:count:into:kernel:)``, in the
    /// form the table's layout reads, each with its scale.
    public struct QuantizedQueries: Sendable {
        /// ``Layout/rowPairs``: per query and dimension pair, the pair (int16) repeated four
        /// times (one 128-bit vector per pair).
        let pairs: [SIMD8<Int16>]
        /// ``Layout/rowQuads``: per query and group of four dimensions, the four int8 values in
        /// one Int32 (the first dimension in the lowest byte).
        let quads: [Int32]
        /// ``Layout/rowQuads``: per query, −128 × the sum of its int8 values, which takes the
        /// 128 added to every stored byte back out of each row's sum.
        let offsets: [Int32]
        let scales: [Float]
        public var count: Int { scales.count }

        /// The integer query `b` holds for dimension `j` of a table with `groups` groups (for
        /// tests and checks).
        func value(query b: Int, dimension j: Int, groups: Int, layout: Layout) -> Int {
            switch layout {
            case .rowPairs: Int(pairs[b * groups + j / 2][j % 2])
            case .rowQuads: Int(Int8(truncatingIfNeeded: quads[b * groups + j / 4] >> (8 * (j % 4))))
            }
        }
    }

    /// Rounds `queryCount` queries (`queryCount × dimension`, row-major) to integers, each with
    /// its own scale: to int16 for ``Layout/rowPairs``, kept below the point where a row's
    /// integer sum could overflow 32 bits (127 × that magnitude × the padded dimension ≤
    /// Int32.max); to [−127, 127] for ``Layout/rowQuads``, whose instruction multiplies bytes.
    public func quantize(queries: UnsafeBufferPointer<Float>, queryCount: Int) -> QuantizedQueries {
        precondition(queries.count == queryCount * dimension, "queries are not queryCount × dimension")
        let largestValue: Float = switch layout {
        case .rowPairs: Float(min(Int(Int16.max), Int(Int32.max) / (127 * 2 * groups)))
        case .rowQuads: 127
        }
        let width = layout.groupWidth
        let padded = groups * width
        var rounded = [Int32](repeating: 0, count: queryCount * padded)
        var scales = [Float](repeating: 0, count: queryCount)
        rounded.withUnsafeMutableBufferPointer { out in
            for b in 0..<queryCount {
                let query = UnsafeBufferPointer(rebasing: queries[(b * dimension)..<((b + 1) * dimension)])
                var largest: Float = 0
                for x in query { largest = max(largest, abs(x)) }
                guard largest > 0, largest.isFinite else { continue }
                let scale = largest / largestValue
                scales[b] = scale
                // A non-finite component (a forward pass that overflowed) scores as 0 here; the
                // float32 re-scoring sees the real value.
                for j in 0..<dimension {
                    let v = query[j] / scale
                    out[b * padded + j] = v.isNaN ? 0 : Int32(Self.roundedToNearest(max(-largestValue, min(largestValue, v))))
                }
            }
        }
        switch layout {
        case .rowPairs:
            let pairs = (0..<(queryCount * groups)).map { p in
                let (even, odd) = (Int16(rounded[2 * p]), Int16(rounded[2 * p + 1]))
                return SIMD8(even, odd, even, odd, even, odd, even, odd)
            }
            return QuantizedQueries(pairs: pairs, quads: [], offsets: [], scales: scales)
        case .rowQuads:
            var quads = [Int32](repeating: 0, count: queryCount * groups)
            var offsets = [Int32](repeating: 0, count: queryCount)
            for b in 0..<queryCount {
                var sum: Int32 = 0
                for g in 0..<groups {
                    var quad: UInt32 = 0
                    for k in 0..<4 {
                        let value = rounded[b * padded + 4 * g + k]
                        sum += value
                        quad |= UInt32(UInt8(truncatingIfNeeded: value)) << (8 * k)
                    }
                    quads[b * groups + g] = Int32(bitPattern: quad)
                }
                offsets[b] = -128 * sum
            }
            return QuantizedQueries(pairs: [], quads: quads, offsets: offsets, scales: scales)
        }
    }

    /// `x` rounded to the nearest integer, ties to even, for |x| ≤ 2²²: adding and taking back
    /// 1.5 × 2²³ leaves no fraction bits in float32's default rounding mode, without the libm
    /// call `rounded()` makes on baseline x86-64. Within half a step either way, as the error
    /// bound assumes.
    @inline(__always)
    static func roundedToNearest(_ x: Float) -> Float {
        let shift: Float = 12_582_912
        return (x + shift) - shift
    }

    /// Rows per chunk of the error bound's row terms (``errorTerms(rows:)``).
    static let errorChunkRows = 256

    /// The rows' terms of the approximate scores' error bound over a range of rows.
    public struct ErrorTerms: Sendable, Equatable {
        /// The largest row scale (half of it is the most a stored value is off).
        public let largestScale: Float
        /// The largest stored row's L1 norm (scale × Σ |value|), which the query's own rounding
        /// multiplies.
        public let largestL1Norm: Float

        /// The most that `dot(query, row) + bias` (float32, in any order of summation) and the
        /// approximate score `+ bias` of any row of the range can differ by, for a query of
        /// `queryScale` (``QuantizedQueries``): half a row step times the query's L1 norm,
        /// plus half the query's step times the stored row's L1 norm (the two roundings), plus
        /// the float32 roundings of both scores. `+∞` when the query or a row is not finite.
        public func bound(query: UnsafeBufferPointer<Float>, queryScale: Float) -> Double {
            var l1 = 0.0, largest = 0.0
            for x in query {
                let magnitude = Double(abs(x))
                l1 += magnitude
                largest = max(largest, magnitude)
            }
            let (scale, norm, d) = (Double(largestScale), Double(largestL1Norm), Double(query.count))
            // Each rounding to a step is within half a step and the divisions that find the
            // steps' multiples: 2⁻¹⁰ of slack covers those.
            let quantisation = (0.5 * scale * l1 + 0.5 * Double(queryScale) * norm) * (1 + 0x1p-10)
            // Both scores are at most (stored L1 + d × half a step) × the largest |query value|
            // in magnitude; a d-term float32 sum is within d × 2⁻²⁴ of that, the approximate
            // score's two products within 2⁻²³; (d + 8) × 2⁻²² is four times both.
            let rounding = (d + 8) * 0x1p-22 * (norm + d * scale) * largest
            let total = quantisation + rounding
            return total.isFinite ? total : .infinity
        }
    }

    /// The error bound's row terms over `rows` (``ErrorTerms/bound(query:queryScale:)``): the
    /// largest of the chunks the range touches, an upper bound of its rows' own.
    public func errorTerms(rows: Range<Int>) -> ErrorTerms {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows, "rows outside the table")
        var scale: Float = 0, norm: Float = 0
        if !rows.isEmpty {
            for c in (rows.lowerBound / Self.errorChunkRows)...((rows.upperBound - 1) / Self.errorChunkRows) {
                scale = max(scale, chunkLargestScales[c])
                norm = max(norm, chunkLargestL1Norms[c])
            }
        }
        return ErrorTerms(largestScale: scale, largestL1Norm: norm)
    }

    /// Approximate scores of rows `start..<start + count` for every query:
    /// `out[b × count + i]` ≈ dot(query b, row start + i). Whole blocks go to `kernel` (the C
    /// kernel of the table's layout where this machine runs it, unless a test asks for the
    /// portable loop); the rows of a block that the range's ends cut go to the portable loop.
    public func approximateScores(_ queries: QuantizedQueries, rows start: Int, count: Int,
                                  into out: UnsafeMutableBufferPointer<Float>, kernel: VectorKernel? = nil) {
        precondition(start >= 0 && count >= 0 && start + count <= rows, "rows outside the table")
        precondition(out.count >= queries.count * count, "the output holds fewer than queries × rows scores")
        let kernel = kernel ?? (layout.kernel <= VectorKernel.best ? layout.kernel : .portable)
        precondition(kernel == .portable || kernel == layout.kernel, "the \(kernel.rawValue) kernel does not read \(layout)")
        precondition(kernel <= VectorKernel.best, "this machine does not run the \(kernel.rawValue) kernel")
        guard count > 0 else { return }
        let blockRows = layout.blockRows
        let end = start + count
        let firstWhole = (start + blockRows - 1) / blockRows, endWhole = end / blockRows
        guard kernel != .portable, endWhole > firstWhole else {
            portableScores(queries, rows: start..<end, origin: start, stride: count, into: out.baseAddress!)
            return
        }
        if start < firstWhole * blockRows {
            portableScores(queries, rows: start..<(firstWhole * blockRows), origin: start, stride: count, into: out.baseAddress!)
        }
        if endWhole * blockRows < end {
            portableScores(queries, rows: (endWhole * blockRows)..<end, origin: start, stride: count, into: out.baseAddress!)
        }
        let firstRowOffset = firstWhole * blockRows - start
        blocks.withUnsafeBufferPointer { table in
            scales.withUnsafeBufferPointer { rowScales in
                queries.scales.withUnsafeBufferPointer { queryScales in
                    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: VectorKernel.int8QueriesPerCall) { outPointers in
                        var b = 0
                        while b < queries.count {
                            let n = min(VectorKernel.int8QueriesPerCall, queries.count - b)
                            for i in 0..<n { outPointers[i] = out.baseAddress! + (b + i) * count + firstRowOffset }
                            switch layout {
                            case .rowPairs:
                                scorePairBlocks(table, rowScales, queries, first: b, count: n, blocks: firstWhole..<endWhole,
                                                queryScales: queryScales, outs: outPointers)
                            case .rowQuads:
                                scoreQuadBlocks(table, rowScales, queries, first: b, count: n, blocks: firstWhole..<endWhole,
                                                queryScales: queryScales, outs: outPointers)
                            }
                            b += n
                        }
                    }
                }
            }
        }
    }

    /// Queries `first ..< first + count` over whole blocks with the AVX2 kernel.
    private func scorePairBlocks(_ table: UnsafeBufferPointer<Int8>, _ rowScales: UnsafeBufferPointer<Float>,
                                 _ queries: QuantizedQueries, first: Int, count n: Int, blocks: Range<Int>,
                                 queryScales: UnsafeBufferPointer<Float>,
                                 outs: UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>?>) {
        queries.pairs.withUnsafeBufferPointer { queryPairs in
            queryPairs.withMemoryRebound(to: Int16.self) { values in
                withUnsafeTemporaryAllocation(of: UnsafePointer<Int16>?.self, capacity: n) { pointers in
                    for i in 0..<n { pointers[i] = UnsafePointer(values.baseAddress! + (first + i) * groups * 8) }
                    medley_int8_score_pair_blocks_avx2(table.baseAddress, rowScales.baseAddress, groups, blocks.lowerBound,
                                                       blocks.count, pointers.baseAddress, queryScales.baseAddress! + first,
                                                       n, outs.baseAddress)
                }
            }
        }
    }

    /// Queries `first ..< first + count` over whole blocks with the AVX-512 VNNI kernel.
    private func scoreQuadBlocks(_ table: UnsafeBufferPointer<Int8>, _ rowScales: UnsafeBufferPointer<Float>,
                                 _ queries: QuantizedQueries, first: Int, count n: Int, blocks: Range<Int>,
                                 queryScales: UnsafeBufferPointer<Float>,
                                 outs: UnsafeMutableBufferPointer<UnsafeMutablePointer<Float>?>) {
        queries.quads.withUnsafeBufferPointer { quads in
            queries.offsets.withUnsafeBufferPointer { offsets in
                withUnsafeTemporaryAllocation(of: UnsafePointer<Int32>?.self, capacity: n) { pointers in
                    for i in 0..<n { pointers[i] = UnsafePointer(quads.baseAddress! + (first + i) * groups) }
                    UnsafeRawPointer(table.baseAddress!).withMemoryRebound(to: UInt8.self, capacity: table.count) { bytes in
                        medley_int8_score_quad_blocks_avx512_vnni(bytes, rowScales.baseAddress, groups, blocks.lowerBound,
                                                                  blocks.count, pointers.baseAddress, offsets.baseAddress! + first,
                                                                  queryScales.baseAddress! + first, n, outs.baseAddress)
                    }
                }
            }
        }
    }

    /// The portable loop: scores of rows `rows` for every query, row r of query b written to
    /// `out[b × stride + r − origin]`.
    private func portableScores(_ queries: QuantizedQueries, rows: Range<Int>, origin: Int, stride: Int,
                                into out: UnsafeMutablePointer<Float>) {
        switch layout {
        case .rowPairs: portablePairScores(queries, rows: rows, origin: origin, stride: stride, into: out)
        case .rowQuads: portableQuadScores(queries, rows: rows, origin: origin, stride: stride, into: out)
        }
    }

    /// ``Layout/rowQuads`` one row at a time: the table's few edge rows on a machine with AVX-512
    /// VNNI, and every row elsewhere (where ``Layout/preferred`` is not this layout). The
    /// integer sum is exact, so it equals the kernel's whatever the order of its terms.
    private func portableQuadScores(_ queries: QuantizedQueries, rows: Range<Int>, origin: Int, stride: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        let blockRows = layout.blockRows, blockBytes = groups * 4 * blockRows
        blocks.withUnsafeBufferPointer { table in
            for b in 0..<queries.count {
                let scale = queries.scales[b]
                for r in rows {
                    let row = table.baseAddress! + (r / blockRows) * blockBytes + (r % blockRows) * 4
                    var sum = queries.offsets[b]
                    for g in 0..<groups {
                        let quad = queries.quads[b * groups + g]
                        for lane in 0..<4 {
                            let stored = Int32(UInt8(bitPattern: row[g * 4 * blockRows + lane]))
                            sum &+= stored &* Int32(Int8(truncatingIfNeeded: quad >> (8 * Int32(lane))))
                        }
                    }
                    out[b * stride + r - origin] = Float(sum) * scales[r] * scale
                }
            }
        }
    }

    /// ``Layout/rowPairs`` a block at a time, queries two at a time, so each block's bytes are
    /// loaded and widened once per pair.
    private func portablePairScores(_ queries: QuantizedQueries, rows: Range<Int>, origin: Int, stride: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        let blockRows = layout.blockRows, blockBytes = groups * 2 * blockRows
        let firstBlock = rows.lowerBound / blockRows, endBlock = (rows.upperBound - 1) / blockRows + 1
        blocks.withUnsafeBytes { table in
            scales.withUnsafeBufferPointer { rowScales in
                queries.pairs.withUnsafeBufferPointer { queryPairs in
                    var b = 0
                    while b < queries.count {
                        // An odd last query is paired with itself; its second result is dropped.
                        let second = min(b + 1, queries.count - 1)
                        let q0 = queryPairs.baseAddress! + b * groups, q1 = queryPairs.baseAddress! + second * groups
                        let s0 = queries.scales[b], s1 = queries.scales[second]
                        for block in firstBlock..<endBlock {
                            let (low0, high0, low1, high1) = Self.blockSums(
                                table.baseAddress! + block * blockBytes, pairs: groups, q0, q1)
                            let blockScales = UnsafeRawPointer(rowScales.baseAddress! + block * blockRows)
                            let scaleLow = blockScales.loadUnaligned(as: SIMD4<Float>.self)
                            let scaleHigh = blockScales.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
                            let first = block * blockRows
                            Self.store(SIMD4<Float>(low0) * scaleLow * s0, SIMD4<Float>(high0) * scaleHigh * s0,
                                       blockFirstRow: first, rows: rows, origin: origin, into: out + b * stride)
                            if second != b {
                                Self.store(SIMD4<Float>(low1) * scaleLow * s1, SIMD4<Float>(high1) * scaleHigh * s1,
                                           blockFirstRow: first, rows: rows, origin: origin, into: out + second * stride)
                            }
                        }
                        b += 2
                    }
                }
            }
        }
    }

    /// One ``Layout/rowPairs`` block's integer sums for two queries: rows 0–3 and 4–7 of the
    /// block for each.
    @inline(__always)
    private static func blockSums(_ block: UnsafeRawPointer, pairs: Int, _ q0: UnsafePointer<SIMD8<Int16>>,
                                  _ q1: UnsafePointer<SIMD8<Int16>>)
        -> (SIMD4<Int32>, SIMD4<Int32>, SIMD4<Int32>, SIMD4<Int32>) {
        var low0 = SIMD4<Int32>(), high0 = SIMD4<Int32>(), low1 = SIMD4<Int32>(), high1 = SIMD4<Int32>()
        for p in 0..<pairs {
            let bytes = block.loadUnaligned(fromByteOffset: p * 16, as: SIMD16<Int8>.self)
            // Widened to 32 bits and multiplied, the products of the even and odd lanes added:
            // the compiler lowers this to one pmaddwd per query and half block.
            let low = SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int16>(truncatingIfNeeded: bytes.lowHalf))
            let high = SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int16>(truncatingIfNeeded: bytes.highHalf))
            let y0 = SIMD8<Int32>(truncatingIfNeeded: q0[p]), y1 = SIMD8<Int32>(truncatingIfNeeded: q1[p])
            let lowProducts0 = low &* y0, highProducts0 = high &* y0
            let lowProducts1 = low &* y1, highProducts1 = high &* y1
            low0 &+= lowProducts0.evenHalf &+ lowProducts0.oddHalf
            high0 &+= highProducts0.evenHalf &+ highProducts0.oddHalf
            low1 &+= lowProducts1.evenHalf &+ lowProducts1.oddHalf
            high1 &+= highProducts1.evenHalf &+ highProducts1.oddHalf
        }
        return (low0, high0, low1, high1)
    }

    /// Writes a ``Layout/rowPairs`` block's eight scores to the rows of `rows` it covers; row r
    /// goes to `out[r − origin]`.
    @inline(__always)
    private static func store(_ low: SIMD4<Float>, _ high: SIMD4<Float>, blockFirstRow first: Int, rows: Range<Int>,
                              origin: Int, into out: UnsafeMutablePointer<Float>) {
        if first >= rows.lowerBound && first + 8 <= rows.upperBound {
            let target = UnsafeMutableRawPointer(out + (first - origin))
            target.storeBytes(of: low, as: SIMD4<Float>.self)
            target.storeBytes(of: high, toByteOffset: 16, as: SIMD4<Float>.self)
        } else {
            for lane in 0..<8 where rows.contains(first + lane) {
                out[first + lane - origin] = lane < 4 ? low[lane] : high[lane - 4]
            }
        }
    }
}
