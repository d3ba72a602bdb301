import Foundation
import Synchronization
import Testing
import ZeroMQ

@Suite("Shutdown")
struct ShutdownTests {
    @Test func blockedReceiveIsWokenByContextShutdown() throws {
        let context = try Context()
        let started = DispatchSemaphore(value: 0)
        let outcome = Mutex<ZMQError.Kind?>(nil)
        let blocked = PeerThread {
            let pull = try context.socket(.pull)
            try pull.bind(inprocEndpoint("blocked"))
            started.signal()
            do {
                _ = try pull.receive()
            } catch let error as ZMQError {
                outcome.withLock { $0 = error.kind }
            }
            pull.close()
        }
        #expect(started.wait(timeout: .now() + 10) == .success)
        Thread.sleepBriefly(milliseconds: 50)
        context.shutdown()
        blocked.join()
        #expect(outcome.withLock { $0 } == .contextTerminated)
        try context.terminate()
        #expect(context.isShutDown)
    }

    @Test func terminateDoesNotWaitForever() throws {
        // A message queued for a peer that never comes must not hold the process.
        let context = try Context(.init(defaultLingerMilliseconds: 100))
        let push = try context.socket(.push)
        try push.connect("tcp://127.0.0.1:9")
        try push.send("nobody will read this".bytes, mode: .nonBlocking)
        push.close()
        try context.terminate()
        try context.terminate()
    }

    @Test func newSocketsAreRefusedAfterShutdown() throws {
        let context = try Context()
        context.shutdown()
        context.shutdown()
        expectZMQError(.contextTerminated) { () throws(ZMQError) in try context.socket(.pull) }
    }

    @Test func operationsOnAClosedSocketFail() throws {
        let context = try Context()
        let socket = try context.socket(.dealer)
        socket.close()
        socket.close()
        #expect(socket.isClosed)
        expectZMQError(.notASocket) { () throws(ZMQError) in try socket.send("x".bytes) }
        expectZMQError(.notASocket) { () throws(ZMQError) in try socket.bind("inproc://closed") }
    }
}
