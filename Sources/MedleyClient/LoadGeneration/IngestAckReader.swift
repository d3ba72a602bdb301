import MedleyProtocol

/// Reads the reply a load run gets for nearly every ingest request, an acknowledgement without
/// rejections, straight from its bytes: SwiftProtobuf's general decoder cost the load
/// generator a twelfth of its CPU under ingest load.
///
/// Reads only the plain form (``PlainWireReader``): a `Reply` of fields 1–3 and an `ingest`
/// body, an `IngestAck` of `accepted` and a `durable_position` of fields 1–3, each field at
/// most once, nothing unknown, no rejections. Anything else is nil, left to SwiftProtobuf;
/// what it reads, SwiftProtobuf reads alike.
enum IngestAckReader {
    struct Acknowledgement: Equatable {
        var requestID: UInt64
        var accepted: UInt32
    }

    static func read(_ bytes: [UInt8]) -> Acknowledgement? {
        PlainReplyEnvelope.read(bytes, bodyField: 16, body: acceptedCount)  // body.ingest
            .map { Acknowledgement(requestID: $0.requestID, accepted: $0.body) }
    }

    /// An `IngestAck`'s `accepted` (0 when absent), or nil outside the plain form or with rejections.
    private static func acceptedCount(_ ack: inout PlainWireReader) -> UInt32? {
        var accepted: UInt32 = 0
        var seen: UInt8 = 0
        while !ack.isAtEnd {
            guard let (field, wire) = ack.tag(), field < 8, seen & (1 << field) == 0 else { return nil }
            seen |= 1 << field
            switch (field, wire) {
            case (1, .varint):
                guard let value = ack.varint(), let narrow = UInt32(exactly: value) else { return nil }
                accepted = narrow
            case (3, .lengthDelimited):  // durable_position: sequence, segment, offset
                guard let range = ack.delimited() else { return nil }
                var position = ack.message(in: range)
                var positionSeen: UInt8 = 0
                while !position.isAtEnd {
                    guard let (f, w) = position.tag(), (1...3).contains(f), w == .varint,
                          positionSeen & (1 << f) == 0, position.varint() != nil else { return nil }
                    positionSeen |= 1 << f
                }
            default:
                return nil
            }
        }
        return accepted
    }
}
