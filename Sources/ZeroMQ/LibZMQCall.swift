import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place every fallible libzmq call goes through.
///
/// It reads the error number right after the failing call, retries `EINTR` when the caller
/// says a retry is right (a signal is no reason to drop a message), stops the process on
/// error numbers that can only mean a bug in this module (`EFAULT`: a bad pointer), and
/// throws a typed ``ZMQError`` for everything else.
@inline(__always)
func libzmqCall(
    _ operation: @autoclosure () -> String,
    retryingInterrupts: Bool = true,
    _ body: () -> CInt
) throws(ZMQError) -> CInt {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = CZeroMQ_errno()
        if code == EINTR && retryingInterrupts { continue }
        if code == EFAULT {
            preconditionFailure("\(operation()): libzmq reported EFAULT, an invalid pointer in ZeroMQ module")
        }
        throw ZMQError(code: code, operation: operation())
    }
}
