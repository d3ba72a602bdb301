import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: which call, on what, and the `errno` it left.
public struct SystemCallError: Error, Equatable, CustomStringConvertible {
    /// The call, e.g. `open` or `fdatasync`.
    public var operation: String
    /// The file, directory or address it acted on.
    public var path: String
    public var errno: Errno

    public init(operation: String, path: String, errno: Errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno.rawValue))) (errno \(errno.rawValue))"
    }
}

/// The one place Medley makes a system call that reports failure as -1 and `errno`.
///
/// It reads `errno` right after the failing call, retries `EINTR` (a signal is no reason to
/// fail a write or a poll), stops on `EBADF` and `EFAULT` (a closed descriptor or a bad
/// pointer can only be a bug in the caller), and throws everything else with the operation
/// and path, so every error names what failed.
@inline(__always)
package func systemCall<Result: BinaryInteger>(
    _ operation: @autoclosure () -> String,
    path: @autoclosure () -> String,
    _ body: () -> Result
) throws(SystemCallError) -> Result {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Errno(rawValue: errno)
        if code == .interrupted { continue }
        if code == .badFileDescriptor || code == .badAddress {
            preconditionFailure("\(operation()) \(path()): \(code), a bug in the caller")
        }
        throw SystemCallError(operation: operation(), path: path(), errno: code)
    }
}

/// `stat(2)` of a path, through ``systemCall(_:path:_:)``.
package func fileStatus(_ path: String) throws(SystemCallError) -> stat {
    var info = stat()
    _ = try systemCall("stat", path: path) { stat(path, &info) }
    return info
}
