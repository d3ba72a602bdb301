import Testing

@testable import MedleyService

@Suite("Bounded ring")
struct BoundedRingTests {
    @Test func holdsTheNewestElementsInOrderAcrossEveryWrap() {
        for capacity in 1...5 {
            var ring = BoundedRing<Int>(capacity: capacity)
            for n in 0..<(4 * capacity + 3) {
                let dropped = ring.append(n)
                // The element dropped is exactly the one that fell out of the window.
                #expect(dropped == (n >= capacity ? n - capacity : nil), "capacity \(capacity), append \(n)")
                #expect(Array(ring) == Array(max(0, n + 1 - capacity)...n), "capacity \(capacity) after \(n + 1) appends")
                #expect(ring.count == min(n + 1, capacity))
                #expect(ring.first == max(0, n + 1 - capacity) && ring.last == n)
            }
        }
    }

    @Test func emptyingKeepsTheBoundAndStartsTheOrderAgain() {
        var ring = BoundedRing<Int>(capacity: 3)
        for n in 0..<5 { ring.append(n) }
        ring.removeAll()
        #expect(ring.isEmpty)
        #expect(ring.append(10) == nil)
        #expect(ring.append(11) == nil)
        #expect(ring.append(12) == nil)
        #expect(ring.append(13) == 10)
        #expect(Array(ring) == [11, 12, 13])
    }

    @Test func ringsWithTheSameElementsAreEqualWhereverTheyWrap() {
        var wrapped = BoundedRing<Int>(capacity: 3)
        for n in 0..<5 { wrapped.append(n) }
        var straight = BoundedRing<Int>(capacity: 3)
        for n in 2..<5 { straight.append(n) }
        #expect(wrapped == straight)
        straight.append(5)
        #expect(wrapped != straight)
    }
}
