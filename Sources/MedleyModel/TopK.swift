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
/// O(n log k) at worst. NaN scores are never kept.
public struct TopKAccumulator: Sendable {
    /// The number of items kept at most.
    public let capacity: Int
    private var heap: [ScoredItem] = []

    public init(capacity: Int) {
        precondition(capacity >= 0, "negative top-K capacity")
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    /// The number of items currently kept.
    public var count: Int { heap.count }

    /// Whether a candidate with this score and index would be kept right now.
    @inline(__always)
    public func wouldAccept(index: Int, score: Float) -> Bool {
        if score.isNaN || capacity == 0 { return false }
        if heap.count < capacity { return true }
        return ScoredItem.ranksBefore(ScoredItem(index: index, score: score), heap[0])
    }

    /// Offers one candidate.
    @inline(__always)
    public mutating func offer(index: Int, score: Float) {
        guard wouldAccept(index: index, score: score) else { return }
        let item = ScoredItem(index: index, score: score)
        if heap.count < capacity {
            heap.append(item)
            siftUp(heap.count - 1)
        } else {
            heap[0] = item
            siftDown(0)
        }
    }

    /// Offers `scores[j]` as item `firstIndex + j` for every j, skipping excluded items.
    ///
    /// Each score is compared with a local copy of the threshold (the worst score kept); only
    /// a score that could enter goes through the heap, so a pass costs little more than
    /// reading the scores. NaN compares false and never enters. `kernel` finds the scores
    /// that pass the threshold (the fastest this machine runs unless a test asks for another).
    public mutating func offer(scores: UnsafeBufferPointer<Float>, firstIndex: Int, excluding excluded: Set<Int>,
                               kernel: VectorKernel = .best) {
        guard let s = scores.baseAddress else { return }
        if let level = kernel.level {
            scan(count: scores.count, firstIndex: firstIndex, excluding: excluded, one: { s[$0] }) { from, threshold in
                medley_first_score_at_least(level, s, nil, from, scores.count, threshold)
            }
            return
        }
        scan(count: scores.count, firstIndex: firstIndex, excluding: excluded,
             eight: { UnsafeRawPointer(s + $0).loadUnaligned(as: SIMD8<Float>.self) },
             one: { s[$0] })
    }

    /// Offers `scores[j] + biases[j]` as item `firstIndex + j` for every j, skipping excluded
    /// items: the item scorer's dot products with each item's bias added as they are read,
    /// rather than in a pass of their own that writes the scores back.
    public mutating func offer(scores: UnsafeBufferPointer<Float>, adding biases: UnsafeBufferPointer<Float>,
                               firstIndex: Int, excluding excluded: Set<Int>, kernel: VectorKernel = .best) {
        precondition(biases.count == scores.count, "one bias per score")
        guard let s = scores.baseAddress, let b = biases.baseAddress else { return }
        if let level = kernel.level {
            scan(count: scores.count, firstIndex: firstIndex, excluding: excluded, one: { s[$0] + b[$0] }) { from, threshold in
                medley_first_score_at_least(level, s, b, from, scores.count, threshold)
            }
            return
        }
        scan(count: scores.count, firstIndex: firstIndex, excluding: excluded,
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
    private mutating func scan(count n: Int, firstIndex: Int, excluding excluded: Set<Int>,
                               eight: (Int) -> SIMD8<Float>, one: (Int) -> Float) {
        guard capacity > 0 else { return }
        var threshold = currentThreshold
        var j = 0
        while j + 16 <= n {
            let bound = SIMD8(repeating: threshold)
            if any((eight(j) .>= bound) .| (eight(j + 8) .>= bound)) {
                for l in j..<(j + 16) {
                    let score = one(l)
                    if score >= threshold {
                        offerChecked(index: firstIndex &+ l, score: score, excluded: excluded)
                        threshold = currentThreshold
                    }
                }
            }
            j += 16
        }
        while j < n {
            let score = one(j)
            if score >= threshold {
                offerChecked(index: firstIndex &+ j, score: score, excluded: excluded)
                threshold = currentThreshold
            }
            j += 1
        }
    }

    /// The pass with a C kernel: `next(from, threshold)` is the first index from `from` whose
    /// score reaches the threshold (or `n`); each such score goes through the heap, in index
    /// order, and the search goes on after it with the heap's new threshold.
    @inline(__always)
    private mutating func scan(count n: Int, firstIndex: Int, excluding excluded: Set<Int>, one: (Int) -> Float,
                               next: (_ from: Int, _ threshold: Float) -> Int) {
        guard capacity > 0 else { return }
        var j = next(0, currentThreshold)
        while j < n {
            offerChecked(index: firstIndex &+ j, score: one(j), excluded: excluded)
            j = next(j + 1, currentThreshold)
        }
    }

    /// The lowest score that can still enter: -infinity until the heap is full.
    private var currentThreshold: Float {
        heap.count < capacity ? -.infinity : heap[0].score
    }

    @inline(__always)
    private mutating func offerChecked(index: Int, score: Float, excluded: Set<Int>) {
        // The exclusion lookup runs only for candidates that would enter the heap.
        if wouldAccept(index: index, score: score) && (excluded.isEmpty || !excluded.contains(index)) {
            offer(index: index, score: score)
        }
    }

    /// The items kept, best first (see ``ScoredItem/ranksBefore(_:_:)``).
    public func sorted() -> [ScoredItem] {
        heap.sorted(by: ScoredItem.ranksBefore)
    }

    // The heap is ordered so that the root ranks after (is worse than) every other element.
    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard ScoredItem.ranksBefore(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let n = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < n else { return }
            var worst = left
            let right = left + 1
            if right < n && ScoredItem.ranksBefore(heap[left], heap[right]) { worst = right }
            guard ScoredItem.ranksBefore(heap[parent], heap[worst]) else { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
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
