import MedleySystem

/// Training-time dropout of the session encoders (``SessionAttention``, ``SessionGRU``): the
/// rate, and the generator that draws the masks. Serving passes no dropout.
public struct SequenceDropout {
    public var rate: Float
    public var generator: SplitMix64

    public init(rate: Float, generator: SplitMix64) {
        self.rate = rate
        self.generator = generator
    }

    /// A mask of `count` values, each 0 (dropped) or 1 / (1 − rate) (kept).
    mutating func mask(_ count: Int) -> [Float] {
        let keep = 1 / (1 - rate)
        return (0..<count).map { _ in generator.nextFloat(in: 0...1) < rate ? 0 : keep }
    }

    /// Multiplies `values` by a fresh mask when training and returns the mask; returns an empty
    /// mask (and leaves `values` alone) otherwise.
    static func apply(to values: inout [Float], dropout: inout SequenceDropout?) -> [Float] {
        guard dropout != nil else { return [] }
        let mask = dropout!.mask(values.count)
        multiply(&values, by: mask)
        return mask
    }

    /// `values ⊙= mask`; an empty mask (no dropout) changes nothing.
    static func multiply(_ values: inout [Float], by mask: [Float]) {
        guard !mask.isEmpty else { return }
        for i in values.indices { values[i] *= mask[i] }
    }
}
