import CScoringKernels

/// An item index with its score.
public struct ScoredItem: Sendable, Equatable, Hashable {
    /// The item's row in the model's item table.
    public var index: Int
    /// The score (a logit; higher is better).
    public var score: Float

    public init(index: Int, score: Float) {
        self.index = index
        self.score = score
    }

    /// The ranking order used everywhere: higher score first, and on equal scores the lower
    /// item index first, so that results are deterministic.
    @inline(__always)
    public static func ranksBefore(_ a: ScoredItem, _ b: ScoredItem) -> Bool {
        a.score > b.score || (a.score == b.score && a.index < b.index)
    }
}

/// Keeps the best `capacity` of a stream of scored items (exact, not approximate).
///
/// A bounded min-heap whose root is the worst item kept: a candidate that does not beat the
/// root costs one comparison, so a pass over n scores is O(n) in the common case and
/// O(n log k) at worst. NaN scores are never kept. Items are kept as ranking keys
/// (``rankingKey(index:score:)``), so the heap's comparisons are single integer comparisons.
public struct TopKAccumulator: Sendable {
    /// The number of items kept at most.
    public let capacity: Int
    private var heap: [UInt64] = []
    /// Scores below this are not offered by the passes over scores
    /// (``offer(scores:firstIndex:excluding:filter:kernel:)`` and its biased form): for a
    /// caller that knows no such item could matter (``ItemScorer``'s int8 candidates). Items
    /// offered one at a time are not held to it.
    var passFloor: Float = -.infinity

    public init(capacity: Int) {
        precondition(capacity >= 0, "negative top-K capacity")
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    /// The number of items currently kept.
    public var count: Int { heap.count }

    /// An integer that orders items as ``ScoredItem/ranksBefore(_:_:)`` does (the greater key
    /// ranks first): the score's bits mapped to an unsigned integer in the floats' order (−0
    /// as +0, which compare equal), then `UInt32.max − index`, so that of equal scores the
    /// lower index ranks first. Rows are below 2³² and the score is not NaN.
    @inline(__always)
    static func rankingKey(index: Int, score: Float) -> UInt64 {
        let bits = (score + 0).bitPattern  // −0 + 0 is +0
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 32 | UInt64(UInt32.max - UInt32(truncatingIfNeeded: index))
    }

    /// The item a ranking key stands for.
    @inline(__always)
    static func item(rankingKey key: UInt64) -> ScoredItem {
        let ordered = UInt32(truncatingIfNeeded: key >> 32)
        let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
        return ScoredItem(index: Int(UInt32.max - UInt32(truncatingIfNeeded: key)), score: Float(bitPattern: bits))
    }

    /// Whether a candidate with this score and index would be kept right now.
    @inline(__always)
    public func wouldAccept(index: Int, score: Float) -> Bool {
        acceptedKey(index: index, score: score) != nil
    }

    /// The candidate's ranking key if it would be kept right now; nil if not.
    @inline(__always)
    private func acceptedKey(index: Int, score: Float) -> UInt64? {
        if score.isNaN || capacity == 0 { return nil }
        let key = Self.rankingKey(index: index, score: score)
        return heap.count < capacity || key > heap[0] ? key : nil
    }

    /// Offers one candidate.
    @inline(__always)
    public mutating func offer(index: Int, score: Float) {
        guard let key = acceptedKey(index: index, score: score) else { return }
        insert(key, index: index)
    }

    /// Offers one candidate unless `excluded` holds it. The exclusion lookup runs only for a
    /// candidate that would be kept, and hashes only those `filter`
    /// (`ExclusionFilter(excluded)`) cannot rule out.
    @inline(__always)
    public mutating func offer(index: Int, score: Float, excluding excluded: Set<Int>, filter: ExclusionFilter) {
        guard let key = acceptedKey(index: index, score: score),
              !(filter.mayContain(index) && excluded.contains(index)) else { return }
        insert(key, index: index)
    }

    /// Keeps the candidate `index` whose ``acceptedKey(index:score:)`` is `key`.
    @inline(__always)
    private mutating func insert(_ key: UInt64, index: Int) {
        precondition(index >= 0 && index <= Int(UInt32.max), "item row \(index) outside 0..<2³²")
        if heap.count < capacity {
            heap.append(key)
            siftUp(heap.count - 1)
        } else {
            siftDown(key)
        }
    }

    /// Offers `scores[j]` as item `firstIndex + j` for every j, skipping excluded items.
    ///
    /// Each score is compared with a local copy of the threshold (the worst score kept); only
    /// a score that could enter goes through the heap, so a pass costs little more than
    /// reading the scores. NaN compares false and never enters. `kernel` finds the scores
    /// that pass the threshold (the fastest this machine runs unless a test asks for another).
    /// `filter`, when given, is `ExclusionFilter(excluded)`, built once for many passes.
    public mutating func offer(scores: UnsafeBufferPointer<Float>, firstIndex: Int, excluding excluded: Set<Int>,
                               filter: ExclusionFilter? = nil, kernel: VectorKernel = .best) {
        guard let s = scores.baseAddress else { return }
        let filter = filter ?? ExclusionFilter(excluded)
        let floor = Swift.max(passFloor, entryFloor(count: scores.count, firstIndex: firstIndex, excluding: excluded) { rank in
            Self.floor(scores: s, biases: nil, count: scores.count, rank: rank, kernel: kernel)
        })
        if let level = kernel.level {
            scan(count: scores.count, firstIndex: firstIndex, excluding: excluded, filter: filter, floor: floor, one: { s[$0] }) { from, threshold in
                medley_first_score_at_least(level, s, nil, from, scores.count, threshold)
            }
            return
        }
        scan(count: scores.count, firstIndex: firstIndex, excluding: excluded, filter: filter, floor: floor,
             eight: { UnsafeRawPointer(s + $0).loadUnaligned(as: SIMD8<Float>.self) },
             one: { s[$0] })
    }

    /// Offers `scores[j] + biases[j]` as item `firstIndex + j` for every j, skipping excluded
    /// items: the item scorer's dot products with each item's bias added as they are read,
    /// rather than in a pass of their own that writes the scores back.
    public mutating func offer(scores: UnsafeBufferPointer<Float>, adding biases: UnsafeBufferPointer<Float>,
                               firstIndex: Int, excluding excluded: Set<Int>, filter: ExclusionFilter? = nil,
                               kernel: VectorKernel = .best) {
        precondition(biases.count == scores.count, "one bias per score")
        guard let s = scores.baseAddress, let b = biases.baseAddress else { return }
        let filter = filter ?? ExclusionFilter(excluded)
        let floor = Swift.max(passFloor, entryFloor(count: scores.count, firstIndex: firstIndex, excluding: excluded) { rank in
            Self.floor(scores: s, biases: b, count: scores.count, rank: rank, kernel: kernel)
        })
        if let level = kernel.level {
            scan(count: scores.count, firstIndex: firstIndex, excluding: excluded, filter: filter, floor: floor, one: { s[$0] + b[$0] }) { from, threshold in
                medley_first_score_at_least(level, s, b, from, scores.count, threshold)
            }
            return
        }
        scan(count: scores.count, firstIndex: firstIndex, excluding: excluded, filter: filter, floor: floor,
             eight: {
                 UnsafeRawPointer(s + $0).loadUnaligned(as: SIMD8<Float>.self)
                     + UnsafeRawPointer(b + $0).loadUnaligned(as: SIMD8<Float>.self)
             },
             one: { s[$0] + b[$0] })
    }

    /// The portable pass both `offer`s share. Sixteen scores at a time: two vector comparisons
    /// with the threshold rule out a chunk holding no candidate, which once the heap is full is
    /// nearly every chunk; a chunk with one goes through the heap score by score, in index order.
    /// (Two `SIMD8`s, not one `SIMD16`: Swift compiles `any` over the latter to a loop through
    /// memory, several times slower than testing each score.)
    @inline(__always)
    private mutating func scan(count n: Int, firstIndex: Int, excluding excluded: Set<Int>, filter: ExclusionFilter,
                               floor: Float, eight: (Int) -> SIMD8<Float>, one: (Int) -> Float) {
        guard capacity > 0 else { return }
        var threshold = Swift.max(floor, currentThreshold)
        var j = 0
        while j + 16 <= n {
            let bound = SIMD8(repeating: threshold)
            if any((eight(j) .>= bound) .| (eight(j + 8) .>= bound)) {
                for l in j..<(j + 16) {
                    let score = one(l)
                    if score >= threshold {
                        offer(index: firstIndex &+ l, score: score, excluding: excluded, filter: filter)
                        threshold = Swift.max(floor, currentThreshold)
                    }
                }
            }
            j += 16
        }
        while j < n {
            let score = one(j)
            if score >= threshold {
                offer(index: firstIndex &+ j, score: score, excluding: excluded, filter: filter)
                threshold = Swift.max(floor, currentThreshold)
            }
            j += 1
        }
    }

    /// The pass with a C kernel: `next(from, threshold)` is the first index from `from` whose
    /// score reaches the threshold (or `n`); each such score goes through the heap, in index
    /// order, and the search goes on after it with the heap's new threshold.
    @inline(__always)
    private mutating func scan(count n: Int, firstIndex: Int, excluding excluded: Set<Int>, filter: ExclusionFilter,
                               floor: Float, one: (Int) -> Float, next: (_ from: Int, _ threshold: Float) -> Int) {
        guard capacity > 0 else { return }
        var j = next(0, Swift.max(floor, currentThreshold))
        while j < n {
            offer(index: firstIndex &+ j, score: one(j), excluding: excluded, filter: filter)
            j = next(j + 1, Swift.max(floor, currentThreshold))
        }
    }

    /// Lanes a tile's scores are grouped into for the floor (``entryFloor(count:firstIndex:excluding:floor:)``).
    static let floorLanes = Int(MEDLEY_SCORE_LANES)

    /// Excluded rows counted at most per tile: past this the floor is not taken.
    static let floorExclusionLimit = 1_024

    /// A score below which no item of a tile can be among the best `capacity` items, or −∞.
    ///
    /// A list that is not yet full would take every score of the tile into its heap until it
    /// fills, and then most of the scores that beat its slowly rising worst: about
    /// capacity × (1 + ln(n / capacity)) sifts for n random scores. Grouped into 128 disjoint
    /// lanes (score j in lane j mod 128), the `capacity`-th largest lane maximum is reached by
    /// at least `capacity` items of different lanes, so no item below it can be kept; an
    /// excluded row can be one lane's maximum, so the floor goes one lane lower for each
    /// excluded row of the tile. Only scores at or above it are offered (about `capacity`
    /// items on random scores once a tile is several times the lanes), and the lists stay
    /// exact. A full list's own worst is nearly always higher, so it is not taken then.
    /// `floor(rank)` is ``floor(scores:biases:count:rank:kernel:)`` of the tile. Not taken
    /// under a ``passFloor`` either: a list cut by one seldom fills, so the lanes' floor would be
    /// work for nothing.
    @inline(__always)
    private func entryFloor(count n: Int, firstIndex: Int, excluding excluded: Set<Int>, floor: (Int) -> Float) -> Float {
        guard capacity > 0, heap.count < capacity, n >= Self.floorLanes, passFloor == -.infinity else { return -.infinity }
        var rank = capacity
        if !excluded.isEmpty {
            guard excluded.count <= Self.floorExclusionLimit else { return -.infinity }
            let tile = firstIndex..<(firstIndex + n)
            for row in excluded where tile.contains(row) { rank += 1 }
        }
        return rank <= Self.floorLanes ? floor(rank) : -.infinity
    }

    /// The `rank`-th largest (1…``floorLanes``) of the lanes' maxima of `scores[j] + biases[j]`
    /// (or `scores[j]`), lane j mod ``floorLanes``: −∞ for a lane with no score; NaN never counts.
    static func floor(scores s: UnsafePointer<Float>, biases b: UnsafePointer<Float>?, count n: Int, rank: Int,
                      kernel: VectorKernel) -> Float {
        precondition(rank >= 1 && rank <= floorLanes, "rank \(rank) of \(floorLanes) lanes")
        if let level = kernel.level { return medley_score_floor(level, s, b, n, rank) }
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: floorLanes) { lanes in
            lanes.initialize(repeating: -.infinity)
            for j in 0..<n {
                let x = b.map { s[j] + $0[j] } ?? s[j]
                if x > lanes[j % floorLanes] { lanes[j % floorLanes] = x }
            }
            return largest(rank, of: lanes)
        }
    }

    /// The `rank`-th largest of `values` (1 is the largest; no NaN), reordering them: Wirth's
    /// selection, partitions around a pivot until the position `count − rank` is settled.
    static func largest(_ rank: Int, of values: UnsafeMutableBufferPointer<Float>) -> Float {
        precondition(rank >= 1 && rank <= values.count, "rank \(rank) of \(values.count) values")
        let k = values.count - rank
        var low = 0, high = values.count - 1
        while low < high {
            let pivot = values[k]
            var i = low, j = high
            repeat {
                while values[i] < pivot { i += 1 }
                while pivot < values[j] { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            } while i <= j
            if j < k { low = i }
            if k < i { high = j }
        }
        return values[k]
    }

    /// The lowest score that can still enter: -infinity until the heap is full.
    private var currentThreshold: Float {
        heap.count < capacity ? -.infinity : Self.item(rankingKey: heap[0]).score
    }

    /// The score of the worst item kept, or nil when nothing is kept.
    var lowestKeptScore: Float? {
        heap.isEmpty ? nil : Self.item(rankingKey: heap[0]).score
    }

    /// Calls `body` with each item kept, in no particular order: for a caller that ranks them
    /// again (re-scoring candidates, merging lists), which a sort would only slow down.
    @inline(__always)
    public func forEachUnordered(_ body: (ScoredItem) -> Void) {
        for key in heap { body(Self.item(rankingKey: key)) }
    }

    /// The items kept, best first (see ``ScoredItem/ranksBefore(_:_:)``).
    public func sorted() -> [ScoredItem] {
        // Ascending without a closure (the specialised comparison of integers), read backwards:
        // a sort through `>` cost a request at 3 × 5k items a twelfth of its worker's time.
        var keys = heap
        keys.sort()
        return keys.reversed().map { Self.item(rankingKey: $0) }
    }

    // The heap is ordered so that the root has the smallest key: it ranks after every other
    // element. Both sifts move a hole rather than swapping.
    private mutating func siftUp(_ start: Int) {
        heap.withUnsafeMutableBufferPointer { h in
            let moving = h[start]
            var child = start
            while child > 0 {
                let parent = (child - 1) / 2
                guard moving < h[parent] else { break }
                h[child] = h[parent]
                child = parent
            }
            h[child] = moving
        }
    }

    /// Replaces the root with `key` and restores the order. (Inlined into every pass that
    /// offers scores: a call per entering item cost the int8 pass about 2 %.)
    @inline(__always)
    private mutating func siftDown(_ key: UInt64) {
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < n else { break }
                let right = left + 1
                let child = right < n && h[right] < h[left] ? right : left
                guard h[child] < key else { break }
                h[parent] = h[child]
                parent = child
            }
            h[parent] = key
        }
    }
}

/// A 64-bit filter over an exclusion set: a row whose bit (row mod 64) is clear is not in the
/// set, which saves hashing it. A set of more than 32 rows sets most bits, so every row of it
/// is looked up.
public struct ExclusionFilter: Sendable {
    private let bits: UInt64

    public init(_ excluded: Set<Int>) {
        bits = excluded.count > 32 ? .max : excluded.reduce(0) { $0 | 1 << UInt64($1 & 63) }
    }

    @inline(__always)
    public func mayContain(_ row: Int) -> Bool {
        bits >> UInt64(row & 63) & 1 != 0
    }
}

/// Exact top-K of a whole score array, by a full sort. The reference the fast path is tested
/// against; not for serving.
public func bruteForceTopK(scores: [Float], firstIndex: Int = 0, k: Int, excluding excluded: Set<Int> = []) -> [ScoredItem] {
    let all = scores.enumerated()
        .map { ScoredItem(index: firstIndex + $0.offset, score: $0.element) }
        .filter { !$0.score.isNaN && !excluded.contains($0.index) }
        .sorted(by: ScoredItem.ranksBefore)
    return Array(all.prefix(k))
}
