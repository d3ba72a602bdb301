/// The rank rule of the trainer's validation and fits, the evaluation's (design.md): the number
/// of items scored above the target plus half the number tied with it, the target itself not
/// counted (0 is the top).
enum TargetRank {
    /// The rank from counts over items that include the target, which `tied` counts.
    @inline(__always)
    static func rank(above: Int, tiedIncludingTarget tied: Int) -> Double {
        Double(above) + Double(tied - 1) / 2
    }

    /// The rank of `targetScore` among `scores`, which hold the target's own score once.
    @inline(__always)
    static func rank(of targetScore: Float, among scores: some Sequence<Float>) -> Double {
        var above = 0, tied = 0
        for score in scores {
            if score > targetScore { above += 1 } else if score == targetScore { tied += 1 }
        }
        return rank(above: above, tiedIncludingTarget: tied)
    }
}
