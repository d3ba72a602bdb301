import Dispatch
import Foundation

/// A named OS thread that runs one body and can be joined. For loops that block in
/// `zmq_poll` or a receive, which must not occupy a Swift concurrency thread.
package final class OwnedThread: Sendable {
    private let finished = DispatchSemaphore(value: 0)

    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        let finished = finished
        let thread = Thread {
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Waits until the body has returned. Call once.
    package func join() {
        finished.wait()
    }
}
