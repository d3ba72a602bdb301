import Testing

@testable import MedleyService

/// Recommend requests held behind ingests of their users, placed in buckets of user ids.
@Suite struct UserOrderingTests {
    /// Requests held behind ingests are released once every ingest of their user finished:
    /// in arrival order per user, users in the order of their ids' bytes, whatever the order given.
    @Test func heldRequestsAreReleasedPerUserInArrivalOrderUsersInByteOrder() {
        var ordering = UserOrdering<String>()
        let users = ["carol", "alice", "bob", "dave"]
        #expect(Set(users.map(UserOrdering<String>.bucket(of:))).count == users.count)
        ordering.ingestStarted(userIDs: users, ingest: 1)
        ordering.ingestStarted(userIDs: ["dave"], ingest: 2)
        #expect(!ordering.mustHold("erin"))
        for user in users {
            #expect(ordering.mustHold(user))
            ordering.hold("\(user)-1", for: user)
            ordering.hold("\(user)-2", for: user)
        }
        #expect(ordering.heldCount == 8)
        let released = ordering.ingestFinished(1)
        #expect(released == ["alice-1", "alice-2", "bob-1", "bob-2", "carol-1", "carol-2"])
        // dave had a second ingest in flight.
        #expect(ordering.mustHold("dave") && !ordering.mustHold("alice") && ordering.heldCount == 2)
        #expect(!ordering.isIdle)
        #expect(ordering.ingestFinished(2) == ["dave-1", "dave-2"])
        #expect(ordering.isIdle)
    }

    @Test func aUserTwiceInOneIngestIsFreeOnceItFinishes() {
        var ordering = UserOrdering<Int>()
        ordering.ingestStarted(userIDs: ["ann", "ann", "ann"], ingest: 1)
        ordering.hold(1, for: "ann")
        #expect(ordering.ingestFinished(1) == [1])
        #expect(ordering.isIdle && !ordering.mustHold("ann"))
    }

    /// Two users in one bucket: a request for one waits for the other's ingest too, never
    /// longer.
    @Test func aRequestWaitsBehindAnotherUserOfItsBucketUntilThatIngestFinishes() throws {
        var firstIn: [Int: String] = [:]
        var pair: (String, String)?
        for index in 0..<1_000_000 where pair == nil {
            let id = "user-\(index)"
            let bucket = UserOrdering<Int>.bucket(of: id)
            if let other = firstIn[bucket] { pair = (other, id) } else { firstIn[bucket] = id }
        }
        let (a, b) = try #require(pair)
        var ordering = UserOrdering<String>()
        ordering.ingestStarted(userIDs: [a], ingest: 1)
        #expect(ordering.mustHold(b))
        ordering.hold("\(b)-1", for: b)
        ordering.ingestStarted(userIDs: [b], ingest: 2)
        ordering.hold("\(b)-2", for: b)
        // The first request waited for a's ingest only; the second for b's own.
        #expect(ordering.ingestFinished(1) == ["\(b)-1"])
        #expect(ordering.ingestFinished(2) == ["\(b)-2"])
        #expect(ordering.isIdle)
    }

    /// A request waits for the ingests before it, not for those of its user that start after
    /// it: a user whose events keep arriving still gets answers.
    @Test func laterIngestsOfTheUserDoNotProlongTheWait() {
        var ordering = UserOrdering<String>()
        ordering.ingestStarted(userIDs: ["ann"], ingest: 1)
        ordering.hold("first", for: "ann")
        ordering.ingestStarted(userIDs: ["ann"], ingest: 2)
        #expect(ordering.ingestFinished(1) == ["first"])
        #expect(ordering.mustHold("ann"))
        ordering.hold("second", for: "ann")
        ordering.ingestStarted(userIDs: ["ann"], ingest: 3)
        #expect(ordering.ingestFinished(2) == ["second"])
        #expect(ordering.ingestFinished(3).isEmpty)
        #expect(ordering.isIdle)
    }

    @Test func bucketsSpreadUserIDs() {
        let buckets = (0..<65_536).map { UserOrdering<Int>.bucket(of: "user-\($0)") }
        #expect(buckets.allSatisfy { (0..<UserOrdering<Int>.bucketCount).contains($0) })
        // Uniform hashing fills 1 - 1/e of the buckets (63 %).
        #expect(Set(buckets).count > 40_000)
    }
}
