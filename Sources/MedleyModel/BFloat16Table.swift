/// A bfloat16 copy of the item table for scoring: each float32 keeps its sign, exponent and
/// top 7 mantissa bits (rounded to nearest even), so the table is half the bytes and a pass
/// over it half the memory traffic. A score from it is within about 2⁻⁸ relative of each
/// product, which is why lists are re-scored in float32 (``ItemScorer``) before they are
/// returned.
public struct BFloat16Table: Sendable {
    /// `rows × dimension` bfloat16 values, row-major.
    public let values: [UInt16]
    public let rows: Int
    public let dimension: Int

    public init(_ table: [Float], dimension: Int) {
        precondition(dimension > 0 && table.count % dimension == 0, "the table is not rows × dimension")
        values = table.map(Self.bfloat16)
        rows = table.count / dimension
        self.dimension = dimension
    }

    /// Rounds to the nearest bfloat16 (ties to even); the table holds finite values only.
    @inline(__always)
    static func bfloat16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Writes rows `start..<start + count` as float32 into `out` (`count × dimension`).
    @inline(__always)
    func expand(rows start: Int, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        let n = count * dimension
        precondition(out.count >= n && (start + count) * dimension <= values.count, "rows outside the table")
        values.withUnsafeBufferPointer { v in
            let source = v.baseAddress! + start * dimension
            let target = UnsafeMutableRawPointer(out.baseAddress!)
            var i = 0
            while i + 8 <= n {
                let half = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<UInt16>.self)
                let wide = SIMD8<UInt32>(truncatingIfNeeded: half) &<< 16
                target.storeBytes(of: wide, toByteOffset: i * 4, as: SIMD8<UInt32>.self)
                i += 8
            }
            while i < n {
                target.storeBytes(of: UInt32(source[i]) << 16, toByteOffset: i * 4, as: UInt32.self)
                i += 1
            }
        }
    }
}
