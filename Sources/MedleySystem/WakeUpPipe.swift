#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pipe that a poll loop waits on and any thread can make readable: how Medley wakes a
/// thread blocked in `poll(2)` or `zmq_poll` without a ZeroMQ socket crossing threads.
///
/// Both ends are non-blocking and close-on-exec. ``signal()`` writes one byte (a full pipe is
/// already readable, so it never blocks); ``drain()`` reads every byte, so the read end is
/// quiet again until the next signal.
package final class WakeUpPipe: Sendable {
    /// The read end: poll it for readability.
    package let fileDescriptor: CInt
    /// The write end, for a signal handler that writes to it directly.
    package var writeFileDescriptor: CInt { writeDescriptor }
    private let writeDescriptor: CInt

    package init() throws(SystemCallError) {
        var descriptors: [CInt] = [-1, -1]
        _ = try systemCall("pipe", path: "wake-up pipe") { pipe(&descriptors) }
        for descriptor in descriptors {
            _ = try systemCall("fcntl", path: "wake-up pipe") { fcntl(descriptor, F_SETFL, O_NONBLOCK) }
            _ = try systemCall("fcntl", path: "wake-up pipe") { fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        }
        fileDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
    }

    deinit {
        close(fileDescriptor)
        close(writeDescriptor)
    }

    /// Makes ``fileDescriptor`` readable. Safe from any thread, and from a signal handler.
    package func signal() {
        var byte: UInt8 = 1
        // EAGAIN means the pipe is full, hence readable already.
        while write(writeDescriptor, &byte, 1) < 0 && errno == EINTR {}
    }

    /// Reads every byte waiting, so that ``fileDescriptor`` is no longer readable. Never blocks.
    package func drain() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while true {
            let count = scratch.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 || (count < 0 && errno == EINTR) { continue }
            return
        }
    }

    /// Waits up to `milliseconds` (-1: for ever) for the pipe to become readable; returns
    /// whether it did. Does not drain it.
    package func wait(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        do {
            return try systemCall("poll", path: "wake-up pipe") { poll(&descriptor, 1, milliseconds) } > 0
        } catch {
            return false
        }
    }
}
