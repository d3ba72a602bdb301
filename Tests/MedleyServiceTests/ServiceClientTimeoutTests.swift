import Dispatch
import Foundation
import MedleyClient
import MedleyProtocol
import Testing
import ZeroMQ

/// A client's call ends within its time-out whatever its connection does. When a handshake
/// fails on the client's side (the server asks for a mechanism the client does not speak),
/// libzmq drops the connection for good: the DEALER has no peer, and a blocking send waits
/// forever.
@Suite("Service client time-outs")
struct ServiceClientTimeoutTests {
    @Test func aCallAfterTheClientRefusedTheHandshakeTimesOut() throws {
        let context = try Context()
        let peer = try HandshakeRefusingPeer(context: context)
        let client = try ServiceClient(context: context, endpoint: peer.endpoint, timeoutMilliseconds: 300)
        try peer.greetNextConnection()
        // The client's I/O thread reads the greeting and drops the connection.
        usleep(300_000)

        let outcome = CallOutcome()
        let finished = DispatchSemaphore(value: 0)
        let handedOver = HandedOverClient(client: client)
        let thread = Thread {
            do {
                _ = try handedOver.client.health()
                outcome.set("answered")
            } catch {
                outcome.set("\(error)")
            }
            finished.signal()
        }
        thread.start()
        // A hung call would keep this test waiting forever: wait a bounded time instead.
        let ended = finished.wait(timeout: .now() + 20) == .success
        #expect(ended, "the call did not return within 20 s of a 300 ms time-out")
        if ended {
            #expect(outcome.value.hasPrefix("no reply within 300 ms"), "\(outcome.value)")
        }
    }
}

/// A client handed whole to the thread that calls it (a ZeroMQ socket may change threads
/// with a memory barrier between; the semaphore and thread start give one).
private struct HandedOverClient: @unchecked Sendable {
    let client: ServiceClient
}

/// What the calling thread saw.
private final class CallOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ value: String) { lock.withLock { text = value } }
    var value: String { lock.withLock { text } }
}
