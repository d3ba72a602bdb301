import MedleyProtocol

/// The envelope of a `Reply` in the plain form the load generator reads by hand
/// (``IngestAckReader``, ``RecommendReplyReader``): fields 1–3 (protocol version, request id,
/// model version) and one body field, each at most once, nothing else.
enum PlainReplyEnvelope {
    /// The request id and what `body` reads from the body field `bodyField`; nil when the reply
    /// is outside the plain form, has another body or none, or `body` returns nil.
    static func read<Body>(_ bytes: [UInt8], bodyField: Int, body: (inout PlainWireReader) -> Body?) -> (requestID: UInt64, body: Body)? {
        bytes.withUnsafeBytes { raw in
            var reply = PlainWireReader(bytes: raw, range: 0..<raw.count)
            var requestID: UInt64 = 0
            var read: Body?
            var seen: UInt32 = 0
            while !reply.isAtEnd {
                guard let (field, wire) = reply.tag(), field < 32, seen & (1 << field) == 0 else { return nil }
                seen |= 1 << field
                switch (field, wire) {
                case (1, .varint):  // protocol_version, uint32
                    guard let value = reply.varint(), UInt32(exactly: value) != nil else { return nil }
                case (2, .varint):  // request_id
                    guard let value = reply.varint() else { return nil }
                    requestID = value
                case (3, .varint):  // model_version
                    guard reply.varint() != nil else { return nil }
                case (bodyField, .lengthDelimited):
                    guard let range = reply.delimited() else { return nil }
                    var message = reply.message(in: range)
                    guard let value = body(&message) else { return nil }
                    read = value
                default:
                    return nil
                }
            }
            return read.map { (requestID, $0) }
        }
    }
}
