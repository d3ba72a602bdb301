import MedleyProtocol

/// Reads the reply a load run gets for nearly every recommend request, a recommend body in the
/// plain form, from its bytes without building it: a run only counts the answer, and
/// SwiftProtobuf's decoder built every list's items as strings and messages, a quarter of the
/// load generator's CPU per request at 3 × 5k items.
///
/// Checks the whole reply as ``PlainWireReader`` does (each known field with its schema's wire
/// type, strings UTF-8, singular fields at most once, nothing unknown): a `Reply` of fields 1–3
/// and a `recommend` body, whose `DomainRanking`s, `RankedItem`s and probability map entries are
/// walked the same way. Anything else is nil, left to SwiftProtobuf; what it reads,
/// SwiftProtobuf reads alike.
enum RecommendReplyReader {
    /// The request id of a recommend reply in the plain form; nil for anything else.
    static func requestID(of bytes: [UInt8]) -> UInt64? {
        PlainReplyEnvelope.read(bytes, bodyField: 17, body: recommendReply)?.requestID  // body.recommend
    }

    /// A `RecommendReply` walked to its end, or nil outside the plain form.
    private static func recommendReply(_ body: inout PlainWireReader) -> Void? {
        var seen: UInt8 = 0
        while !body.isAtEnd {
            guard let (field, wire) = body.tag() else { return nil }
            switch (field, wire) {
            case (1, .lengthDelimited):  // domains, repeated DomainRanking
                guard nested(&body, domainRanking) != nil else { return nil }
            case (2, .lengthDelimited), (4, .lengthDelimited):  // session_next, blended
                guard nested(&body, rankedItem) != nil else { return nil }
            case (3, .lengthDelimited):  // next_domain_probability, map<string, float> entries
                guard nested(&body, mapEntry) != nil else { return nil }
            case (5, .varint), (6, .lengthDelimited), (7, .varint):  // model_version, session_id, request_time_ms
                guard seen & (1 << field) == 0 else { return nil }
                seen |= 1 << field
                guard (field == 6 ? body.skipString() : body.varint().map { _ in () }) != nil else { return nil }
            default:
                return nil
            }
        }
        return ()
    }

    private static func domainRanking(_ ranking: inout PlainWireReader) -> Void? {
        var domainSeen = false
        while !ranking.isAtEnd {
            guard let (field, wire) = ranking.tag() else { return nil }
            switch (field, wire) {
            case (1, .lengthDelimited):  // domain
                guard !domainSeen, ranking.skipString() != nil else { return nil }
                domainSeen = true
            case (2, .lengthDelimited):  // items
                guard nested(&ranking, rankedItem) != nil else { return nil }
            default:
                return nil
            }
        }
        return ()
    }

    /// The message a length-delimited field holds, walked by `walk`; nil when either fails.
    private static func nested(_ reader: inout PlainWireReader, _ walk: (inout PlainWireReader) -> Void?) -> Void? {
        guard let range = reader.delimited() else { return nil }
        var message = reader.message(in: range)
        return walk(&message)
    }

    /// A `RankedItem`: item_id and domain (strings), score (a float), each at most once.
    private static func rankedItem(_ item: inout PlainWireReader) -> Void? {
        singularFields(&item) { field, wire in
            switch (field, wire) {
            case (1, .lengthDelimited), (2, .lengthDelimited), (3, .fixed32): true
            default: false
            }
        }
    }

    /// A map entry: key (a string) and value (a float), each at most once.
    private static func mapEntry(_ entry: inout PlainWireReader) -> Void? {
        singularFields(&entry) { field, wire in
            switch (field, wire) {
            case (1, .lengthDelimited), (2, .fixed32): true
            default: false
            }
        }
    }

    /// A message of strings and fixed32 scalars, each field at most once and one that
    /// `expected` allows with its wire type.
    private static func singularFields(_ message: inout PlainWireReader,
                                       expected: (Int, PlainWireReader.WireType) -> Bool) -> Void? {
        var seen: UInt8 = 0
        while !message.isAtEnd {
            guard let (field, wire) = message.tag(), field < 8, seen & (1 << field) == 0, expected(field, wire) else { return nil }
            seen |= 1 << field
            switch wire {
            case .lengthDelimited: guard message.skipString() != nil else { return nil }
            case .fixed32: guard message.fixed32() != nil else { return nil }
            case .varint: guard message.varint() != nil else { return nil }
            }
        }
        return ()
    }
}
