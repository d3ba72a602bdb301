/// The versions of the medley.v1 protocol this code speaks.
///
/// The number moves only for a change an old peer cannot ignore (see
/// protocol/README.md); additive changes keep it.
public enum ProtocolVersion {
    /// The version sent in `Request.protocolVersion` and `Reply.protocolVersion`.
    public static let current: UInt32 = 1

    /// Every version a request may carry and still be served.
    public static let supported: ClosedRange<UInt32> = 1...1
}
