import ArgumentParser
import MedleyProtocol

/// The protocol's size limits (protocol/README.md, "Message size"), which `medley serve` and
/// `medley worker` enforce; the defaults are the documented ones.
struct ProtocolLimitOptions: ParsableArguments {
    @Option(help: "The largest request body accepted, in bytes; larger ones get MESSAGE_TOO_LARGE.")
    var maxRequestBytes: Int = ProtocolLimits.default.maxBodyBytes

    @Option(help: "The longest user, item or session id accepted in a request, in UTF-8 bytes (give workers the server's value).")
    var maxIDBytes: Int = ProtocolLimits.default.maxIDBytes

    /// Bodies up to 1 GiB: beyond, one request would cost a worker more memory than a batch of
    /// requests should.
    static let largestRequestBytes = 1 << 30

    func validate() throws {
        guard (1...Self.largestRequestBytes).contains(maxRequestBytes) else {
            throw ValidationError("--max-request-bytes must be between 1 and \(Self.largestRequestBytes)")
        }
        guard maxIDBytes > 0 else { throw ValidationError("--max-id-bytes must be positive") }
    }

    var limits: ProtocolLimits {
        ProtocolLimits(maxBodyBytes: maxRequestBytes, maxIDBytes: maxIDBytes)
    }

    /// libzmq's per-frame cap on the client socket: above the body limit, so that an oversized
    /// body still gets its error reply, and never below the broker's default.
    func socketMaxMessageBytes(default defaultBytes: Int64) -> Int64 {
        max(defaultBytes, 2 * Int64(maxRequestBytes))
    }
}
