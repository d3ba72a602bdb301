import CScoringKernels

/// An int8 copy of the item table for scoring: each row is scaled by its largest magnitude to
/// [−127, 127] and rounded, so the table is a quarter of the float32 bytes. Queries are rounded
/// to int16 with a scale of their own, and the dot products are integer multiply-adds
/// (``VectorKernel``: `pmaddwd` in the baseline x86-64 build, eight products per instruction;
/// 16 or 32 per instruction where the CPU has AVX2 or AVX-512 VNNI).
///
/// Rows are stored in blocks of 8 whose dimensions are interleaved by pairs: dimensions 2p and
/// 2p + 1 of the block's 8 rows are 16 consecutive bytes. One multiply-add of that vector by the
/// query's pair (2p, 2p + 1), repeated four times, advances four rows' sums at once, so a block
/// needs no horizontal additions. A score from this table is within about half a quantisation
/// step (the row's largest magnitude / 254) times the query's L1 norm of the float32 product,
/// which is why lists are re-scored in float32 (``ItemScorer``) before they are returned.
public struct Int8Table: Sendable {
    /// Rows per block.
    static let blockRows = 8

    /// `blockCount × (pairs × 2 × blockRows)` values; rows past the table's end are zero.
    let blocks: [Int8]
    /// One scale per row (`blockCount × blockRows`; 0 past the end and for all-zero rows):
    /// row value = int8 value × scale.
    let scales: [Float]
    public let rows: Int
    public let dimension: Int
    /// Dimension pairs per row (an odd dimension is padded with a zero).
    let pairs: Int

    public init(_ table: [Float], dimension: Int) {
        precondition(dimension > 0 && table.count % dimension == 0, "the table is not rows × dimension")
        let rows = table.count / dimension
        let pairs = (dimension + 1) / 2
        let blockCount = (rows + Self.blockRows - 1) / Self.blockRows
        var blocks = [Int8](repeating: 0, count: blockCount * pairs * 2 * Self.blockRows)
        var scales = [Float](repeating: 0, count: blockCount * Self.blockRows)
        for r in 0..<rows {
            let row = table[(r * dimension)..<((r + 1) * dimension)]
            let largest = row.reduce(Float(0)) { max($0, abs($1)) }
            guard largest > 0 else { continue }
            let scale = largest / 127
            scales[r] = scale
            for (j, x) in row.enumerated() {
                blocks[Self.position(row: r, dimension: j, pairs: pairs)] = Int8(clamping: Int((x / scale).rounded()))
            }
        }
        self.blocks = blocks
        self.scales = scales
        self.rows = rows
        self.dimension = dimension
        self.pairs = pairs
    }

    /// Where row `row`'s dimension `j` lies in ``blocks``: its block, the pair's 16 bytes in
    /// it, the row's two bytes in those.
    private static func position(row: Int, dimension j: Int, pairs: Int) -> Int {
        (row / blockRows) * pairs * 2 * blockRows + (j / 2) * 2 * blockRows + (row % blockRows) * 2 + j % 2
    }

    /// The value the table holds for row `row`, dimension `j`, as float32 (for tests and checks).
    func value(row: Int, dimension j: Int) -> Float {
        Float(blocks[Self.position(row: row, dimension: j, pairs: pairs)]) * scales[row]
    }

    /// Queries rounded to int16 for ``approximateScores(_:rows:count:into:)``: per query, each
    /// dimension pair repeated four times (one 128-bit vector per pair), and the query's scale.
    public struct QuantizedQueries: Sendable {
        let pairs: [SIMD8<Int16>]
        let scales: [Float]
        public var count: Int { scales.count }
    }

    /// Rounds `queryCount` queries (`queryCount × dimension`, row-major) to int16, each with its
    /// own scale. The largest magnitude is kept below the point where a row's integer sum could
    /// overflow 32 bits (127 × that magnitude × the padded dimension ≤ Int32.max).
    public func quantize(queries: UnsafeBufferPointer<Float>, queryCount: Int) -> QuantizedQueries {
        precondition(queries.count == queryCount * dimension, "queries are not queryCount × dimension")
        let largestValue = Float(min(Int(Int16.max), Int(Int32.max) / (127 * 2 * pairs)))
        var quantized = [SIMD8<Int16>](repeating: .zero, count: queryCount * pairs)
        var scales = [Float](repeating: 0, count: queryCount)
        for b in 0..<queryCount {
            let query = UnsafeBufferPointer(rebasing: queries[(b * dimension)..<((b + 1) * dimension)])
            let largest = query.reduce(Float(0)) { max($0, abs($1)) }
            guard largest > 0, largest.isFinite else { continue }
            let scale = largest / largestValue
            scales[b] = scale
            // A non-finite component (a forward pass that overflowed) scores as 0 here; the
            // float32 re-scoring sees the real value.
            func rounded(_ j: Int) -> Int16 {
                guard j < dimension else { return 0 }
                let v = (query[j] / scale).rounded()
                return v.isNaN ? 0 : Int16(max(-largestValue, min(largestValue, v)))
            }
            for p in 0..<pairs {
                let (even, odd) = (rounded(2 * p), rounded(2 * p + 1))
                quantized[b * pairs + p] = SIMD8(even, odd, even, odd, even, odd, even, odd)
            }
        }
        return QuantizedQueries(pairs: quantized, scales: scales)
    }

    /// Approximate scores of rows `start..<start + count` for every query:
    /// `out[b × count + i]` ≈ dot(query b, row start + i). Whole blocks go to `kernel` (the
    /// fastest this machine runs unless a test asks for another); the rows of a block that the
    /// range's ends cut go to the portable loop.
    public func approximateScores(_ queries: QuantizedQueries, rows start: Int, count: Int,
                                  into out: UnsafeMutableBufferPointer<Float>, kernel: VectorKernel = .best) {
        precondition(start >= 0 && count >= 0 && start + count <= rows, "rows outside the table")
        precondition(out.count >= queries.count * count, "the output holds fewer than queries × rows scores")
        precondition(kernel <= VectorKernel.best, "this machine does not run the \(kernel.rawValue) kernel")
        guard count > 0 else { return }
        let end = start + count
        let firstWhole = (start + Self.blockRows - 1) / Self.blockRows, endWhole = end / Self.blockRows
        guard let level = kernel.level, endWhole > firstWhole else {
            portableScores(queries, rows: start..<end, origin: start, stride: count, into: out.baseAddress!)
            return
        }
        if start < firstWhole * Self.blockRows {
            portableScores(queries, rows: start..<(firstWhole * Self.blockRows), origin: start, stride: count, into: out.baseAddress!)
        }
        if endWhole * Self.blockRows < end {
            portableScores(queries, rows: (endWhole * Self.blockRows)..<end, origin: start, stride: count, into: out.baseAddress!)
        }
        let firstRowOffset = firstWhole * Self.blockRows - start
        blocks.withUnsafeBufferPointer { table in
            scales.withUnsafeBufferPointer { rowScales in
                queries.scales.withUnsafeBufferPointer { queryScales in
                    queries.pairs.withUnsafeBufferPointer { queryPairs in
                        queryPairs.withMemoryRebound(to: Int16.self) { queryValues in
                            withUnsafeTemporaryAllocation(of: UnsafePointer<Int16>?.self, capacity: VectorKernel.int8QueriesPerCall) { queryPointers in
                                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: VectorKernel.int8QueriesPerCall) { outPointers in
                                    var b = 0
                                    while b < queries.count {
                                        let n = min(VectorKernel.int8QueriesPerCall, queries.count - b)
                                        for i in 0..<n {
                                            queryPointers[i] = UnsafePointer(queryValues.baseAddress! + (b + i) * pairs * 8)
                                            outPointers[i] = out.baseAddress! + (b + i) * count + firstRowOffset
                                        }
                                        medley_int8_score_blocks(level, table.baseAddress, rowScales.baseAddress, pairs, firstWhole,
                                                                 endWhole - firstWhole, queryPointers.baseAddress,
                                                                 queryScales.baseAddress! + b, n, outPointers.baseAddress)
                                        b += n
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The portable loop: scores of rows `rows` for every query, row r of query b written to
    /// `out[b × stride + r − origin]`. Queries go two at a time, so each block's bytes are loaded
    /// and widened once per pair.
    private func portableScores(_ queries: QuantizedQueries, rows: Range<Int>, origin: Int, stride: Int,
                                into out: UnsafeMutablePointer<Float>) {
        let blockBytes = pairs * 2 * Self.blockRows
        let firstBlock = rows.lowerBound / Self.blockRows, endBlock = (rows.upperBound - 1) / Self.blockRows + 1
        blocks.withUnsafeBytes { table in
            scales.withUnsafeBufferPointer { rowScales in
                queries.pairs.withUnsafeBufferPointer { queryPairs in
                    var b = 0
                    while b < queries.count {
                        // An odd last query is paired with itself; its second result is dropped.
                        let second = min(b + 1, queries.count - 1)
                        let q0 = queryPairs.baseAddress! + b * pairs, q1 = queryPairs.baseAddress! + second * pairs
                        let s0 = queries.scales[b], s1 = queries.scales[second]
                        for block in firstBlock..<endBlock {
                            let (low0, high0, low1, high1) = Self.blockSums(
                                table.baseAddress! + block * blockBytes, pairs: pairs, q0, q1)
                            let blockScales = UnsafeRawPointer(rowScales.baseAddress! + block * Self.blockRows)
                            let scaleLow = blockScales.loadUnaligned(as: SIMD4<Float>.self)
                            let scaleHigh = blockScales.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
                            let first = block * Self.blockRows
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

    /// One block's integer sums for two queries: rows 0–3 and 4–7 of the block for each.
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

    /// Writes a block's eight scores to the rows of `rows` it covers; row r goes to
    /// `out[r − origin]`.
    @inline(__always)
    private static func store(_ low: SIMD4<Float>, _ high: SIMD4<Float>, blockFirstRow first: Int, rows: Range<Int>,
                              origin: Int, into out: UnsafeMutablePointer<Float>) {
        if first >= rows.lowerBound && first + blockRows <= rows.upperBound {
            let target = UnsafeMutableRawPointer(out + (first - origin))
            target.storeBytes(of: low, as: SIMD4<Float>.self)
            target.storeBytes(of: high, toByteOffset: 16, as: SIMD4<Float>.self)
        } else {
            for lane in 0..<blockRows where rows.contains(first + lane) {
                out[first + lane - origin] = lane < 4 ? low[lane] : high[lane - 4]
            }
        }
    }
}
