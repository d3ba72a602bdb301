/// The newest `capacity` elements appended, oldest first, in a ring: once full, an append
/// overwrites the oldest element in place, so keeping a session at its bound moves nothing
/// (an array dropping its first element moved every other one, a fifth of durable ingest's
/// time in a profile, BENCHMARKS.md).
///
/// Invariant: `storage.count <= capacity`; while `storage.count < capacity` the elements are
/// `storage` in order and `start` is 0; once full, the oldest is `storage[start]` and the
/// order runs from `start` to the end and on from 0 to `start - 1`.
struct BoundedRing<Element> {
    let capacity: Int
    private var storage: [Element] = []
    private var start = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a ring holds at least one element")
        self.capacity = capacity
    }

    /// Appends `element`; when the ring was full, returns the oldest element, which it dropped.
    @discardableResult
    mutating func append(_ element: Element) -> Element? {
        guard storage.count == capacity else {
            storage.append(element)
            return nil
        }
        let dropped = storage[start]
        storage[start] = element
        start = start + 1 == capacity ? 0 : start + 1
        return dropped
    }

    /// Empties the ring, keeping its storage for the next elements.
    mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        start = 0
    }
}

extension BoundedRing: RandomAccessCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { storage.count }

    /// The `position`-th oldest element.
    subscript(position: Int) -> Element {
        precondition(position >= 0 && position < storage.count, "ring index \(position) out of 0..<\(storage.count)")
        let physical = start + position
        return storage[physical < storage.count ? physical : physical - storage.count]
    }
}

extension BoundedRing: Sendable where Element: Sendable {}

extension BoundedRing: Equatable where Element: Equatable {
    /// Rings are equal when they hold the same elements in the same order, wherever they wrap.
    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.capacity == rhs.capacity && lhs.elementsEqual(rhs)
    }
}
