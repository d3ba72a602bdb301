import Foundation
import MedleyModel
import MedleyProtocol
import MedleyTestSupport
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyEventLog
@testable import MedleyService
@testable import MedleySystem

@Suite("health while the event log cannot be written", .serialized)
struct LogFailureHealthTests {
    @Test func anUnwritableLogMakesHealthDegraded() throws {
        let directory = try ServiceFixtures.temporaryDirectory()
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: directory) {
            // Every batch opens a new segment, so a vanished directory fails the next one.
            $0.eventLog.maxSegmentBytes = SegmentFormat.headerSize + 1
        }
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        let now = ServiceFixtures.nowMs
        #expect(try client.ingest([ServiceFixtures.event(user: "a", item: "m1", domain: "music", at: now)]).accepted == 1)

        try FileManager.default.removeItem(atPath: directory)
        for index in 0..<20 {
            do {
                _ = try client.ingest([ServiceFixtures.event(user: "a", item: "m\(index)", domain: "music", at: now)])
                Issue.record("an ingest was acknowledged without a log directory")
            } catch ServiceClientError.service(let error) {
                #expect(error.code == .unavailable)
            }
        }
        let health = try client.health()
        #expect(health.status == .degraded)
        #expect(health.detail.contains("event log cannot be written"))

        // Put the directory back so the server can stop cleanly.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    @Test func aRepeatedLineIsLoggedOncePerIntervalWithTheCountHeldBack() {
        var line = RepeatedLogLine(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(line.admit(at: start) == 0)
        for second in 1...9 { #expect(line.admit(at: start + .seconds(second)) == nil) }
        #expect(line.admit(at: start + .seconds(10)) == 9)
        line.reset()
        #expect(line.admit(at: start + .seconds(11)) == 0)
    }

    @Test func testDirectoriesAreRemovedAtExit() throws {
        let url = URL(fileURLWithPath: try ServiceFixtures.temporaryDirectory())
        #expect(TestDirectories.willRemove(url))
        #expect(url.lastPathComponent.hasPrefix("medley-service-tests-"))
    }
}
