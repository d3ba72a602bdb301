/// Bounds applied to frames from untrusted peers before and while they are decoded.
public struct ProtocolLimits: Sendable, Equatable {
    /// The largest body frame accepted, in bytes. Larger requests get
    /// `MESSAGE_TOO_LARGE` without being parsed.
    ///
    /// The default, 4 MiB, holds an ingest batch of tens of thousands of events
    /// while keeping one request's decoding cost small next to a worker's memory.
    public var maxBodyBytes: Int

    /// The deepest nesting of messages the decoder follows.
    ///
    /// medley.v1 nests at most four deep; the default, 16, leaves room for the
    /// schema to grow and still stops a crafted frame from recursing far.
    public var maxMessageDepth: Int

    /// The longest identifier (user, item, session) accepted anywhere in a request, in
    /// UTF-8 bytes: in ingested events, context events and recommend requests alike.
    public var maxIDBytes: Int

    /// Creates limits; the defaults are the protocol's documented ones.
    public init(maxBodyBytes: Int = 4 * 1024 * 1024, maxMessageDepth: Int = 16, maxIDBytes: Int = 256) {
        self.maxBodyBytes = maxBodyBytes
        self.maxMessageDepth = maxMessageDepth
        self.maxIDBytes = maxIDBytes
    }

    /// Why `value` (the field `field`) is too long for these limits, or nil.
    public func idProblem(field: String, _ value: String) -> String? {
        value.utf8.count > maxIDBytes ? "\(field) is \(value.utf8.count) bytes; at most \(maxIDBytes) are accepted" : nil
    }

    /// The limits protocol/README.md documents.
    public static let `default` = ProtocolLimits()
}
