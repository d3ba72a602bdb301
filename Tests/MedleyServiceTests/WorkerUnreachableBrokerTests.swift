import Dispatch
import Foundation
import MedleyModelDistribution
import MedleySystem
import Testing
import ZeroMQ

@testable import MedleyService

/// A worker whose connection to the broker failed its handshake on the worker's side has no
/// peer: a blocking send would wait forever, and the worker could neither reconnect nor stop.
@Suite("Worker with an unreachable broker")
struct WorkerUnreachableBrokerTests {
    @Test func aWorkerWhoseHandshakeFailedReconnectsAndStops() throws {
        let context = try Context()
        let peer = try HandshakeRefusingPeer(context: context)

        var configuration = WorkerConfiguration(brokerEndpoint: peer.endpoint, name: "refused")
        configuration.heartbeatIntervalMilliseconds = 20
        configuration.heartbeatLiveness = 5
        let worker = ServingWorker(context: context, models: ServingModel(), configuration: configuration)
        let stop = StopSignal()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            try? worker.run(until: stop.fileDescriptor)
            finished.signal()
        }
        thread.start()

        try peer.greetNextConnection()
        // The first connection is dropped; the worker's heartbeats find no peer, and it
        // connects again: the peer sees a second connection.
        try peer.greetNextConnection()
        usleep(200_000)
        stop.trigger()
        let ended = finished.wait(timeout: .now() + 20) == .success
        #expect(ended, "the worker did not stop within 20 s of being asked")
        if !ended { context.shutdown() }
    }
}
