import Foundation
import MedleyProtocol
import Testing

@testable import MedleyClient
@testable import MedleyService

/// The load generator against a real server: every request it counts is accounted for, and
/// the replies are recommendations, not errors.
@Suite(.serialized) struct LoadGeneratorTests {
    @Test(arguments: [LoadPattern.closedLoop(clients: 2, inFlight: 4), .openLoop(clients: 2, requestsPerSecond: 200)])
    func everyMeasuredRequestIsAnsweredWithRecommendations(pattern: LoadPattern) throws {
        let model = try ServiceFixtures.model()
        let directory = try ServiceFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try RunningServer(model: model, logDirectory: directory)
        defer { try? server.shutDown() }
        var configuration = LoadConfiguration(endpoint: server.clientEndpoint, pattern: pattern)
        configuration.seconds = 1
        configuration.warmUpSeconds = 0.3
        configuration.drainSeconds = 20
        configuration.users = 50
        let domains = model.configuration.domains
        configuration.items = zip(model.catalog.ids, model.catalog.domainOfItem).map { (domains[$1], $0) }
        let report = try LoadGenerator.run(configuration)
        #expect(report.sent > 0)
        #expect(report.errors.isEmpty, "errors: \(report.errors)")
        #expect(report.unanswered == 0)
        #expect(report.completed == report.sent)
        #expect(report.latency.p50Ms > 0 && report.latency.p50Ms <= report.latency.p99Ms && report.latency.p99Ms <= report.latency.maxMs)
        if case .openLoop(_, let rate) = pattern {
            // The schedule, not the replies, sets how many go out: 200/s for 1 s.
            #expect(abs(Double(report.sent) - rate) <= 2)
        }
    }

    @Test func ingestRunsCountTheEventsAcknowledgedDurable() throws {
        let model = try ServiceFixtures.model()
        let directory = try ServiceFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try RunningServer(model: model, logDirectory: directory)
        defer { try? server.shutDown() }
        var configuration = LoadConfiguration(endpoint: server.clientEndpoint, pattern: .closedLoop(clients: 2, inFlight: 4))
        configuration.seconds = 1
        configuration.warmUpSeconds = 0.2
        configuration.drainSeconds = 20
        configuration.ingestEventsPerRequest = 10
        let domains = model.configuration.domains
        configuration.items = zip(model.catalog.ids, model.catalog.domainOfItem).map { (domains[$1], $0) }
        let report = try LoadGenerator.run(configuration)
        #expect(report.requests == "ingest")
        #expect(report.sent > 0 && report.completed == report.sent && report.errors.isEmpty)
        #expect(report.eventsPerSecond == Double(report.completed * 10) / configuration.seconds)
    }
}
