import MedleySystem
import Testing
@testable import MedleyModel

@Suite struct Int8TableTests {
    /// A deterministic table with a wide spread of magnitudes per row, an all-zero row and an
    /// odd dimension (the padded pair's second half must score nothing).
    static func table(rows: Int, dimension: Int) -> [Float] {
        var values = (0..<(rows * dimension)).map { i in
            Float((i * 7_919) % 1_000) / 250 - 2 + (i % dimension == 0 ? 3 : 0)
        }
        for j in 0..<dimension { values[5 * dimension + j] = 0 }
        return values
    }

    @Test(arguments: Int8Table.Layout.allCases)
    func valuesAreWithinHalfAStepOfTheRow(layout: Int8Table.Layout) {
        let (rows, d) = (21, 7)
        let values = Self.table(rows: rows, dimension: d)
        let table = Int8Table(values, dimension: d, layout: layout)
        for r in 0..<rows {
            let row = values[(r * d)..<((r + 1) * d)]
            let largest = row.map(abs).max()!
            for j in 0..<d {
                let stored = table.value(row: r, dimension: j)
                #expect(abs(stored - values[r * d + j]) <= largest / 254 * 1.0001, "row \(r), dimension \(j)")
            }
            // The largest magnitude itself is ±127 steps: held to float32 rounding.
            if largest > 0, let j = row.firstIndex(where: { abs($0) == largest }) {
                #expect(abs(abs(table.value(row: r, dimension: j - r * d)) - largest) <= largest * 1e-6)
            }
        }
        #expect((0..<d).allSatisfy { table.value(row: 5, dimension: $0) == 0 })
    }

    /// The kernel's scores equal the dot products of the stored values with the rounded
    /// queries, for any first row and count (blocks cut at both ends) and an odd query count;
    /// and the rounded query costs at most half its step times the stored row's L1 norm.
    @Test(arguments: Int8Table.Layout.allCases, [(0, 21), (3, 9), (8, 8), (13, 1), (1, 19)])
    func approximateScoresAreTheQuantizedProducts(layout: Int8Table.Layout, range: (start: Int, count: Int)) {
        let (rows, d, queryCount) = (21, 7, 3)
        let (start, count) = range
        let table = Int8Table(Self.table(rows: rows, dimension: d), dimension: d, layout: layout)
        let queries: [Float] = (0..<(queryCount * d)).map { Float(($0 * 31) % 17) / 8 - 1 }
        let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: queryCount) }
        var out = [Float](repeating: .nan, count: queryCount * count)
        out.withUnsafeMutableBufferPointer { table.approximateScores(quantized, rows: start, count: count, into: $0) }
        for b in 0..<queryCount {
            let scale = quantized.scales[b]
            for i in 0..<count {
                var expected: Double = 0
                for j in 0..<d {
                    let value = quantized.value(query: b, dimension: j, groups: table.groups, layout: layout)
                    expected += Double(value) * Double(scale) * Double(table.value(row: start + i, dimension: j))
                }
                let exact = (0..<d).reduce(Float(0)) { $0 + queries[b * d + $1] * table.value(row: start + i, dimension: $1) }
                let rowNorm = (0..<d).reduce(Float(0)) { $0 + abs(table.value(row: start + i, dimension: $1)) }
                #expect(abs(Double(out[b * count + i]) - expected) <= 1e-5 * max(1, abs(expected)), "query \(b), row \(start + i)")
                #expect(abs(out[b * count + i] - exact) <= scale / 2 * rowNorm * 1.001 + 1e-5, "query \(b), row \(start + i)")
            }
        }
    }

    /// Queries round to the nearest integer of their scaled values, ties to even, in both
    /// layouts, and the quads' offsets take back the 128 added to each stored byte.
    @Test(arguments: Int8Table.Layout.allCases)
    func queriesRoundToTheNearestStep(layout: Int8Table.Layout) {
        #expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.49, -2.51, 126.5, 0].map(Int8Table.roundedToNearest) == [0, 2, 2, -0, -2, 2, -3, 126, 0])
        let d = 11
        let table = Int8Table(Self.table(rows: 8, dimension: d), dimension: d, layout: layout)
        var rng = SplitMix64(seed: 21)
        let queries = (0..<(3 * d)).map { _ in rng.nextFloat(in: -3...3) }
        let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: 3) }
        for b in 0..<3 {
            let scale = quantized.scales[b]
            for j in 0..<d {
                let want = Int((queries[b * d + j] / scale).rounded(.toNearestOrEven))
                #expect(quantized.value(query: b, dimension: j, groups: table.groups, layout: layout) == want, "query \(b), dimension \(j)")
            }
            if layout == .rowQuads {
                let sum = (0..<d).reduce(0) { $0 + quantized.value(query: b, dimension: $1, groups: table.groups, layout: layout) }
                #expect(Int(quantized.offsets[b]) == -128 * sum)
            }
        }
    }

    /// Each C kernel this machine runs gives the portable loop's scores for its layout to the
    /// bit (the integer sums are exact and the two scale factors are applied in the same
    /// order), for ranges that cut blocks at either end or hold an odd number of whole blocks,
    /// and for query counts on either side of the kernels' four per call.
    @Test(arguments: VectorKernel.available.filter { $0 != .portable })
    func everyKernelGivesThePortableScores(kernel: VectorKernel) throws {
        let layout = try #require(Int8Table.Layout.allCases.first { $0.kernel == kernel })
        // d = 5, 7 and 64 give odd and even numbers of dimension pairs (3, 4, 32) and of
        // groups of four (2, 2, 16).
        for d in [5, 7, 64] {
            let rows = 203
            let table = Int8Table(Self.table(rows: rows, dimension: d), dimension: d, layout: layout)
            for queryCount in [1, 2, 3, 4, 5, 8] {
                let queries: [Float] = (0..<(queryCount * d)).map { Float(($0 * 37) % 23) / 11 - 1 }
                let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: queryCount) }
                for (start, count) in [(0, rows), (3, 29), (8, 24), (16, 8), (5, 7), (0, 200), (9, 194), (16, 48), (32, 171)] {
                    var expected = [Float](repeating: .nan, count: queryCount * count)
                    var actual = expected
                    expected.withUnsafeMutableBufferPointer {
                        table.approximateScores(quantized, rows: start, count: count, into: $0, kernel: .portable)
                    }
                    actual.withUnsafeMutableBufferPointer {
                        table.approximateScores(quantized, rows: start, count: count, into: $0, kernel: kernel)
                    }
                    #expect(actual == expected, "d \(d), \(queryCount) queries, rows \(start)..<\(start + count)")
                }
            }
        }
    }

    /// The fastest kernel's layout is the one tables get by default.
    @Test func theDefaultLayoutIsTheBestKernels() {
        let table = Int8Table(Self.table(rows: 8, dimension: 4), dimension: 4)
        #expect(table.layout == (VectorKernel.best == .avx512VNNI ? .rowQuads : .rowPairs))
    }

    @Test(arguments: Int8Table.Layout.allCases)
    func aZeroQueryScoresZeroAndWritesOnlyItsRows(layout: Int8Table.Layout) {
        let table = Int8Table(Self.table(rows: 40, dimension: 4), dimension: 4, layout: layout)
        let queries = [Float](repeating: 0, count: 4)
        let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: 1) }
        var out = [Float](repeating: -1, count: 36)
        out.withUnsafeMutableBufferPointer {
            table.approximateScores(quantized, rows: 2, count: 34, into: UnsafeMutableBufferPointer(rebasing: $0[0..<34]))
        }
        #expect(Array(out[0..<34]) == [Float](repeating: 0, count: 34))
        #expect(Array(out[34...]) == [-1, -1])
    }

    /// The rounded query stays where a row's integer sum cannot overflow, whatever the
    /// dimension: at 2,048 the row-pairs query's largest component is 127 × 2,048 × it ≤
    /// Int32.max; row quads round queries to bytes, whose unsigned sums stay far below.
    @Test(arguments: Int8Table.Layout.allCases)
    func wideQueriesCannotOverflow(layout: Int8Table.Layout) {
        let d = 2_048
        let row = [Float](repeating: 1, count: d)
        let table = Int8Table(row, dimension: d, layout: layout)
        let query = [Float](repeating: 3, count: d)
        let quantized = query.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: 1) }
        let largest = layout == .rowPairs ? 8_256 : 127
        #expect((0..<d).allSatisfy { quantized.value(query: 0, dimension: $0, groups: table.groups, layout: layout) == largest })
        var out: [Float] = [0]
        out.withUnsafeMutableBufferPointer { table.approximateScores(quantized, rows: 0, count: 1, into: $0) }
        #expect(abs(out[0] - 6_144) <= 6_144 * 1e-4)
    }

    /// The error bound holds for every row of a range and every kernel-independent score: the
    /// float32 dot product plus bias and the approximate score plus bias differ by no more
    /// than it, on rows of very different magnitudes; it is not vacuous (well below the
    /// scores' spread); and a range's terms cover its rows' own.
    @Test(arguments: Int8Table.Layout.allCases, [5, 16, 64])
    func theErrorBoundHoldsForEveryRow(layout: Int8Table.Layout, dimension d: Int) {
        var rng = SplitMix64(seed: UInt64(d))
        let rows = 700
        let values = (0..<(rows * d)).map { i in rng.nextFloat(in: -1...1) * Float(1 + (i / d) % 9) }
        let biases = (0..<rows).map { _ in rng.nextFloat(in: -3...3) }
        let table = Int8Table(values, dimension: d, layout: layout)
        for range in [0..<rows, 3..<517, 256..<512, 600..<601] {
            let terms = table.errorTerms(rows: range)
            for r in range {
                #expect(table.scales[r] <= terms.largestScale)
                let l1 = (0..<d).reduce(Float(0)) { $0 + abs(table.value(row: r, dimension: $1)) }
                #expect(l1 <= terms.largestL1Norm * 1.0001)
            }
            for _ in 0..<8 {
                let query = (0..<d).map { _ in rng.nextFloat(in: -2...2) }
                let quantized = query.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: 1) }
                var approximate = [Float](repeating: .nan, count: range.count)
                approximate.withUnsafeMutableBufferPointer {
                    table.approximateScores(quantized, rows: range.lowerBound, count: range.count, into: $0)
                }
                let bound = query.withUnsafeBufferPointer { terms.bound(query: $0, queryScale: quantized.scales[0]) }
                var largestError = 0.0, spread = (Float.infinity, -Float.infinity)
                for (i, r) in range.enumerated() {
                    let exact = values.withUnsafeBufferPointer { v in
                        query.withUnsafeBufferPointer { ScoringKernels.dot($0.baseAddress!, v.baseAddress! + r * d, d) }
                    } + biases[r]
                    let error = abs(Double(exact) - Double(approximate[i] + biases[r]))
                    #expect(error <= bound, "row \(r): \(error) against \(bound)")
                    largestError = max(largestError, error)
                    spread = (min(spread.0, exact), max(spread.1, exact))
                }
                #expect(bound >= largestError && bound < 0.25 * Double(spread.1 - spread.0) || range.count == 1)
            }
        }
    }

    /// A row with a non-finite value is stored as zeros, and its chunk's bound is infinite, so
    /// no list that could hold it trusts its approximate score.
    @Test func aNonFiniteRowMakesItsChunksBoundInfinite() {
        let d = 4
        var values = [Float](repeating: 0.5, count: 600 * d)
        values[300 * d + 1] = .infinity
        values[301 * d + 2] = .nan
        let table = Int8Table(values, dimension: d)
        #expect((0..<d).allSatisfy { table.value(row: 300, dimension: $0) == 0 && table.value(row: 301, dimension: $0) == 0 })
        let query: [Float] = [1, 1, 1, 1]
        let bound = { (rows: Range<Int>) in
            query.withUnsafeBufferPointer { table.errorTerms(rows: rows).bound(query: $0, queryScale: 1.0 / 127) }
        }
        #expect(bound(256..<512) == .infinity)
        #expect(bound(0..<600) == .infinity)
        #expect(bound(0..<256).isFinite && bound(512..<600).isFinite)
        let nonFiniteQuery: [Float] = [1, .nan, 1, 1]
        #expect(nonFiniteQuery.withUnsafeBufferPointer { table.errorTerms(rows: 0..<256).bound(query: $0, queryScale: 1.0 / 127) } == .infinity)
    }
}
