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

    @Test func valuesAreWithinHalfAStepOfTheRow() {
        let (rows, d) = (21, 7)
        let values = Self.table(rows: rows, dimension: d)
        let table = Int8Table(values, dimension: d)
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
    /// queries, for any first row and count (blocks cut at both ends) and an odd query count.
    @Test(arguments: [(0, 21), (3, 9), (8, 8), (13, 1), (1, 19)])
    func approximateScoresAreTheQuantizedProducts(start: Int, count: Int) {
        let (rows, d, queryCount) = (21, 7, 3)
        let table = Int8Table(Self.table(rows: rows, dimension: d), dimension: d)
        let queries: [Float] = (0..<(queryCount * d)).map { Float(($0 * 31) % 17) / 8 - 1 }
        let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: queryCount) }
        var out = [Float](repeating: .nan, count: queryCount * count)
        out.withUnsafeMutableBufferPointer { table.approximateScores(quantized, rows: start, count: count, into: $0) }
        for b in 0..<queryCount {
            let scale = quantized.scales[b]
            for i in 0..<count {
                var expected: Double = 0
                for j in 0..<d {
                    let pair = quantized.pairs[b * table.pairs + j / 2]
                    expected += Double(pair[j % 2]) * Double(scale) * Double(table.value(row: start + i, dimension: j))
                }
                let exact = (0..<d).reduce(Float(0)) { $0 + queries[b * d + $1] * table.value(row: start + i, dimension: $1) }
                #expect(abs(Double(out[b * count + i]) - expected) <= 1e-5 * max(1, abs(expected)), "query \(b), row \(start + i)")
                // Rounding the query to int16 costs far less than the table's int8 step.
                #expect(abs(out[b * count + i] - exact) <= 1e-3, "query \(b), row \(start + i)")
            }
        }
    }

    /// Every kernel this machine runs gives the portable loop's scores to the bit (the integer
    /// sums are exact and the two scale factors are applied in the same order), for ranges that
    /// cut blocks at either end or hold an odd number of whole blocks, and for query counts on
    /// either side of the C kernels' four per call.
    @Test(arguments: VectorKernel.available.filter { $0 != .portable })
    func everyKernelGivesThePortableScores(kernel: VectorKernel) {
        // d = 5 and 7 give an odd and an even number of dimension pairs (3 and 4).
        for d in [5, 7, 64] {
            let rows = 203
            let table = Int8Table(Self.table(rows: rows, dimension: d), dimension: d)
            for queryCount in [1, 2, 3, 4, 5, 8] {
                let queries: [Float] = (0..<(queryCount * d)).map { Float(($0 * 37) % 23) / 11 - 1 }
                let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: queryCount) }
                for (start, count) in [(0, rows), (3, 29), (8, 24), (16, 8), (5, 7), (0, 200), (9, 194)] {
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

    @Test func aZeroQueryScoresZeroAndWritesOnlyItsRows() {
        let table = Int8Table(Self.table(rows: 16, dimension: 4), dimension: 4)
        let queries = [Float](repeating: 0, count: 4)
        let quantized = queries.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: 1) }
        var out = [Float](repeating: -1, count: 12)
        out.withUnsafeMutableBufferPointer {
            table.approximateScores(quantized, rows: 2, count: 10, into: UnsafeMutableBufferPointer(rebasing: $0[0..<10]))
        }
        #expect(Array(out[0..<10]) == [Float](repeating: 0, count: 10))
        #expect(Array(out[10...]) == [-1, -1])
    }

    /// The rounded query stays where a row's integer sum cannot overflow, whatever the
    /// dimension: at 2,048 the largest component is 127 × 2,048 × it ≤ Int32.max.
    @Test func wideQueriesCannotOverflow() {
        let d = 2_048
        let row = [Float](repeating: 1, count: d)
        let table = Int8Table(row, dimension: d)
        let query = [Float](repeating: 3, count: d)
        let quantized = query.withUnsafeBufferPointer { table.quantize(queries: $0, queryCount: 1) }
        #expect(quantized.pairs.allSatisfy { $0[0] == 8_256 && $0[1] == 8_256 })
        var out: [Float] = [0]
        out.withUnsafeMutableBufferPointer { table.approximateScores(quantized, rows: 0, count: 1, into: $0) }
        #expect(abs(out[0] - 6_144) <= 6_144 * 1e-4)
    }
}
