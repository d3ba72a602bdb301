import Foundation
import Testing
import ZeroMQ

/// An OS thread for a test's peer, so a blocking peer never occupies a Swift concurrency
/// thread that the test runner needs.
final class PeerThread: Sendable {
    private let finished = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Void, file: String = #fileID, line: Int = #line) {
        let finished = finished
        let thread = Thread {
            do {
                try body()
            } catch {
                Issue.record("peer thread at \(file):\(line) failed: \(error)")
            }
            finished.signal()
        }
        thread.start()
    }

    /// Waits for the thread's body to return; fails the test if it takes longer than `seconds`.
    func join(seconds: Double = 20) {
        if finished.wait(timeout: .now() + seconds) == .timedOut {
            Issue.record("peer thread did not finish within \(seconds) s")
        }
    }
}

/// A fresh in-process endpoint name.
func inprocEndpoint(_ label: String = #function) -> String {
    "inproc://\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)"
}

/// Expects `body` to throw a ``ZMQError`` of the given kind.
func expectZMQError<R>(
    _ kind: ZMQError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(ZMQError) -> R
) {
    do {
        _ = try body()
        Issue.record("expected \(kind), nothing was thrown", sourceLocation: sourceLocation)
    } catch {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    }
}

/// The two transports every pattern is tested over.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inproc, tcp
    var testDescription: String { rawValue }

    /// Binds `socket` and returns the endpoint a peer connects to.
    func bind(_ socket: Socket, label: String = #function) throws -> String {
        switch self {
        case .inproc:
            let endpoint = inprocEndpoint(label)
            try socket.bind(endpoint)
            return endpoint
        case .tcp:
            try socket.bind("tcp://127.0.0.1:*")
            return try socket.lastEndpoint
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

extension Thread {
    /// Sleeps the calling OS thread, for bounded waits in tests' set-up.
    static func sleepBriefly(milliseconds: UInt32 = 5) {
        usleep(milliseconds * 1000)
    }
}
