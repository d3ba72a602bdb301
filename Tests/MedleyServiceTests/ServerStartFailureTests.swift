import Foundation
import MedleySystem
import Testing

@testable import MedleyService

@Suite("server start-up failure", .serialized)
struct ServerStartFailureTests {
    /// A server that fails half-way through starting must stop what it started: before, the
    /// event log stayed open (and locked) and the worker threads kept running.
    @Test func aServerThatFailsToStartClosesItsLogSoAnotherCanOpenIt() throws {
        let logDirectory = try ServiceFixtures.temporaryDirectory()
        let holder = StopSignal()
        // Holds a port, so that the server's metrics endpoint cannot bind it.
        let occupied = try MetricsHTTPServer(address: "127.0.0.1:0", stopDescriptor: holder.fileDescriptor) { "" }
        defer {
            holder.trigger()
            occupied.join()
        }
        #expect(throws: MetricsServerError.self) {
            _ = try RunningServer(model: try ServiceFixtures.model(), logDirectory: logDirectory) {
                $0.metricsAddress = occupied.boundAddress
            }
        }
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: logDirectory)
        try server.shutDown()
    }
}
